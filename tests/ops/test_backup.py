"""``manage.py backup`` / ``restore`` (docs/backup.md): one archive with the database, the
stored files and a manifest; a restore verifies everything before it changes anything,
goes only into an empty target (unless ``--force``), and checks the result."""

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from arenda.billing.models import Invoice, Payment
from arenda.billing.services import payment_record
from arenda.bookings.models import Booking, Waybill
from arenda.core.roles import Role
from arenda.core.scheduler import configured_jobs
from arenda.directory.models import Counterparty
from arenda.flows import trips
from arenda.ops import backup
from arenda.ops.tasks import backup_task
from tests import factories as f
from tests.bookings.test_waybills import job, png_bytes, sheet

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _own_folders(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "data" / "files"
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_ENCRYPTION_KEY = ""
    settings.BACKUP_KEEP = 14


@pytest.fixture
def needs_pg_tools(is_postgres):
    if is_postgres and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump / pg_restore are not installed")


def demo():
    """A few counterparties and bookings, an issued invoice with a payment, and a waybill
    with a scan stored by the real service."""
    manager = f.UserFactory(role=Role.MANAGER)
    for _ in range(3):
        f.CounterpartyFactory()
    f.BookingFactory()
    invoice = f.InvoiceFactory(issued=True)
    payment_record(
        invoice=invoice, amount=Decimal("1000.00"), on=timezone.localdate(), source="manual", reference="pp-1"
    )
    booking = job()
    scan = SimpleUploadedFile("scan.png", png_bytes(3, 3), content_type="image/png")
    trips.waybill_record(booking=booking, data=sheet(booking), by=manager, scan=scan)
    return snapshot()


def snapshot() -> dict:
    waybill = Waybill.objects.get()
    invoice = Invoice.objects.filter(number__gt="").order_by("pk").first()
    return {
        "counts": {m.__name__: m.objects.count() for m in (Counterparty, Booking, Invoice, Payment, Waybill)},
        "counterparties": sorted(Counterparty.objects.values_list("pk", "name", "inn")),
        "invoice": (invoice.pk, invoice.number, invoice.total, invoice.paid_amount),
        "payment": list(Payment.objects.values_list("pk", "amount", "reference")),
        "scan": (waybill.scan.name, waybill.scan_name, hashlib.sha256(waybill.scan.read()).hexdigest()),
        "files": stored(),
    }


def stored() -> dict:
    root = backup.media_root()
    return {p.relative_to(root).as_posix(): backup.sha256_of(p) for p in backup.stored_files()}


def wipe(settings):
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    assert not Counterparty.objects.exists() and not stored()


def members(path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def rewrite(path, contents: dict[str, bytes]):
    with tarfile.open(path, "w") as tar:
        for name, body in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))


def refused(path, match, **options):
    with pytest.raises(CommandError, match=match):
        call_command("restore", str(path), **options)


# --- the round trip ---------------------------------------------------------------------------
def _round_trip(settings, capsys):
    before = demo()
    assert len(before["files"]) == 1
    call_command("backup")
    [archive] = backup.archives()

    manifest = json.loads(members(archive)[backup.MANIFEST])
    assert manifest["vendor"] == connection.vendor
    assert manifest["row_counts"]["directory_counterparty"] == before["counts"]["Counterparty"]
    assert ["billing", "0001_initial"] in manifest["migrations"]
    scan_member = f"files/{before['scan'][0]}"
    assert manifest["files"][scan_member] == before["scan"][2]
    assert set(manifest["files"]) == {manifest["database"], scan_member}
    assert manifest["app_version"] and manifest["created_at"]

    capsys.readouterr()
    call_command("restore", str(archive), verify_only=True)
    assert "is intact" in capsys.readouterr().out and snapshot() == before

    wipe(settings)
    call_command("restore", str(archive))
    out = capsys.readouterr().out
    assert "files: 1;" in out and f"rows: {sum(manifest['row_counts'].values())}," in out
    assert snapshot() == before


