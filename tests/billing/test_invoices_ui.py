"""Invoice pages: who sees and does what, the hand-made invoice, the actions on an invoice,
the booking's prepayment button, the deal's invoices and the receivables on the dashboard."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arenda.billing import services
from arenda.billing.models import Invoice, Payment
from arenda.core.roles import Role
from tests import factories as f

A, M, C, D = Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR
ROLES = [A, M, C, D]


@pytest.fixture
def ui(make_user):
    """``ui(role)`` → a client logged in as a fresh user of that role, asking for English."""

    def client_for(role):
        client = Client(headers={"Accept-Language": "en"})
        client.user = make_user(role)
        client.force_login(client.user)
        return client

    return client_for


def _lines(*rows, prefix="lines"):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"}
    for i, (description, quantity, price) in enumerate(rows):
        data |= {
            f"{prefix}-{i}-description": description,
            f"{prefix}-{i}-quantity": quantity,
            f"{prefix}-{i}-unit": "ч",
            f"{prefix}-{i}-price": price,
        }
    return data


# --- access ---------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_invoices_and_payments(ui, role):
    invoice = f.InvoiceFactory(issued=True)
    client = ui(role)
    for url in (reverse("billing:invoice_list"), invoice.get_absolute_url(), reverse("billing:payment_list")):
        assert client.get(url).status_code == 200, url
    assert (client.get(reverse("billing:invoice_create")).status_code == 200) is (role in (A, M, C))


@pytest.mark.parametrize("role", ROLES)
def test_navigation_shows_invoices_and_payments(ui, role):
    html = ui(role).get("/").content.decode()
    assert reverse("billing:invoice_list") in html and reverse("billing:payment_list") in html
    assert "/coming/invoices/" not in html


def test_anonymous_is_sent_to_log_in(client, db):
    invoice = f.InvoiceFactory()
    for url in (
        reverse("billing:invoice_list"),
        invoice.get_absolute_url(),
        reverse("billing:invoice_create"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES)
def test_buttons_follow_the_role(ui, role):
    issued = f.InvoiceFactory(issued=True)
    Invoice.objects.filter(pk=issued.pk).update(sync_status="failed", sync_error="1C: HTTP 401 Unauthorized")
    html = ui(role).get(issued.get_absolute_url()).content.decode()
    assert "1C: HTTP 401 Unauthorized" in html
    assert reverse("billing:invoice_pdf", args=[issued.pk]) in html
    assert (reverse("billing:invoice_cancel", args=[issued.pk]) in html) is (role in (A, C))
    assert (reverse("billing:invoice_payment", args=[issued.pk]) in html) is (role in (A, C))
    assert (reverse("billing:invoice_retry_sync", args=[issued.pk]) in html) is (role in (A, C))
    draft = f.InvoiceFactory()
    html = ui(role).get(draft.get_absolute_url()).content.decode()
    assert (reverse("billing:invoice_issue", args=[draft.pk]) in html) is (role in (A, M, C))


@pytest.mark.parametrize("role", ROLES)
def test_actions_are_refused_to_the_wrong_role(ui, role):
    invoice = f.InvoiceFactory(issued=True)
    client = ui(role)
    pay = client.post(
        reverse("billing:invoice_payment", args=[invoice.pk]), {"amount": "100", "date": "2026-03-02"}
    )
    cancel = client.post(
        reverse("billing:invoice_cancel", args=[f.InvoiceFactory(issued=True).pk]), {"reason": "дубль"}
    )
    assert cancel.status_code == (302 if role in (A, C) else 403)
    assert pay.status_code == (302 if role in (A, C) else 403)
    draft = f.InvoiceFactory()
    issue = client.post(reverse("billing:invoice_issue", args=[draft.pk]))
    assert issue.status_code == (302 if role in (A, M, C) else 403)


# --- the list -------------------------------------------------------------------------------
def test_list_filters_search_and_totals(ui):
    client = ui(D)
    cp = f.CounterpartyFactory(name="ООО «Мостострой»")
    mine = f.InvoiceFactory(issued=True, counterparty=cp)
    late = f.InvoiceFactory(issued=True)
    Invoice.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - timedelta(days=3))
    services.payment_record(invoice=late, amount="8000", on=timezone.localdate(), source="manual")
    draft = f.InvoiceFactory(kind="prepayment")

    def shown(query=""):
        response = client.get(f"{reverse('billing:invoice_list')}?{query}")
        assert response.status_code == 200
        return {i.pk for i in response.context["invoices"]}, response.context["totals"]

    ids, totals = shown()
    assert len(ids) == 3 and totals["count"] == 3
    # a draft bills nothing yet
    assert (totals["billed"], totals["received"], totals["owed"]) == (
        Decimal("56000.00"),
        Decimal("8000.00"),
        Decimal("48000.00"),
    )
    assert shown("q=мостострой")[0] == {mine.pk}
    assert shown(f"q={cp.inn}")[0] == {mine.pk}
    found = shown("q=1")[0]  # number 1 of two legal entities
    assert {mine.pk, late.pk} <= found
    # the draft has no number; it is found only when its customer's name has a "1"
    assert (draft.pk in found) == ("1" in draft.counterparty.name)
    assert shown("overdue=1")[0] == {late.pk}
    assert shown("status=partially_paid")[0] == {late.pk}
    assert shown(f"counterparty={cp.pk}")[0] == {mine.pk}
    assert len(shown("kind=prepayment")[0]) == 1
    assert shown("sync_status=failed")[0] == set()
    assert len(shown("status=nonsense&counterparty=abc")[0]) == 3


def test_list_queries_stay_constant(ui):
    client = ui(M)
    f.InvoiceFactory(issued=True)
    client.get(reverse("billing:invoice_list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("billing:invoice_list"))
    for _ in range(6):
        f.InvoiceFactory(issued=True)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("billing:invoice_list"))
    assert len(response.context["invoices"]) == 7
    assert len(many) == len(few)


def test_payments_list_and_its_queries(ui):
    client = ui(C)
    invoice = f.InvoiceFactory(issued=True)
    services.payment_record(
        invoice=invoice, amount="100", on=timezone.localdate(), source="manual", reference="пп 7"
    )
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("billing:payment_list"))
    assert response.context["total"] == Decimal("100.00")
    for n in range(5):
        services.payment_record(
            invoice=f.InvoiceFactory(issued=True),
            amount="10",
            on=timezone.localdate(),
            source="1c",
            reference=f"x{n}",
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("billing:payment_list"))
    assert len(many) == len(few) and len(response.context["payments"]) == 6
    assert [
        p.reference for p in client.get(reverse("billing:payment_list") + "?q=пп").context["payments"]
    ] == ["пп 7"]
    assert len(client.get(reverse("billing:payment_list") + "?source=1c").context["payments"]) == 5


# --- the hand-made invoice ------------------------------------------------------------------
def test_a_manager_makes_an_invoice_by_hand_then_issues_it(ui):
    client = ui(M)
    counterparty, organization = f.CounterpartyFactory(), f.OrganizationFactory()
    data = {
        "counterparty": counterparty.pk,
        "organization": organization.pk,
        "kind": "postpayment",
        **_lines(("Автокран 25 т, смена", "8", "3500"), ("Доставка", "20", "100")),
    }
    response = client.post(reverse("billing:invoice_create"), data)
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and response.url == invoice.get_absolute_url()
    assert (invoice.status, invoice.total, invoice.lines.count()) == ("draft", Decimal("30000.00"), 2)
    response = client.post(reverse("billing:invoice_issue", args=[invoice.pk]))
    invoice.refresh_from_db()
    assert invoice.status == "issued" and invoice.number == "1"


def test_removed_rows_are_dropped_and_bad_rows_named(ui):
    client = ui(M)
    base = {
        "counterparty": f.CounterpartyFactory().pk,
        "organization": f.OrganizationFactory().pk,
        "kind": "postpayment",
    }
    bad = client.post(reverse("billing:invoice_create"), {**base, **_lines(("Смена", "0", "-5"))})
    assert bad.status_code == 400 and not Invoice.objects.exists()
    line = bad.context["lines"].forms[0]
    assert "quantity" in line.errors and "price" in line.errors
    data = {**base, **_lines(("Смена", "8", "1000"), ("лишняя", "", "")), "lines-1-DELETE": "on"}
    assert client.post(reverse("billing:invoice_create"), data).status_code == 302
    assert Invoice.objects.get().total == Decimal("8000.00")
    only_removed = {**base, **_lines(("Смена", "8", "1000")), "lines-0-DELETE": "on"}
    assert client.post(reverse("billing:invoice_create"), only_removed).status_code == 400


def test_lines_of_a_draft_are_edited_and_frozen_after_issue(ui):
    client = ui(M)
    invoice = f.InvoiceFactory()
    url = reverse("billing:invoice_edit", args=[invoice.pk])
    form = client.get(url)
    assert form.status_code == 200 and "Услуги автокрана" in form.content.decode()
    assert client.post(url, _lines(("Смена", "10", "1000"))).status_code == 302
    invoice.refresh_from_db()
    assert invoice.total == Decimal("10000.00")
    services.invoice_issue(invoice=invoice, by=None)
    assert client.post(url, _lines(("Смена", "1", "1"))).status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("10000.00")


def test_a_new_invoice_from_a_deal_starts_with_its_parties(ui):
    deal = f.DealFactory(organization=f.OrganizationFactory())
    response = ui(M).get(f"{reverse('billing:invoice_create')}?deal={deal.pk}")
    initial = response.context["form"].initial
    assert initial["deal"] == deal and initial["counterparty"] == deal.counterparty_id
    assert initial["organization"] == deal.organization_id


def test_a_new_invoice_with_a_garbled_deal_or_booking_opens_empty(ui):
    url = reverse("billing:invoice_create")
    for query in ("?deal=abc", "?booking=1x", "?booking=&deal=%20"):
        response = ui(M).get(url + query)
        assert response.status_code == 200
        assert "deal" not in response.context["form"].initial


# --- actions on an invoice ------------------------------------------------------------------
def test_the_accountant_records_a_payment_once(ui):
    client = ui(C)
    invoice = f.InvoiceFactory(issued=True)
    url = reverse("billing:invoice_payment", args=[invoice.pk])
    data = {"amount": "28000.00", "date": "2026-03-02", "reference": "пп 42", "payer": "ООО «Заказчик»"}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "paid" and Payment.objects.get().created_by == client.user
    assert client.post(url, {"amount": "-1", "date": "2026-03-02"}).status_code in (400, 409)


def test_cancel_needs_a_reason_and_keeps_the_number(ui):
    client = ui(C)
    invoice = f.InvoiceFactory(issued=True)
    url = reverse("billing:invoice_cancel", args=[invoice.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "реквизиты"}).status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("cancelled", "1")
    again = client.post(url, {"reason": "ещё раз"})
    assert again.status_code == 409


def test_retry_sync_puts_a_failed_push_back_in_the_queue(ui):
    invoice = f.InvoiceFactory(issued=True)
    Invoice.objects.filter(pk=invoice.pk).update(sync_status="failed", sync_error="timeout")
    assert ui(C).post(reverse("billing:invoice_retry_sync", args=[invoice.pk])).status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).sync_status == "pending"
    assert ui(M).post(reverse("billing:invoice_retry_sync", args=[invoice.pk])).status_code == 403


def test_only_a_draft_is_deleted(ui):
    client = ui(C)
    draft, issued = f.InvoiceFactory(), f.InvoiceFactory(issued=True)
    assert client.post(reverse("billing:invoice_delete", args=[draft.pk])).status_code == 302
    assert client.post(reverse("billing:invoice_delete", args=[issued.pk])).status_code == 404
    assert list(Invoice.objects.values_list("pk", flat=True)) == [issued.pk]
    assert ui(M).post(reverse("billing:invoice_delete", args=[issued.pk])).status_code == 403


# --- booking, deal, dashboard ---------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_the_bookings_prepayment_invoice_button(ui, role):
    f.OrganizationFactory()
    booking = f.BookingFactory()
    client = ui(role)
    html = client.get(booking.get_absolute_url()).content.decode()
    url = reverse("billing:booking_prepayment", args=[booking.pk])
    assert (url in html) is (role in (A, M))
    response = client.post(url)
    if role in (A, M):
        invoice = Invoice.objects.get(booking=booking)
        assert response.status_code == 302 and response.url == invoice.get_absolute_url()
        assert invoice.status == "issued" and invoice.kind == "prepayment"
        html = client.get(booking.get_absolute_url()).content.decode()
        assert invoice.get_absolute_url() in html and url not in html
    else:
        assert response.status_code == 403 and not Invoice.objects.exists()


def test_a_booking_without_a_rate_explains(ui):
    f.OrganizationFactory()
    booking = f.BookingFactory(rate_per_hour=Decimal("0"))
    response = ui(M).post(reverse("billing:booking_prepayment", args=[booking.pk]), follow=True)
    assert "Set the ordered hours and the rate per hour first." in response.content.decode()
    assert not Invoice.objects.exists()


def test_a_customer_without_a_kpp_gets_no_prepayment_invoice_and_the_manager_is_told_why(ui):
    """A counterparty made from a lead has no КПП: the button answered 500 (the refusal to
    issue was not caught); now the booking's page names what to complete."""
    f.OrganizationFactory()
    booking = f.BookingFactory(deal__counterparty=f.CounterpartyFactory(kpp=""))
    url = reverse("billing:booking_prepayment", args=[booking.pk])
    response = ui(M).post(url)
    assert response.status_code == 302 and response.url == booking.get_absolute_url()
    page = ui(M).post(url, follow=True).content.decode()
    assert "has no KPP yet: complete them on its page" in page
    assert url in page and not Invoice.objects.exists()  # the button is still there


