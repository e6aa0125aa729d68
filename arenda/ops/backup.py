"""Backup and restore of one installation: the database and the stored files in ONE archive
with a manifest that lets ``restore`` verify everything before it changes anything
(docs/backup.md).

The archive is a tar (gzip by default) holding

- ``database.sqlite3`` (SQLite, made with the online backup API while the app runs) or
  ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``);
- ``files/…``: everything under MEDIA_ROOT (waybill scans; docs/security.md, «Files»);
- ``manifest.json``: the app's version, the database vendor, the migrations applied, the
  row count of every table, the SHA-256 of every other member, the creation time, and
  the SHA-256 of the manifest itself (``digest``) so an edited manifest is refused.

With ``BACKUP_ENCRYPTION_KEY`` the whole archive is encrypted with Fernet (cryptography), in
chunks of ``CHUNK`` bytes, each numbered and authenticated, so neither side holds the
archive in memory.
"""

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

FORMAT = 1
PREFIX = "arenda-backup-"
MANIFEST = "manifest.json"
FILES = "files"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.dump"
ENCRYPTED_MAGIC = b"ARENDA-BACKUP-FERNET-1\n"
CHUNK = 4 * 1024 * 1024
# Tables a fresh ``migrate`` fills by itself: they do not make a database "not empty".
BOOKKEEPING_TABLES = frozenset(
    {"django_migrations", "django_content_type", "auth_permission", "sqlite_sequence"}
)


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why (shown to the operator)."""


@dataclass
class Restored:
    tables: int = 0
    rows: int = 0
    files: int = 0
    manifest: dict = field(default_factory=dict)


# --- helpers ------------------------------------------------------------------------------------
def backup_dir() -> Path:
    return Path(settings.BACKUP_DIR)


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_digest(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def app_version() -> str:
    try:
        version = metadata.version("arenda")
    except metadata.PackageNotFoundError:
        version = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if described.returncode == 0 and described.stdout.strip():
            version = f"{version} ({described.stdout.strip()})"
    return version


def stored_files() -> list[Path]:
    """The documents to back up: every regular file under MEDIA_ROOT except the backups."""
    root, skip = media_root(), backup_dir().resolve()
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and skip not in path.resolve().parents:
            found.append(path)
    return found


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError):
        raise BackupError(
            _("BACKUP_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes; docs/backup.md).")
        ) from None


def _pg_env_and_args() -> tuple[dict, list[str]]:
    """libpq's environment and the database name from ``DATABASES`` (the test database's
    name when run under the tests: ``connection.settings_dict`` is the live one)."""
    conf = connection.settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if conf.get(key):
            env[var] = str(conf[key])
    options = conf.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    return env, ["--dbname", str(conf["NAME"])]


def _program(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            _("%(program)s is not installed: PostgreSQL backups need it (docs/backup.md).")
            % {"program": name}
        )
    return found


def _count_rows(cursor, tables, quote) -> dict[str, int]:
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 — names from the catalogue
        counts[table] = cursor.fetchone()[0]
    return counts


def _sqlite_tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [row[0] for row in rows]


def applied_migrations() -> list[list[str]]:
    with connection.cursor() as cursor:
        if "django_migrations" not in connection.introspection.table_names(cursor):
            return []
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [list(row) for row in cursor.fetchall()]


# --- the database's dump ------------------------------------------------------------------------
def _dump_sqlite(target: Path) -> dict[str, int]:
    """An online copy of the live SQLite file (writers may go on meanwhile); the row counts
    are taken from the copy, so they are exactly the copy's."""
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        connection.connection.backup(destination)
        destination.execute("PRAGMA journal_mode = DELETE")
        quote = '"{}"'.format
        return _count_rows(
            destination.cursor(), _sqlite_tables(destination), lambda t: quote(t.replace('"', '""'))
        )
    finally:
        destination.close()


def _dump_postgres(target: Path) -> dict[str, int]:
    """``pg_dump --format=custom`` of the snapshot in which the rows are counted (exported
    from a REPEATABLE READ transaction), so the counts are exactly the dump's."""
    pg_dump = _program("pg_dump")
    env, args = _pg_env_and_args()
    if connection.in_atomic_block:
        raise BackupError(_("A PostgreSQL backup cannot run inside a transaction."))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        tables = connection.introspection.table_names(cursor)
        counts = _count_rows(cursor, tables, connection.ops.quote_name)
        done = subprocess.run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                f"--snapshot={snapshot}",
                "--file",
                str(target),
                *args,
            ],
            env=env,
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        raise BackupError(_("pg_dump failed: %(error)s") % {"error": done.stderr.strip()})
    return counts