def test_sqlite_round_trip_restores_the_same_rows_and_files(settings, capsys):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite round trip")
    _round_trip(settings, capsys)


@pytest.mark.postgres
def test_postgres_round_trip_restores_the_same_rows_and_files(settings, capsys, needs_pg_tools):
    _round_trip(settings, capsys)


# --- refusals: nothing changes ------------------------------------------------------------------
@pytest.fixture
def plain_archive(settings, needs_pg_tools):
    """A plain tar of the demo data, then one counterparty renamed (what a restore would undo)."""
    demo()
    path = backup.create_backup(gzip=False)
    Counterparty.objects.filter(pk=Counterparty.objects.order_by("pk").first().pk).update(
        name="After the backup"
    )
    return path


def assert_unchanged(before):
    assert snapshot() == before
    assert Counterparty.objects.filter(name="After the backup").count() == 1


def test_a_flipped_byte_in_the_dump_is_refused_and_changes_nothing(plain_archive):
    before = snapshot()
    contents = members(plain_archive)
    manifest = json.loads(contents[backup.MANIFEST])
    dump = bytearray(contents[manifest["database"]])
    dump[len(dump) // 2] ^= 0x01
    contents[manifest["database"]] = bytes(dump)
    rewrite(plain_archive, contents)
    refused(plain_archive, f"Checksum mismatch.*{manifest['database']}", verify_only=True)
    refused(plain_archive, f"Checksum mismatch.*{manifest['database']}", force=True)
    assert_unchanged(before)


def test_a_removed_member_is_refused(plain_archive):
    before = snapshot()
    contents = members(plain_archive)
    scan = next(name for name in contents if name.startswith("files/"))
    del contents[scan]
    rewrite(plain_archive, contents)
    refused(plain_archive, f"lacks members.*{scan}", force=True)
    assert_unchanged(before)


def test_an_edited_manifest_is_refused(plain_archive):
    before = snapshot()
    contents = members(plain_archive)
    manifest = json.loads(contents[backup.MANIFEST])
    manifest["row_counts"]["directory_counterparty"] += 1
    contents[backup.MANIFEST] = json.dumps(manifest).encode()
    rewrite(plain_archive, contents)
    refused(plain_archive, "manifest.json was altered", force=True)
    assert_unchanged(before)


def test_an_extra_member_is_refused(plain_archive):
    before = snapshot()
    contents = members(plain_archive)
    contents["files/planted.pdf"] = b"%PDF-1.4"
    rewrite(plain_archive, contents)
    refused(plain_archive, "not in its manifest.*planted", force=True)

    manifest = json.loads(contents[backup.MANIFEST])
    contents["secret_key"] = b"planted outside files/"
    manifest["files"].update(
        {name: hashlib.sha256(contents[name]).hexdigest() for name in ("secret_key", "files/planted.pdf")}
    )
    manifest["digest"] = backup.manifest_digest(manifest)
    contents[backup.MANIFEST] = json.dumps(manifest).encode()
    rewrite(plain_archive, contents)
    refused(plain_archive, "manifest.json is not valid", force=True)
    assert_unchanged(before)


def test_not_an_archive_is_refused(plain_archive, tmp_path):
    before = snapshot()
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar file" * 100)
    refused(junk, "Not a readable backup archive", force=True)
    refused(tmp_path / "absent.tar", "No such archive", force=True)
    half = tmp_path / "half.tar"
    half.write_bytes(plain_archive.read_bytes()[:2000])
    with pytest.raises(CommandError):
        call_command("restore", str(half), force=True)
    assert_unchanged(before)


def test_another_vendor_is_refused_pointing_to_the_docs(plain_archive):
    before = snapshot()
    contents = members(plain_archive)
    manifest = json.loads(contents[backup.MANIFEST])
    other = {"sqlite": ("postgresql", backup.PG_MEMBER), "postgresql": ("sqlite", backup.SQLITE_MEMBER)}
    manifest["vendor"], member = other[connection.vendor]
    contents[member] = contents.pop(manifest["database"])
    manifest["files"][member] = manifest["files"].pop(manifest["database"])
    manifest["database"] = member
    manifest["digest"] = backup.manifest_digest(manifest)
    contents[backup.MANIFEST] = json.dumps(manifest).encode()
    rewrite(plain_archive, contents)
    refused(plain_archive, "same kind of database.*docs/backup.md", force=True)
    assert_unchanged(before)


def test_a_non_empty_database_or_data_folder_is_refused_without_force(plain_archive, settings):
    before = snapshot()
    refused(plain_archive, "not empty.*tables with rows: billing_")
    assert_unchanged(before)

    files = stored()
    call_command("flush", interactive=False, verbosity=0)
    refused(plain_archive, f"not empty.*data folder.*holds {len(files)} file")
    assert stored() == files and not Counterparty.objects.exists()

    call_command("restore", str(plain_archive), force=True)
    assert Counterparty.objects.count() == before["counts"]["Counterparty"]
    assert not Counterparty.objects.filter(name="After the backup").exists()


# --- encryption ---------------------------------------------------------------------------------
def test_encrypted_round_trip_and_a_wrong_or_missing_key_is_refused(settings, needs_pg_tools, monkeypatch):
    monkeypatch.setattr(backup, "CHUNK", 1024)  # several chunks even for a small archive
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    before = demo()
    archive = backup.create_backup()
    assert archive.name.endswith(".tar.gz.enc")
    raw = archive.read_bytes()
    assert raw.startswith(backup.ENCRYPTED_MAGIC) and b"manifest.json" not in raw
    wipe(settings)

    key = settings.BACKUP_ENCRYPTION_KEY
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    refused(archive, "wrong key")
    settings.BACKUP_ENCRYPTION_KEY = ""
    refused(archive, "encrypted: set BACKUP_ENCRYPTION_KEY")
    settings.BACKUP_ENCRYPTION_KEY = "not a key"
    refused(archive, "not a Fernet key")
    assert not Counterparty.objects.exists() and not stored()

    settings.BACKUP_ENCRYPTION_KEY = key
    cut = archive.with_name("cut.enc")
    cut.write_bytes(raw[: len(raw) - 10])
    refused(cut, "cut short|cannot be decrypted")
    assert not Counterparty.objects.exists()

    call_command("restore", str(archive))
    assert snapshot() == before


# --- retention and the schedule -------------------------------------------------------------------
def test_retention_keeps_the_newest_n(settings, needs_pg_tools):
    made = [backup.create_backup(keep=10) for _ in range(4)]
    assert backup.archives() == made
    (settings.BACKUP_DIR / "notes.txt").write_text("kept: not an archive")
    settings.BACKUP_KEEP = 2
    newest = backup.create_backup()
    assert backup.archives() == [made[-1], newest]
    assert (settings.BACKUP_DIR / "notes.txt").exists()
    assert not [p for p in settings.BACKUP_DIR.iterdir() if p.name.startswith(".")]


def test_the_scheduled_job_resolves_and_its_task_writes_an_archive(needs_pg_tools):
    jobs = configured_jobs({"ops.backup": (86400, "arenda.ops.tasks.backup_task")})
    assert jobs["ops.backup"].task is backup_task
    path = backup_task.call()
    assert backup.archives() == [backup.backup_dir() / path.rsplit("/", 1)[-1]]


@pytest.mark.parametrize(("value", "scheduled"), [("", False), ("on", True)])
def test_backup_schedule_adds_the_daily_job(tmp_path, value, scheduled):
    code = "from arenda import settings; print(settings.PERIODIC_JOBS.get('ops.backup'))"
    env = {**os.environ, "DATA_DIR": str(tmp_path), "BACKUP_SCHEDULE": value}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    expected = "(86400, 'arenda.ops.tasks.backup_task')" if scheduled else "None"
    assert done.stdout.strip() == expected
