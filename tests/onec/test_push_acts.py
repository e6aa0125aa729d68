"""Closing documents to 1C (``billing/onec.py``, docs/onec-documents.md): the sale posted in the
counterparty's base with its rows and the invoice link, exactly once after a lost answer, the
same back-off, refusals and "sync now" as invoices, the invoice-facture, the correction, and
the deletion mark of a cancelled one."""

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from arenda.billing import acts, onec
from arenda.billing.models import Act
from arenda.billing.services import act_retry_sync
from arenda.core.roles import Role
from arenda.directory.models import AccountingBase, VatRate
from arenda.directory.services import SERVICES
from arenda.flows import payments
from arenda.flows.trips import waybill_update
from arenda.integrations.onec.client import Client, Refused
from tests.billing.test_acts import worked
from tests.bookings.test_waybills import job
from tests.factories import AccountingBaseFactory, CounterpartyFactory, OrganizationFactory
from tests.onec.conftest import PASSWORD, USER, control, dump

S = Act.SyncStatus
D = Decimal
CATALOGS = (
    "Catalog_Организации",
    "Catalog_Контрагенты",
    "Catalog_ДоговорыКонтрагентов",
    "Catalog_Номенклатура",
)


def closing(customer, org, *, hours="8", push_invoice=True):
    """A booking of ``customer`` sold by ``org`` with its waybill (which issues its invoice,
    pushed to 1C unless ``push_invoice`` is false) and its act issued."""
    booking = job(rate="3500.00")
    deal = booking.deal
    deal.counterparty, deal.organization = customer, org
    deal.save()
    recorded = worked(booking, hours=hours)
    act = acts.act_issue(act=Act.objects.get(booking_links__booking=booking), by=None)
    invoice = act.invoices.get()
    if push_invoice:
        onec.push_attempt(invoice.pk)
    return act, invoice, recorded


def sales(fake, base) -> dict:
    return httpx.get(f"{fake.url}/_sales", params={"base": base}).json()


def test_an_issued_act_is_a_posted_sale_in_its_counterpartys_base_linked_to_the_invoice(
    fake, org, customer, base_b
):
    act, invoice, _recorded = closing(customer, org, push_invoice=False)
    assert act.sync_status == S.PENDING and act.accounting_base == customer.accounting_base
    assert onec.push_attempt(invoice.pk) == S.SYNCED
    assert onec.push_act_attempt(act.pk) == S.SYNCED

    a = dump(fake, "a")
    for catalog in CATALOGS:
        assert len(a[catalog]) == 1, catalog  # found, not made again
    [sale] = a[onec.SALE_SET]
    invoice.refresh_from_db()
    act.refresh_from_db()
    assert sale["Комментарий"] == f"arenda-act-{act.pk}-{org.inn}" == onec.act_comment_for(act)
    assert (act.external_id, act.external_number) == (sale["Ref_Key"], sale["Number"])
    assert act.synced_at and act.sync_error == "" and act.sync_attempts == 1
    assert sale["Posted"] is True and sale["ВидОперации"] == "Услуги"
    assert sale["СчетНаОплатуПокупателю_Key"] == invoice.external_id
    assert sale["Date"] == f"{act.date.isoformat()}T00:00:00"
    assert sale["Контрагент_Key"] == a["Catalog_Контрагенты"][0]["Ref_Key"]
    assert sale["ДоговорКонтрагента_Key"] == a["Catalog_ДоговорыКонтрагентов"][0]["Ref_Key"]
    assert sale["СуммаВключаетНДС"] is True and D(str(sale["СуммаДокумента"])) == act.total == D("28000.00")
    [row] = sale["Услуги"]
    line = act.lines.get()
    assert row["LineNumber"] == "1" and row["Содержание"] == line.description
    assert row["Номенклатура_Key"] == a["Catalog_Номенклатура"][0]["Ref_Key"]
    assert (D(str(row["Количество"])), D(str(row["Цена"])), D(str(row["Сумма"]))) == (
        D("8"),
        D("3500"),
        D("28000"),
    )
    assert row["СтавкаНДС"] == "НДС22" and D(str(row["СуммаНДС"])) == D("5049.18")
    assert sales(fake, "a")["counted"] == {sale["Контрагент_Key"]: 28000}
    assert a[onec.FACTURE_SET] == [], "not wanted by the base"

    other, other_invoice, _rec = closing(CounterpartyFactory(), org)  # no base of its own → our default (B)
    assert other.accounting_base == base_b
    assert onec.push_due() == {"attempted": 1, "synced": 1}
    [elsewhere] = dump(fake, "b")[onec.SALE_SET]
    assert elsewhere["Комментарий"] == onec.act_comment_for(other) and elsewhere["Posted"] is True
    other_invoice.refresh_from_db()
    assert elsewhere["СчетНаОплатуПокупателю_Key"] == other_invoice.external_id != ""


