import random
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from arenda.billing.models import Invoice
from arenda.bookings.models import Booking, Waybill
from arenda.core.models import User
from arenda.core.roles import Role
from arenda.core.validators import (
    account_is_valid,
    inn_is_valid,
    normalize_phone,
    ogrn_is_valid,
    plate_is_valid,
    validate_kpp,
)
from arenda.demo.requisites import Requisites, Scatter
from arenda.demo.seed import DEMO_1C_PASSWORD, DEMO_USERS, fake_1c_url
from arenda.directory.models import (
    AccountingBase,
    Contact,
    Counterparty,
    Driver,
    EquipmentType,
    MaintenanceWindow,
    Organization,
    Supplier,
    Unit,
)

BUSINESS_MODELS = [
    Organization,
    AccountingBase,
    Counterparty,
    Contact,
    Supplier,
    Unit,
    MaintenanceWindow,
    Driver,
]


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in [User, EquipmentType, *BUSINESS_MODELS]}


@pytest.fixture
def demo(db):
    return seed()


def test_default_run_builds_the_company(demo):
    made = counts()
    assert 30 <= made.pop("Contact") <= 100 and made.pop("MaintenanceWindow") >= 2
    assert made == {
        "User": 5,
        "EquipmentType": 8,
        "Organization": 2,
        "AccountingBase": 2,
        "Counterparty": 40,
        "Supplier": 3,
        "Unit": 31,
        "Driver": 20,
    }
    assert Unit.objects.filter(owner=Unit.Owner.OWN).count() == 25
    assert Unit.objects.filter(owner=Unit.Owner.SUPPLIER, supplier__isnull=False).count() == 6
    assert Unit.objects.values("equipment_type").distinct().count() >= 6
    assert {u.plate[0].isdigit() for u in Unit.objects.all()} == {True, False}  # both plate formats

    osn, usn = Organization.objects.get(vat_rate="22"), Organization.objects.get(vat_rate="none")
    assert len(osn.inn) == 10 and osn.kpp and len(usn.inn) == 12
    for org in (osn, usn):
        base = org.default_accounting_base
        assert base.organization == org and base.kind == "odata"
        assert base.odata_url.startswith("http://127.0.0.1:8081/") and base.odata_url.endswith(
            "/odata/standard.odata/"
        )
        assert base.password == DEMO_1C_PASSWORD

    kinds = {kind: Counterparty.objects.filter(kind=kind).count() for kind in Counterparty.Kind.values}
    assert all(kinds.values()) and kinds["legal"] > kinds["sole_trader"] > kinds["person"]
    assert 0.5 <= Counterparty.objects.filter(accounting_base__isnull=False).count() / 40 <= 0.9
    assert Counterparty.objects.filter(prepayment_required=False).exists()
    assert {c.payment_terms_days for c in Counterparty.objects.all()} <= set(range(31))
    for cp in Counterparty.objects.exclude(kind="person"):
        assert 1 <= cp.contacts.count() <= 3

    today = timezone.localdate()
    validity = [d.license_valid_until for d in Driver.objects.all()]
    assert any(v < today for v in validity) and any(today <= v < today + timedelta(days=30) for v in validity)
    assert {d.employment for d in Driver.objects.all()} == {"staff", "contractor"}
    for window in MaintenanceWindow.objects.all():
        assert window.start > timezone.now() and window.end > window.start
        assert timezone.localtime(window.start).hour == 8

    assert Counterparty.history.filter(history_type="+", history_user__username="admin").count() == 40
    assert "admin" in demo and "demo12345" in demo


def test_every_record_passes_full_clean(demo):
    for model in BUSINESS_MODELS:
        for obj in model.objects.all():
            obj.full_clean()


def test_every_role_logs_in(demo, client):
    for login, role, _name in DEMO_USERS:
        user = User.objects.get(username=login)
        assert user.role == role and user.full_name
        assert client.login(request=HttpRequest(), username=login, password="demo12345")
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert {u.role for u in User.objects.all()} == set(Role.values)


def test_password_option(db, client):
    seed("--password", "other-pass-1")
    assert client.login(request=HttpRequest(), username="manager2", password="other-pass-1")


def test_if_empty_is_idempotent(demo):
    before = counts()
    out = seed("--if-empty")
    assert counts() == before
    assert gettext("demo data already present") in out and "accountant" in out


def test_refuses_a_non_empty_database_without_if_empty(demo):
    with pytest.raises(CommandError):
        seed()


