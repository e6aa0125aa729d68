from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from arenda.billing import onec
from arenda.billing.models import Invoice
from arenda.billing.services import LineData, invoice_retry_sync
from arenda.directory.models import AccountingBase, VatRate
from arenda.directory.services import SERVICES
from arenda.flows import payments
from tests.factories import AccountingBaseFactory, CounterpartyFactory, OrganizationFactory
from tests.onec.conftest import control, dump, issue

S = Invoice.SyncStatus


def test_push_creates_the_catalogs_once_and_the_document_with_its_rows(fake, org, customer):
    first = issue(
        customer,
        org,
        LineData("Автокран 25 т с экипажем, 8 ч", Decimal("8"), Decimal("3500.00")),
        LineData("Доставка техники", Decimal("1"), Decimal("4999.99"), unit="усл"),
    )
    assert first.sync_status == S.PENDING
    assert onec.push_attempt(first.pk) == S.SYNCED
    second = issue(customer, org)
    assert onec.push_attempt(second.pk) == S.SYNCED

    a = dump(fake, "a")
    for catalog in (
        "Catalog_Организации",
        "Catalog_Контрагенты",
        "Catalog_ДоговорыКонтрагентов",
        "Catalog_Номенклатура",
    ):
        assert len(a[catalog]) == 1, catalog
    [organization], [counterparty], [contract], [item] = (
        a["Catalog_Организации"],
        a["Catalog_Контрагенты"],
        a["Catalog_ДоговорыКонтрагентов"],
        a["Catalog_Номенклатура"],
    )
    assert (organization["ИНН"], organization["Description"]) == (org.inn, org.name)
    assert (counterparty["ИНН"], counterparty["КПП"]) == (customer.inn, customer.kpp)
    assert counterparty["ЮридическоеФизическоеЛицо"] == "ЮридическоеЛицо"
    assert (contract["Owner_Key"], contract["Организация_Key"]) == (
        counterparty["Ref_Key"],
        organization["Ref_Key"],
    )
    assert contract["ВидДоговора"] == "СПокупателем"
    assert item["Услуга"] is True and item["Description"] == onec.SERVICE_ITEM

    documents = {d["Комментарий"]: d for d in a["Document_СчетНаОплатуПокупателю"]}
    assert len(documents) == 2
    document = documents[f"arenda-invoice-{first.pk}-{org.inn}"]
    first.refresh_from_db()
    assert (first.external_id, first.external_number) == (document["Ref_Key"], document["Number"])
    assert first.synced_at and first.sync_error == "" and first.sync_attempts == 1
    assert document["Date"] == f"{first.date.isoformat()}T00:00:00"
    assert document["Контрагент_Key"] == counterparty["Ref_Key"]
    assert document["ДоговорКонтрагента_Key"] == contract["Ref_Key"]
    assert document["СуммаВключаетНДС"] is True
    assert Decimal(str(document["СуммаДокумента"])) == first.total == Decimal("32999.99")
    rows = document["Товары"]
    assert [r["LineNumber"] for r in rows] == ["1", "2"]
    assert rows[1]["Содержание"] == "Доставка техники" and rows[1]["Номенклатура_Key"] == item["Ref_Key"]
    assert Decimal(str(rows[0]["Сумма"])) == Decimal("28000.00")
    assert Decimal(str(rows[1]["Цена"])) == Decimal("4999.99")
    assert {r["СтавкаНДС"] for r in rows} == {"НДС22"}
    assert Decimal(str(rows[0]["СуммаНДС"])) == Decimal("5049.18")  # 28000 × 22 / 122
    assert dump(fake, "b") == {}, "nothing in the other base"


@pytest.mark.parametrize(
    ("rate", "enum"), [(VatRate.VAT20, "НДС20"), (VatRate.VAT0, "НДС0"), (VatRate.NONE, "БезНДС")]
)
def test_vat_rate_goes_as_1c_enum(fake, rate, enum):
    org = OrganizationFactory(vat_rate=rate)
    base = AccountingBaseFactory(
        organization=org, odata_url=fake.base_url("v"), username="odata", password="secret-1c"
    )
    invoice = issue(CounterpartyFactory(accounting_base=base), org)
    assert onec.push_attempt(invoice.pk) == S.SYNCED
    [document] = dump(fake, "v")["Document_СчетНаОплатуПокупателю"]
    row = document["Товары"][0]
    assert row["СтавкаНДС"] == enum
    assert Decimal(str(row["СуммаНДС"])) == (
        Decimal("0") if rate in (VatRate.VAT0, VatRate.NONE) else Decimal("4666.67")
    )