def test_issuing_queues_the_push(fake, org, customer, django_capture_on_commit_callbacks):
    default_task_backend.clear()
    with django_capture_on_commit_callbacks(execute=True):
        act, _invoice, _recorded = closing(customer, org)
    queued = [(r.task.name, r.args) for r in default_task_backend.results]
    assert ("push_act", [act.pk]) in queued


def test_a_lost_answer_makes_one_sale_posted_by_the_retry(fake, org, customer, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    first, _invoice, _recorded = closing(customer, org)
    onec.push_act_attempt(first.pk)  # the catalogs exist: the next create is the sale itself
    act, _invoice, _recorded = closing(customer, org)
    control(fake, "a", fail="drop_after_write", times=1)
    assert onec.push_act_attempt(act.pk) == S.PENDING
    act.refresh_from_db()
    assert "No answer from 1C" in act.sync_error
    [made] = [d for d in dump(fake, "a")[onec.SALE_SET] if d["Комментарий"] == onec.act_comment_for(act)]
    assert made["Posted"] is False, "made, its answer lost, not posted yet"
    assert sales(fake, "a")["unposted"] == [made["Ref_Key"]], "visible as unposted, counting nothing"
    time_machine.shift(timedelta(minutes=1))
    assert onec.push_due() == {"attempted": 1, "synced": 1}
    ours = [d for d in dump(fake, "a")[onec.SALE_SET] if d["Комментарий"] == onec.act_comment_for(act)]
    assert len(ours) == 1 and ours[0]["Posted"] is True
    act.refresh_from_db()
    assert (act.sync_status, act.external_id, act.sync_attempts) == (S.SYNCED, ours[0]["Ref_Key"], 2)
    assert sales(fake, "a")["unposted"] == []


def test_500_is_retried_with_back_off(fake, org, customer, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    act, _invoice, _recorded = closing(customer, org)
    control(fake, "a", fail="500", times=1)
    assert onec.push_act_attempt(act.pk) == S.PENDING
    act.refresh_from_db()
    assert "500" in act.sync_error and act.sync_next_attempt_at == timezone.now() + timedelta(minutes=1)
    assert onec.push_due() == {"attempted": 0, "synced": 0}, "not before its time"
    time_machine.shift(timedelta(minutes=1))
    assert onec.push_due() == {"attempted": 1, "synced": 1}
    assert len(dump(fake, "a")[onec.SALE_SET]) == 1


def test_a_refused_login_fails_the_act_and_the_base_until_it_is_edited(
    fake, org, customer, base_a, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    base_a.password = "wrong"
    base_a.save()
    act, _invoice, _recorded = closing(customer, org)
    assert onec.push_act_attempt(act.pk) == S.FAILED
    act.refresh_from_db()
    assert "refused the user name or password" in act.sync_error and act.sync_next_attempt_at is None
    asked = fake.base("a").requests
    for _minute in range(10):
        time_machine.shift(timedelta(minutes=1))
        onec.push_due()
    assert fake.base("a").requests == asked, "nothing is retried by itself"
    time_machine.shift(timedelta(seconds=1))
    _create, update, _delete = SERVICES[AccountingBase]
    update(instance=base_a, by=None, password="secret-1c")
    onec.push_due()
    act.refresh_from_db()
    assert act.sync_status == S.SYNCED


def test_sync_now_pushes_the_invoice_then_the_act_that_links_it(fake, org, customer, base_a):
    base_a.password = "wrong"
    base_a.save()
    act, invoice, _recorded = closing(customer, org, push_invoice=False)
    assert onec.push_act_attempt(act.pk) == S.FAILED
    assert onec.push_attempt(invoice.pk) == S.FAILED
    base_a.password = "secret-1c"
    base_a.save()
    assert payments.sync_base(base_a.pk) == {"pushed": 2, "failed": 0, "payments": 0}
    invoice.refresh_from_db()
    [sale] = dump(fake, "a")[onec.SALE_SET]
    assert sale["СчетНаОплатуПокупателю_Key"] == invoice.external_id != ""


def test_retry_by_hand_queues_a_failed_act(fake, org, customer, base_a):
    control(fake, "a", unpublish=[onec.SALE_SET])
    act, _invoice, _recorded = closing(customer, org)
    assert onec.push_act_attempt(act.pk) == S.FAILED
    act.refresh_from_db()
    assert "404" in act.sync_error and onec.SALE_SET in act.sync_error
    control(fake, "a", unpublish=[])
    act_retry_sync(act=act, by=None)
    assert onec.push_act_attempt(act.pk) == S.SYNCED


def test_the_invoice_facture_when_the_base_wants_it(fake, org, customer, base_a):
    base_a.wants_invoice_facture = True
    base_a.save()
    act, _invoice, _recorded = closing(customer, org)
    assert onec.push_act_attempt(act.pk) == S.SYNCED
    a = dump(fake, "a")
    [sale], [facture] = a[onec.SALE_SET], a[onec.FACTURE_SET]
    assert facture["ДокументОснование"] == sale["Ref_Key"]
    assert facture["ДокументОснование_Type"] == f"StandardODATA.{onec.SALE_SET}"
    assert facture["ВидСчетаФактуры"] == "НаРеализацию" and facture["Posted"] is True
    assert facture["Комментарий"] == onec.act_comment_for(act)
    assert (facture["Организация_Key"], facture["Контрагент_Key"]) == (
        sale["Организация_Key"],
        sale["Контрагент_Key"],
    )
    assert D(str(facture["СуммаДокумента"])) == act.total
    act.refresh_from_db()
    assert (act.facture_external_id, act.facture_external_number) == (facture["Ref_Key"], facture["Number"])


def test_no_invoice_facture_without_vat(fake, customer, base_a):
    base_a.wants_invoice_facture = True
    base_a.save()
    untaxed = OrganizationFactory(vat_rate=VatRate.NONE)
    act, _invoice, _recorded = closing(customer, untaxed)
    assert act.vat_rate == VatRate.NONE and act.accounting_base == base_a
    assert onec.push_act_attempt(act.pk) == S.SYNCED
    a = dump(fake, "a")
    [sale] = a[onec.SALE_SET]
    assert a[onec.FACTURE_SET] == [] and sale["Услуги"][0]["СтавкаНДС"] == "БезНДС"
    act.refresh_from_db()
    assert act.facture_external_id == ""


def test_a_correction_is_a_posted_sale_correction_naming_the_sale(fake, org, customer, base_a):
    base_a.wants_invoice_facture = True
    base_a.save()
    act, _invoice, recorded = closing(customer, org)
    waybill_update(
        waybill=recorded.waybill, data={"hours": D("10")}, by=recorded.waybill.booking.deal.manager
    )
    correction = acts.act_issue(act=Act.objects.get(corrects=act), by=None)
    assert correction.sync_status == S.PENDING
    assert onec.push_act_attempt(correction.pk) == S.PENDING, "waits for the corrected act"
    correction.refresh_from_db()
    assert "not in 1C yet" in correction.sync_error
    assert onec.push_act_attempt(act.pk) == S.SYNCED
    assert onec.push_act_attempt(correction.pk, force=True) == S.SYNCED

    a = dump(fake, "a")
    [sale] = a[onec.SALE_SET]
    [fix] = a[onec.SALE_CORRECTION_SET]
    assert fix["ДокументРеализации_Key"] == sale["Ref_Key"] and fix["Posted"] is True
    assert fix["ВидОперации"] == "КорректировкаПоСогласованиюСторон"
    assert fix["Комментарий"] == onec.act_comment_for(correction)
    [row] = fix["Услуги"]
    assert (D(str(row["КоличествоДоКорректировки"])), D(str(row["Количество"]))) == (D("8"), D("10"))
    assert (D(str(row["СуммаДоКорректировки"])), D(str(row["Сумма"]))) == (D("28000"), D("35000"))
    assert D(str(fix["СуммаДокумента"])) == correction.total == D("7000.00")
    kinds = sorted(f["ВидСчетаФактуры"] for f in a[onec.FACTURE_SET])
    assert kinds == ["Корректировочный", "НаРеализацию"]
    counted = sales(fake, "a")["counted"]
    assert counted == {sale["Контрагент_Key"]: 35000}


def test_the_sweep_pushes_an_act_whose_task_was_lost(fake, org, customer):
    act, _invoice, _recorded = closing(customer, org)  # the task never ran (no commit here)
    assert onec.push_due() == {"attempted": 1, "synced": 1}
    act.refresh_from_db()
    assert act.sync_status == S.SYNCED and act.external_id


def test_an_act_cancelled_after_it_went_to_1c_is_marked_for_deletion_there(fake, org, customer, base_a):
    base_a.wants_invoice_facture = True
    base_a.save()
    act, _invoice, _recorded = closing(customer, org)
    onec.push_act_attempt(act.pk)
    acts.act_cancel(act=act, reason="wrong customer", by=None)
    assert onec.push_due() == {"attempted": 1, "synced": 0}
    a = dump(fake, "a")
    [sale], [facture] = a[onec.SALE_SET], a[onec.FACTURE_SET]
    assert sale["DeletionMark"] is True and sale["Posted"] is False
    assert facture["DeletionMark"] is True and facture["Posted"] is False
    assert sales(fake, "a")["counted"] == {}
    act.refresh_from_db()
    assert act.sync_status == S.NOT_NEEDED and act.external_id == sale["Ref_Key"]
    asked = fake.base("a").requests
    onec.push_due()
    assert fake.base("a").requests == asked, "once"


def test_an_act_cancelled_before_its_push_asks_nothing(fake, org, customer):
    act, _invoice, _recorded = closing(customer, org)
    acts.act_cancel(act=act, reason="wrong customer", by=None)
    asked = fake.base("a").requests
    assert onec.push_due() == {"attempted": 1, "synced": 0}
    act.refresh_from_db()
    assert act.sync_status == S.NOT_NEEDED and fake.base("a").requests == asked


def test_a_manual_base_needs_no_act_push(fake, org):
    base = AccountingBaseFactory(organization=org, kind=AccountingBase.Kind.MANUAL, odata_url="")
    act, _invoice, _recorded = closing(CounterpartyFactory(accounting_base=base), org)
    assert act.sync_status == S.NOT_NEEDED
    assert onec.push_due() == {"attempted": 0, "synced": 0} and fake.bases == {}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"ВидОперации": "Аренда"}, "перечисления"),
        ({"Услуги": [{"LineNumber": 1, "Срок": 1}]}, "Срок"),
    ],
)
def test_the_fake_refuses_what_1c_refuses_on_a_sale(fake, body, words):
    with Client(fake.base_url("x"), USER, PASSWORD) as client:
        with pytest.raises(Refused, match=words):
            client.create(onec.SALE_SET, body)
        empty = client.create(onec.SALE_SET, {"Комментарий": "x"})
        with pytest.raises(Refused, match="табличная часть"):
            client.post_document(onec.SALE_SET, empty["Ref_Key"])
        with pytest.raises(Refused, match="ДокументОснование_Type"):
            client.create(
                onec.FACTURE_SET,
                {
                    "ДокументОснование": empty["Ref_Key"],
                    "ДокументОснование_Type": "StandardODATA.Catalog_Организации",
                },
            )
        facture = client.create(
            onec.FACTURE_SET,
            {
                "ДокументОснование": empty["Ref_Key"],
                "ДокументОснование_Type": f"StandardODATA.{onec.SALE_SET}",
            },
        )
        with pytest.raises(Refused, match="не проведен"):
            client.post_document(onec.FACTURE_SET, facture["Ref_Key"])