# --- backup -------------------------------------------------------------------------------------
def archive_name(now: datetime, *, gzip: bool, encrypted: bool) -> str:
    name = f"{PREFIX}{now.strftime('%Y%m%dT%H%M%S%fZ')}.tar"
    return name + (".gz" if gzip else "") + (".enc" if encrypted else "")


def archives(directory: Path | None = None) -> list[Path]:
    """This installation's archives in ``directory``, oldest first (their names sort by time)."""
    directory = directory or backup_dir()
    if not directory.is_dir():
        return []
    return sorted(
        p for p in directory.iterdir() if p.is_file() and p.name.startswith(PREFIX) and ".tar" in p.name
    )


def prune(keep: int, directory: Path | None = None) -> list[Path]:
    """Delete all but the newest ``keep`` archives; returns the ones deleted."""
    found = archives(directory)
    doomed = found[: max(len(found) - max(keep, 1), 0)]
    for path in doomed:
        path.unlink()
    return doomed


def create_backup(
    *, directory: Path | None = None, gzip: bool = True, key: str | None = None, keep: int | None = None
) -> Path:
    """Write one archive into ``directory`` (BACKUP_DIR), then keep the newest ``keep``
    (BACKUP_KEEP). Returns the archive's path. ``key`` defaults to BACKUP_ENCRYPTION_KEY."""
    directory = Path(directory or backup_dir())
    directory.mkdir(parents=True, exist_ok=True)
    key = settings.BACKUP_ENCRYPTION_KEY if key is None else key
    fernet = _fernet(key) if key else None
    now = datetime.now(UTC)
    final = directory / archive_name(now, gzip=gzip, encrypted=bool(fernet))
    with tempfile.TemporaryDirectory(dir=directory, prefix=".work-") as work:
        work = Path(work)
        if connection.vendor == "sqlite":
            member, counts = SQLITE_MEMBER, _dump_sqlite(work / SQLITE_MEMBER)
        elif connection.vendor == "postgresql":
            member, counts = PG_MEMBER, _dump_postgres(work / PG_MEMBER)
        else:
            raise BackupError(_("Backups support SQLite and PostgreSQL only."))
        entries = [(member, work / member)]
        root = media_root()
        entries += [(f"{FILES}/{p.relative_to(root).as_posix()}", p) for p in stored_files()]
        manifest = {
            "format": FORMAT,
            "app_version": app_version(),
            "vendor": connection.vendor,
            "created_at": now.isoformat(),
            "database": member,
            "migrations": applied_migrations(),
            "row_counts": counts,
            "files": {name: sha256_of(path) for name, path in entries},
        }
        manifest["digest"] = manifest_digest(manifest)
        partial = work / "archive.part"
        with open(partial, "wb") as raw:
            sink = _EncryptingWriter(raw, fernet) if fernet else raw
            with tarfile.open(fileobj=sink, mode="w:gz" if gzip else "w", format=tarfile.PAX_FORMAT) as tar:
                for name, path in entries:
                    tar.add(path, arcname=name, recursive=False)
                body = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(now.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(body))
            if fernet:
                sink.close()
        os.chmod(partial, 0o600)
        os.replace(partial, final)
    prune(settings.BACKUP_KEEP if keep is None else keep, directory)
    return final


class _EncryptingWriter(io.RawIOBase):
    """A write-only stream: ``ENCRYPTED_MAGIC`` then, per CHUNK of plaintext, a 4-byte length
    and a Fernet token of (8-byte index, 1-byte "last" flag, data)."""

    def __init__(self, raw, fernet: Fernet):
        self.raw, self.fernet, self.buffer, self.index = raw, fernet, bytearray(), 0
        raw.write(ENCRYPTED_MAGIC)

    def writable(self):
        return True

    def write(self, data):
        self.buffer += data
        while len(self.buffer) > CHUNK:
            self._emit(bytes(self.buffer[:CHUNK]), last=False)
            del self.buffer[:CHUNK]
        return len(data)

    def _emit(self, data: bytes, *, last: bool):
        token = self.fernet.encrypt(struct.pack(">Q?", self.index, last) + data)
        self.raw.write(struct.pack(">I", len(token)) + token)
        self.index += 1

    def close(self):
        if not self.closed:
            self._emit(bytes(self.buffer), last=True)
            self.buffer.clear()
        super().close()