def test_the_deal_page_lists_its_invoices(ui):
    deal = f.DealFactory()
    invoice = f.InvoiceFactory(issued=True, deal=deal, counterparty=deal.counterparty)
    other = f.InvoiceFactory(issued=True)
    html = ui(D).get(deal.get_absolute_url()).content.decode()
    assert invoice.get_absolute_url() in html and other.get_absolute_url() not in html
    assert "Invoices will appear here" not in html


def test_dashboard_receivables(ui):
    today = timezone.localdate()
    owed = [f.InvoiceFactory(issued=True) for _ in range(7)]
    for n, invoice in enumerate(owed):
        Invoice.objects.filter(pk=invoice.pk).update(due_date=today + timedelta(days=n - 3))
    services.payment_record(invoice=owed[0], amount="8000", on=today, source="manual")
    services.payment_record(invoice=f.InvoiceFactory(issued=True), amount="28000", on=today, source="manual")
    failed, waiting, fresh = (f.InvoiceFactory(issued=True) for _ in range(3))
    Invoice.objects.filter(pk=failed.pk).update(sync_status="failed")
    Invoice.objects.filter(pk=waiting.pk).update(
        sync_status="pending", issued_at=timezone.now() - timedelta(minutes=11)
    )
    Invoice.objects.filter(pk=fresh.pk).update(sync_status="pending")
    client = ui(D)
    client.get("/")
    with CaptureQueriesContext(connection) as counted:
        response = client.get("/")
    data = response.context["receivables"]
    assert data["unpaid"] == Decimal("28000.00") * 10 - Decimal("8000.00")
    assert data["overdue"] == Decimal("28000.00") * 3 - Decimal("8000.00")
    assert [i.pk for i in data["oldest"]] == [i.pk for i in owed[:5]]
    assert {i.pk for i in data["stuck"]} == {failed.pk, waiting.pk}
    f.InvoiceFactory.create_batch(5, issued=True)
    with CaptureQueriesContext(connection) as more:
        client.get("/")
    assert len(more) == len(counted)
    assert owed[0].get_absolute_url() in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_only_shows_invoices_and_payments(ui, role):
    invoice = f.InvoiceFactory(issued=True)
    payment = services.payment_record(
        invoice=invoice, amount="1", on=timezone.localdate(), source="manual"
    ).payment
    client = ui(role)
    for model, pk in (("invoice", invoice.pk), ("payment", payment.pk)):
        assert client.get(f"/admin/billing/{model}/").status_code == 200
        assert client.get(f"/admin/billing/{model}/{pk}/change/").status_code == 200
        assert client.get(f"/admin/billing/{model}/add/").status_code == 403
        assert client.post(f"/admin/billing/{model}/{pk}/delete/", {"post": "yes"}).status_code == 403


def test_each_legal_entity_numbers_its_own_invoices_and_the_lists_say_whose(client, make_user):
    """Two legal entities, one numbering each: the list showed «№ 1» twice with nothing saying
    which entity issued which."""
    ours = [f.OrganizationFactory(name="Кран-Сервис"), f.OrganizationFactory(name="Спецтехника-М")]
    invoices = [f.InvoiceFactory(issued=True, organization=org) for org in ours]
    assert [i.number for i in invoices] == ["1", "1"]
    client.force_login(make_user(Role.ACCOUNTANT))
    page = client.get(reverse("billing:invoice_list"), {"q": "1"}).content.decode()
    assert page.count("Кран-Сервис") >= 1 and page.count("Спецтехника-М") >= 1