def test_an_invoice_goes_to_its_counterpartys_base_else_the_default(fake, org, customer, base_b):
    own = issue(customer, org)
    other = issue(CounterpartyFactory(), org)  # no base of its own → our default (B)
    assert (own.accounting_base, other.accounting_base) == (customer.accounting_base, base_b)
    onec.push_due()
    a, b = dump(fake, "a"), dump(fake, "b")
    assert [d["Комментарий"] for d in a["Document_СчетНаОплатуПокупателю"]] == [onec.comment_for(own)]
    assert [d["Комментарий"] for d in b["Document_СчетНаОплатуПокупателю"]] == [onec.comment_for(other)]


def test_a_manual_base_needs_no_push(fake, org):
    base = AccountingBaseFactory(organization=org, kind=AccountingBase.Kind.MANUAL, odata_url="")
    invoice = issue(CounterpartyFactory(accounting_base=base), org)
    assert invoice.sync_status == S.NOT_NEEDED
    assert onec.push_due() == {"attempted": 0, "synced": 0}
    assert payments.sync_base(base.pk) == {"pushed": 0, "failed": 0, "payments": 0}
    assert fake.bases == {}


def test_500_is_retried_with_back_off_then_synced(fake, org, customer, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    invoice = issue(customer, org)
    control(fake, "a", fail="500", times=2)
    assert onec.push_attempt(invoice.pk) == S.PENDING
    invoice.refresh_from_db()
    assert "500" in invoice.sync_error and "внутренняя ошибка" in invoice.sync_error
    assert invoice.sync_next_attempt_at == timezone.now() + timedelta(minutes=1)
    assert onec.push_due() == {"attempted": 0, "synced": 0}, "not before its time"
    time_machine.shift(timedelta(minutes=1))
    assert onec.push_due() == {"attempted": 1, "synced": 0}
    invoice.refresh_from_db()
    assert invoice.sync_next_attempt_at == timezone.now() + timedelta(minutes=2)
    time_machine.shift(timedelta(minutes=2))
    assert onec.push_due() == {"attempted": 1, "synced": 1}
    invoice.refresh_from_db()
    assert (invoice.sync_status, invoice.sync_attempts, invoice.sync_error) == (S.SYNCED, 3, "")
    assert len(dump(fake, "a")["Document_СчетНаОплатуПокупателю"]) == 1


def test_a_timeout_is_retried_and_makes_one_document(fake, org, customer, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    invoice = issue(customer, org)
    control(fake, "a", fail="timeout", times=1, delay=1.5)
    assert onec.push_attempt(invoice.pk) == S.PENDING
    invoice.refresh_from_db()
    assert "did not answer in time" in invoice.sync_error
    time_machine.shift(timedelta(minutes=1))
    assert onec.push_due()["synced"] == 1
    assert len(dump(fake, "a")["Document_СчетНаОплатуПокупателю"]) == 1


@pytest.mark.parametrize("lost", [1, 5])
def test_answers_lost_after_the_write_leave_exactly_one_of_everything(
    fake, org, customer, time_machine, lost
):
    """1 — the document's answer is lost (the catalogs are there already); 5 — every
    create's answer is lost, one after another: organization, counterparty, contract,
    item, document."""
    time_machine.move_to(timezone.now(), tick=False)
    if lost == 1:
        onec.push_attempt(issue(customer, org).pk)
    invoice = issue(customer, org)
    control(fake, "a", fail="drop_after_write", times=lost)
    for _attempt in range(lost):
        assert onec.push_attempt(invoice.pk, force=True) == S.PENDING
    invoice.refresh_from_db()
    assert "No answer from 1C" in invoice.sync_error
    assert onec.push_attempt(invoice.pk, force=True) == S.SYNCED
    a = dump(fake, "a")
    for catalog in (
        "Catalog_Организации",
        "Catalog_Контрагенты",
        "Catalog_ДоговорыКонтрагентов",
        "Catalog_Номенклатура",
    ):
        assert len(a[catalog]) == 1, catalog
    ours = [d for d in a["Document_СчетНаОплатуПокупателю"] if d["Комментарий"] == onec.comment_for(invoice)]
    assert len(ours) == 1
    invoice.refresh_from_db()
    assert (invoice.sync_status, invoice.external_id) == (S.SYNCED, ours[0]["Ref_Key"])


def test_wrong_password_fails_readably_and_stops_until_the_base_is_fixed(
    fake, org, customer, base_a, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    base_a.password = "wrong"
    base_a.save()
    invoice = issue(customer, org)
    assert onec.push_attempt(invoice.pk) == S.FAILED
    invoice.refresh_from_db()
    assert "refused the user name or password" in invoice.sync_error and "401" in invoice.sync_error
    assert invoice.sync_next_attempt_at is None
    later = issue(customer, org)
    asked = fake.base("a").requests
    for _minute in range(90):
        time_machine.shift(timedelta(minutes=1))
        onec.push_due()
        payments.pull_payments(base_a.pk)
    assert fake.base("a").requests == asked + 1, "the new invoice asked once, and nothing else"
    later.refresh_from_db()
    assert later.sync_status == S.FAILED and later.sync_attempts == 1

    time_machine.shift(timedelta(seconds=1))
    _create, update, _delete = SERVICES[AccountingBase]
    update(instance=base_a, by=None, password="secret-1c")
    onec.push_due()
    for each in (invoice, later):
        each.refresh_from_db()
        assert each.sync_status == S.SYNCED


def test_retry_by_hand_asks_once(fake, org, customer, base_a):
    base_a.password = "wrong"
    base_a.save()
    invoice = issue(customer, org)
    onec.push_attempt(invoice.pk)
    asked = fake.base("a").requests
    invoice_retry_sync(invoice=invoice, by=None)
    assert onec.push_attempt(invoice.pk) == S.FAILED  # what the queued task does
    assert fake.base("a").requests == asked + 1


def test_1c_down_for_an_hour_then_back(fake, org, customer, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    control(fake, "a", fail="down", times=10_000)
    invoices = [issue(customer, org), issue(customer, org)]
    for _minute in range(60):
        onec.push_due()
        time_machine.shift(timedelta(minutes=1))
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.sync_status == S.PENDING
        assert "No answer from 1C" in invoice.sync_error
        assert invoice.sync_attempts == 6  # at 0, 1, 3, 7, 15, 31 minutes; the next at 63
    control(fake, "a", fail="none")
    time_machine.shift(timedelta(minutes=4))
    assert onec.push_due() == {"attempted": 2, "synced": 2}
    assert len(dump(fake, "a")["Document_СчетНаОплатуПокупателю"]) == 2


def test_giving_up_after_about_a_day(fake, org, customer, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    control(fake, "a", fail="500", times=10_000)
    invoice = issue(customer, org)
    for _hour in range(48):
        onec.push_due()
        time_machine.shift(timedelta(hours=1))
    invoice.refresh_from_db()
    assert invoice.sync_status == S.FAILED and invoice.sync_attempts == onec.MAX_ATTEMPTS
    assert invoice.sync_error.startswith("Gave up after 30 attempts")


def test_an_entity_set_not_published_fails_with_1c_words(fake, org, customer):
    control(fake, "a", unpublish=["Catalog_Номенклатура"])
    invoice = issue(customer, org)
    assert onec.push_attempt(invoice.pk) == S.FAILED
    invoice.refresh_from_db()
    assert "404" in invoice.sync_error and "Catalog_Номенклатура" in invoice.sync_error
    assert "published" in invoice.sync_error


def test_a_push_in_flight_is_not_started_twice(fake, org, customer):
    invoice = issue(customer, org)
    claim = onec._claim(invoice.pk, force=False)
    assert claim is not None
    assert onec.push_attempt(invoice.pk, force=True) is None
    assert fake.base("a").requests == 0