def _decrypt(source: Path, target: Path, key: str | None) -> None:
    if not key:
        raise BackupError(_("The archive is encrypted: set BACKUP_ENCRYPTION_KEY to its key."))
    fernet = _fernet(key)
    with open(source, "rb") as raw, open(target, "wb") as out:
        raw.read(len(ENCRYPTED_MAGIC))
        index, last = 0, False
        while not last:
            head = raw.read(4)
            if len(head) < 4:
                raise BackupError(_("The encrypted archive is cut short."))
            token = raw.read(struct.unpack(">I", head)[0])
            try:
                plain = fernet.decrypt(token)
            except InvalidToken:
                raise BackupError(
                    _("The archive cannot be decrypted: wrong key or damaged archive.")
                ) from None
            number, last = struct.unpack(">Q?", plain[:9])
            if number != index:
                raise BackupError(_("The encrypted archive's parts are out of order."))
            out.write(plain[9:])
            index += 1
        if raw.read(1):
            raise BackupError(_("The encrypted archive has data after its end."))


# --- verify -------------------------------------------------------------------------------------
def _safe_member(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def open_archive(path: Path, work: Path, key: str | None = None) -> dict:
    """Unpack ``path`` into ``work`` and verify it against its manifest; returns the
    manifest. Raises BackupError (nothing outside ``work`` is touched) when the archive is
    not one, cannot be decrypted, or any member is missing, extra or altered."""
    path = Path(path)
    key = settings.BACKUP_ENCRYPTION_KEY if key is None else key
    if not path.is_file():
        raise BackupError(_("No such archive: %(path)s") % {"path": path})
    with open(path, "rb") as handle:
        encrypted = handle.read(len(ENCRYPTED_MAGIC)) == ENCRYPTED_MAGIC
    if encrypted:
        plain = work / "archive.tar"
        _decrypt(path, plain, key)
        path = plain
    unpacked = work / "unpacked"
    unpacked.mkdir()
    try:
        with tarfile.open(path, mode="r:*") as tar:
            members = tar.getmembers()
            for member in members:
                if not member.isfile() or not _safe_member(member.name):
                    raise BackupError(
                        _("The archive holds an unexpected entry: %(name)s") % {"name": member.name}
                    )
            tar.extractall(unpacked, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, BackupError):
            raise
        raise BackupError(_("Not a readable backup archive: %(error)s") % {"error": exc}) from None
    names = {m.name for m in members}
    if MANIFEST not in names:
        raise BackupError(_("The archive has no manifest.json."))
    try:
        manifest = json.loads((unpacked / MANIFEST).read_text(encoding="utf-8"))
        listed = manifest["files"]
        required = ("format", "vendor", "database", "row_counts", "migrations", "digest")
        missing_keys = [k for k in required if k not in manifest]
    except (ValueError, KeyError, TypeError):
        raise BackupError(_("The archive's manifest.json is not valid.")) from None
    if missing_keys or manifest.get("format") != FORMAT:
        raise BackupError(_("The archive's manifest.json is not valid."))
    if manifest["digest"] != manifest_digest(manifest):
        raise BackupError(_("The archive's manifest.json was altered: its digest does not match."))
    missing = sorted(set(listed) - names)
    if missing:
        raise BackupError(
            _("The archive lacks members listed in its manifest: %(names)s") % {"names": ", ".join(missing)}
        )
    extra = sorted(names - set(listed) - {MANIFEST})
    if extra:
        raise BackupError(
            _("The archive holds members not in its manifest: %(names)s") % {"names": ", ".join(extra)}
        )
    altered = sorted(name for name, digest in listed.items() if sha256_of(unpacked / name) != digest)
    if altered:
        raise BackupError(
            _("Checksum mismatch, the archive is damaged: %(names)s") % {"names": ", ".join(altered)}
        )
    database = {"sqlite": SQLITE_MEMBER, "postgresql": PG_MEMBER}.get(manifest["vendor"])
    strays = [n for n in listed if n != database and not n.startswith(FILES + "/")]
    if manifest["database"] != database or database not in listed or strays:
        raise BackupError(_("The archive's manifest.json is not valid."))
    return manifest


def verify_archive(path: Path, key: str | None = None) -> dict:
    """Verify an archive (as ``restore`` does first) without restoring it; returns its manifest."""
    with tempfile.TemporaryDirectory(prefix="arenda-verify-") as work:
        return open_archive(path, Path(work), key)


# --- restore ------------------------------------------------------------------------------------
def not_empty() -> list[str]:
    """What stops a restore without ``--force``: tables with rows (beyond what ``migrate``
    writes by itself) and stored files; empty when the target is empty."""
    found = []
    with connection.cursor() as cursor:
        tables = [t for t in connection.introspection.table_names(cursor) if t not in BOOKKEEPING_TABLES]
        for table in sorted(tables):
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608
            if cursor.fetchone():
                found.append(table)
    if found:
        shown = ", ".join(found[:5]) + (
            _(" and %(more)d more") % {"more": len(found) - 5} if len(found) > 5 else ""
        )
        found = [_("tables with rows: %(tables)s") % {"tables": shown}]
    files = stored_files()
    if files:
        found.append(
            ngettext(
                "the data folder %(root)s holds %(count)d file",
                "the data folder %(root)s holds %(count)d files",
                len(files),
            )
            % {"root": media_root(), "count": len(files)}
        )
    return found


def _check_target(manifest: dict, *, force: bool) -> None:
    if manifest["vendor"] != connection.vendor:
        raise BackupError(
            _(
                "The archive is of a %(archive)s database and this installation uses %(here)s: "
                "restore only into the same kind of database; moving between databases is "
                "another tool (docs/backup.md, «Limits»)."
            )
            % {"archive": manifest["vendor"], "here": connection.vendor}
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    newer = sorted(f"{app}.{name}" for app, name in manifest["migrations"] if (app, name) not in known)
    if newer:
        raise BackupError(
            _(
                "The archive comes from a newer version of the app (unknown migrations: %(names)s); upgrade first."
            )
            % {"names": ", ".join(newer[:5])}
        )
    if not force:
        busy = not_empty()
        if busy:
            raise BackupError(
                _(
                    "The target is not empty (%(what)s): restore only into an empty database and data folder, or pass --force."
                )
                % {"what": "; ".join(busy)}
            )


def _restore_sqlite(dump: Path) -> None:
    target = connection.settings_dict["NAME"]
    connection.close()
    source = sqlite3.connect(dump)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
    except sqlite3.Error as exc:  # busy: the app still runs (docs/backup.md, «Restore»)
        raise BackupError(_("The database could not be written: %(error)s") % {"error": exc}) from None
    finally:
        destination.close()
        source.close()


def _restore_postgres(dump: Path) -> None:
    pg_restore = _program("pg_restore")
    env, args = _pg_env_and_args()
    connection.close()
    done = subprocess.run(
        [
            pg_restore,
            "--no-owner",
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
            *args,
            str(dump),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(_("pg_restore failed: %(error)s") % {"error": done.stderr.strip()})


def restore_backup(path: Path, *, force: bool = False, key: str | None = None) -> Restored:
    """Verify the archive, check the target (same vendor; empty unless ``force``), restore
    the database and the files, then check the rows and files against the manifest."""
    if connection.in_atomic_block:
        raise BackupError(_("A restore cannot run inside a transaction."))
    parent = backup_dir() if backup_dir().is_dir() else None
    with tempfile.TemporaryDirectory(dir=parent, prefix=".restore-") as work:
        work = Path(work)
        manifest = open_archive(path, work, key)
        _check_target(manifest, force=force)
        unpacked = work / "unpacked"
        dump = unpacked / manifest["database"]
        if manifest["vendor"] == "sqlite":
            _restore_sqlite(dump)
        else:
            _restore_postgres(dump)
        root = media_root()
        files = [name for name in manifest["files"] if name.startswith(FILES + "/")]
        for name in files:
            target = root / name[len(FILES) + 1 :]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(unpacked / name, target)
    return _verify_restored(manifest, files)


def _verify_restored(manifest: dict, files: list[str]) -> Restored:
    expected = manifest["row_counts"]
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
        absent = sorted(set(expected) - present)
        if absent:
            raise BackupError(
                _("After the restore these tables are missing: %(names)s") % {"names": ", ".join(absent)}
            )
        counts = _count_rows(cursor, expected, connection.ops.quote_name)
    differ = sorted(t for t in expected if counts[t] != expected[t])
    if differ:
        raise BackupError(
            _("After the restore the row counts differ from the manifest: %(names)s")
            % {"names": ", ".join(differ)}
        )
    root = media_root()
    bad = [n for n in files if sha256_of(root / n[len(FILES) + 1 :]) != manifest["files"][n]]
    if bad:
        raise BackupError(
            _("After the restore these files differ from the manifest: %(names)s") % {"names": ", ".join(bad)}
        )
    return Restored(tables=len(expected), rows=sum(expected.values()), files=len(files), manifest=manifest)