def test_the_sync_page_lists_waiting_and_failed_acts_with_retry(fake, org, customer, base_a, make_user):
    waiting, _invoice, _recorded = closing(customer, org)
    control(fake, "a", unpublish=[onec.SALE_SET])
    failed, _invoice, _recorded = closing(customer, org)
    assert onec.push_act_attempt(failed.pk) == S.FAILED
    client = DjangoClient(headers={"Accept-Language": "en"})
    client.force_login(make_user(Role.ACCOUNTANT))
    html = client.get(reverse("billing:sync")).content.decode()
    assert str(waiting) in html and str(failed) in html and onec.SALE_SET in html
    assert reverse("billing:sync_act_retry", args=[failed.pk]) in html
    assert reverse("billing:sync_act_retry", args=[waiting.pk]) not in html
    assert "Closing documents waiting" in html

    control(fake, "a", unpublish=[])
    answer = client.post(reverse("billing:sync_act_retry", args=[failed.pk]), follow=True)
    assert "queued for 1C again" in answer.content.decode()
    failed.refresh_from_db()
    assert failed.sync_status == S.PENDING
    again = client.post(reverse("billing:sync_act_retry", args=[failed.pk]), follow=True)
    assert "Only a closing document whose 1C push failed" in again.content.decode()
    director = DjangoClient()
    director.force_login(make_user(Role.DIRECTOR))
    assert director.post(reverse("billing:sync_act_retry", args=[failed.pk])).status_code == 403


def test_lost_answers_of_the_sale_and_the_invoice_facture_leave_one_of_each_posted(
    fake, org, customer, base_a
):
    base_a.wants_invoice_facture = True
    base_a.save()
    act, _invoice, _recorded = closing(customer, org)  # its invoice made the catalogs
    control(fake, "a", fail="drop_after_write", times=2)
    assert onec.push_act_attempt(act.pk) == S.PENDING  # the sale made, its answer lost
    assert onec.push_act_attempt(act.pk, force=True) == S.PENDING  # found and posted; the facture's lost
    assert onec.push_act_attempt(act.pk, force=True) == S.SYNCED
    a = dump(fake, "a")
    [sale], [facture] = a[onec.SALE_SET], a[onec.FACTURE_SET]
    assert sale["Posted"] is True and facture["Posted"] is True
    act.refresh_from_db()
    assert (act.external_id, act.facture_external_id, act.sync_attempts) == (
        sale["Ref_Key"],
        facture["Ref_Key"],
        3,
    )