def test_scale_multiplies(db):
    seed("--scale", "2")
    assert Counterparty.objects.count() == 80
    assert Unit.objects.filter(owner="own").count() == 50
    assert Supplier.objects.count() == 6
    assert Driver.objects.count() == 40
    assert Organization.objects.count() == 2 and User.objects.count() == 5


class _Rollback(Exception):
    pass


def test_runs_are_repeatable(db):
    snapshots = []
    for _ in range(2):
        with pytest.raises(_Rollback), transaction.atomic():
            seed("--scale", "2")
            snapshots.append(
                [
                    list(
                        Counterparty.objects.order_by("inn", "name").values_list(
                            "inn", "name", "phone", "account"
                        )
                    ),
                    list(Unit.objects.order_by("plate").values_list("plate", "name")),
                    list(Driver.objects.order_by("phone").values_list("full_name", "phone")),
                ]
            )
            raise _Rollback
    assert snapshots[0] == snapshots[1]


def test_bulk_run_without_full_clean_still_validates(db):
    """Above the full_clean limit the rows go in unchecked; a sample must still be valid."""
    seed("--counterparties", "1500", "--units", "300")
    assert Counterparty.objects.count() == 1500 and Unit.objects.filter(owner="own").count() == 300
    rng = random.Random(7)
    for model, size in [(Counterparty, 120), (Contact, 120), (Unit, 60), (Driver, 20)]:
        pks = list(model.objects.values_list("pk", flat=True))
        for obj in model.objects.filter(pk__in=rng.sample(pks, size)):
            obj.full_clean()


def test_requisites_are_unique_and_valid_at_scale():
    req = Requisites(salt=1)
    legal = [req.legal("77" if i % 3 else "50", 2010 + i % 14) for i in range(100_000)]
    private = [req.private("50", 2015) for _ in range(30_000)]
    accounts = [req.account("044525225") for _ in range(100_000)]
    plates = [req.plate("77") for _ in range(20_000)] + [req.tractor_plate("50") for _ in range(20_000)]
    assert len({inn for inn, _kpp, _ogrn in legal}) == len(legal)
    assert len({ogrn for _inn, _kpp, ogrn in legal}) == len(legal)
    assert len({inn for inn, _ogrnip in private}) == len(private)
    assert len(set(accounts)) == len(accounts)
    assert len(set(plates)) == len(plates)
    for inn, kpp, ogrn in legal[::97]:
        assert inn_is_valid(inn) and len(inn) == 10 and ogrn_is_valid(ogrn) and len(ogrn) == 13
        validate_kpp(kpp)
    for inn, ogrnip in private[::97]:
        assert inn_is_valid(inn) and len(inn) == 12 and ogrn_is_valid(ogrnip) and len(ogrnip) == 15
    assert all(account_is_valid(a, "044525225") for a in accounts[::97])
    assert all(plate_is_valid(p) for p in plates[::37])


@pytest.mark.parametrize(("size", "salt"), [(1, 0), (7, 1), (1000, 2), (999 * 12**2, 3)])
def test_scatter_is_a_permutation(size, salt):
    assert sorted(map(Scatter(size, salt), range(size))) == list(range(size))
    with pytest.raises(OverflowError):
        Scatter(size, salt)(size)


def test_fake_1c_url_follows_the_environment(monkeypatch):
    monkeypatch.setenv("FAKE_1C_URL", "http://fake-1c:9000/")
    assert fake_1c_url("spectech") == "http://fake-1c:9000/spectech/odata/standard.odata/"


def test_generated_phones_are_e164(demo):
    phones = [c.phone for c in Contact.objects.all()] + [d.phone for d in Driver.objects.all()]
    assert all(normalize_phone(p) == p for p in phones)


def test_the_demo_company_has_acts_signed_issued_and_drafts(demo):
    from arenda.billing.models import Act  # noqa: PLC0415 — beside the directory models above

    by_status = {status: Act.objects.filter(status=status).count() for status in Act.Status.values}
    assert by_status["signed"] >= 1 and by_status["issued"] >= 1 and by_status["draft"] >= 1
    signed = Act.objects.filter(status="signed").first()
    assert signed.number and signed.signed_by_name and signed.signed_on >= signed.date
    assert all(act.lines.exists() for act in Act.objects.all())


def test_no_jobs_builds_the_company_without_bookings_or_invoices(db):
    """The benchmark's dataset starts from the company alone (bench/dataset.py): the demo's
    own bookings would collide with the generated ones and miscount the dataset."""
    seed("--no-jobs")
    assert Unit.objects.exists() and Driver.objects.exists() and Counterparty.objects.exists()
    assert not Booking.objects.exists() and not Waybill.objects.exists() and not Invoice.objects.exists()
