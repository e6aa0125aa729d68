"""Closing documents' pages (``billing/act_views.py``): the list and its filters, an act's
page, each action with who may do it, the signed scan's checks and download, the booking's
«Make the act» button, the counterparty's month act and the deal's «Acts» block."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from arenda.billing import acts
from arenda.billing.act_forms import parse_month
from arenda.billing.models import Act
from arenda.core.roles import Role
from arenda.directory.models import Counterparty
from arenda.flows.trips import waybill_update
from tests.billing.test_acts import one_customer, worked
from tests.bookings.test_waybills import job, png_bytes
from tests.factories import AccountingBaseFactory, OrganizationFactory
from tests.ui.test_forms import counterparty_data

pytestmark = pytest.mark.django_db
A, M, C, D = Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR
ROLES = [A, M, C, D]


@pytest.fixture
def ui(make_user):
    def client_for(role):
        client = Client(headers={"Accept-Language": "en"})
        client.user = make_user(role)
        client.force_login(client.user)
        return client

    return client_for


def done(**kwargs):
    """A booking whose waybill is in, and its draft act (its customer is billed per booking)."""
    booking = job(**kwargs)
    worked(booking)
    return booking, Act.objects.get(booking_links__booking=booking)


def issued(**kwargs):
    booking, act = done(**kwargs)
    return booking, acts.act_issue(act=act, by=None)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the list -------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_list_and_an_act(ui, role):
    _booking, act = issued()
    client = ui(role)
    listed = client.get(reverse("billing:act_list"))
    assert listed.status_code == 200 and act.get_absolute_url() in listed.content.decode()
    page = client.get(act.get_absolute_url())
    assert page.status_code == 200 and f"№ {act.number}" in page.content.decode()


def test_the_navigation_and_the_billing_subnav_link_the_acts(ui):
    client = ui(M)
    assert reverse("billing:act_list") in client.get("/").content.decode()
    assert reverse("billing:act_list") in client.get(reverse("billing:invoice_list")).content.decode()


def test_anonymous_is_sent_to_log_in(client):
    _booking, act = done()
    for url in (
        reverse("billing:act_list"),
        act.get_absolute_url(),
        reverse("billing:act_scan", args=[act.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_the_empty_list_says_how_acts_are_made(ui):
    html = ui(C).get(reverse("billing:act_list")).content.decode()
    assert "No closing documents yet" in html


def test_the_list_filters_and_totals(ui):
    _b1, signed = issued(rate="1000.00")
    acts.act_mark_signed(act=signed, by=None, signer="Петров")
    _b2, waiting = issued(rate="2000.00")
    _b3, draft = done(rate="3000.00")
    client = ui(C)

    def shown(query=""):
        response = client.get(reverse("billing:act_list") + query)
        assert response.status_code == 200
        return {a.pk for a in response.context["acts"]}, response.context["totals"]

    everything, totals = shown()
    assert everything == {signed.pk, waiting.pk, draft.pk}
    assert totals["count"] == 3 and totals["drafts"] == 1
    assert totals["signed"] == signed.total and totals["unsigned"] == waiting.total
    assert totals["counted"] == signed.total + waiting.total
    assert shown("?status=draft")[0] == {draft.pk}
    assert shown("?not_signed=1")[0] == {waiting.pk}
    assert shown(f"?counterparty={waiting.counterparty_id}")[0] == {waiting.pk}
    assert shown(f"?organization={draft.organization_id}")[0] == {draft.pk}
    assert shown(f"?form={signed.form}")[0] == everything
    assert shown("?form=act")[0] == set()
    assert shown("?sync_status=failed")[0] == set()
    far = "?from=2099-01-01"
    assert shown(far)[0] == set()
    day = draft.period_start.isoformat()
    assert shown(f"?from={day}&to={day}")[0] == everything
    assert shown("?status=nonsense&from=garbage")[0] == everything  # a bad value is left out
    html = client.get(reverse("billing:act_list") + "?status=cancelled").content.decode()
    assert "Nothing matches the search and filters." in html


def test_the_list_paginates(ui, monkeypatch):
    monkeypatch.setattr("arenda.billing.act_views.PAGE_SIZE", 2)
    for _ in range(3):
        done()
    client = ui(C)
    first = client.get(reverse("billing:act_list"))
    assert len(first.context["acts"]) == 2 and first.context["page_obj"].has_next()
    assert len(client.get(reverse("billing:act_list") + "?page=2").context["acts"]) == 1


# --- one act --------------------------------------------------------------------------------
def test_the_act_page_shows_requisites_lines_totals_and_what_it_closes(ui):
    booking, act = done(rate="3500.00")
    html = ui(M).get(act.get_absolute_url()).content.decode()
    assert act.organization.inn in html and act.counterparty.inn in html
    assert act.basis in html
    assert booking.unit.plate in html and booking.get_absolute_url() in html
    assert "incl. VAT 22 %" in html
    assert "Issue it first" in html


def test_a_correction_shows_before_and_after_and_links_both_ways(ui):
    booking = job(min_hours="4", rate="3500.00")
    recorded = worked(booking, hours="8")
    act = acts.act_issue(act=Act.objects.get(), by=None)
    waybill_update(waybill=recorded.waybill, data={"hours": Decimal("10")}, by=booking.deal.manager)
    correction = Act.objects.get(corrects=act)
    client = ui(C)
    html = client.get(correction.get_absolute_url()).content.decode()
    assert "Quantity before" in html and act.get_absolute_url() in html and "Difference" in html
    assert correction.get_absolute_url() in client.get(act.get_absolute_url()).content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_buttons_follow_the_role(ui, role):
    _booking, draft = done()
    html = ui(role).get(draft.get_absolute_url()).content.decode()
    assert (reverse("billing:act_issue", args=[draft.pk]) in html) is (role in (A, C))
    assert (reverse("billing:act_delete", args=[draft.pk]) in html) is (role in (A, C))
    _booking, act = issued()
    html = ui(role).get(act.get_absolute_url()).content.decode()
    assert (reverse("billing:act_mark_signed", args=[act.pk]) in html) is (role in (A, C))
    assert (reverse("billing:act_cancel", args=[act.pk]) in html) is (role in (A, C))


# --- actions --------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_only_the_accountant_issues(ui, role):
    _booking, act = done()
    response = ui(role).post(reverse("billing:act_issue", args=[act.pk]))
    act.refresh_from_db()
    if role in (A, C):
        assert response.status_code == 302 and act.status == Act.Status.ISSUED and act.number == "1"
    else:
        assert response.status_code == 403 and act.status == Act.Status.DRAFT


def test_issuing_twice_is_refused_on_the_page(ui):
    _booking, act = issued()
    response = ui(C).post(reverse("billing:act_issue", args=[act.pk]))
    assert response.status_code == 409 and "Only a draft" in response.content.decode()


def test_the_issue_asks_for_confirmation(ui):
    _booking, act = done()
    html = ui(C).get(act.get_absolute_url()).content.decode()
    assert 'data-confirm="Issue it?' in html


@pytest.mark.parametrize("role", ROLES)
def test_marking_signed_is_the_accountants(ui, role):
    _booking, act = issued()
    today = timezone.localdate().isoformat()
    response = ui(role).post(
        reverse("billing:act_mark_signed", args=[act.pk]), {"signer": "Петров П. П.", "signed_on": today}
    )
    act.refresh_from_db()
    if role in (A, C):
        assert response.status_code == 302
        assert (act.status, act.signed_by_name, act.signed_via) == ("signed", "Петров П. П.", "accountant")
    else:
        assert response.status_code == 403 and act.status == Act.Status.ISSUED


def test_the_signed_scan_is_stored_and_downloaded_by_who_reads_invoices(ui):
    _booking, act = issued()
    scan = SimpleUploadedFile("скан.png", png_bytes(), content_type="image/png")
    response = ui(C).post(
        reverse("billing:act_mark_signed", args=[act.pk]),
        {"signer": "Петров", "signed_on": timezone.localdate().isoformat(), "scan": scan},
    )
    assert response.status_code == 302
    act.refresh_from_db()
    assert act.signed_scan
    html = ui(D).get(act.get_absolute_url()).content.decode()
    assert reverse("billing:act_scan", args=[act.pk]) in html
    got = ui(D).get(reverse("billing:act_scan", args=[act.pk]))
    assert got.status_code == 200 and got["Content-Type"] == "image/png"
    assert got["X-Content-Type-Options"] == "nosniff"
    assert b"".join(got.streaming_content) == png_bytes()


def test_an_act_without_a_scan_has_none_to_download(ui):
    _booking, act = issued()
    assert ui(C).get(reverse("billing:act_scan", args=[act.pk])).status_code == 404


@pytest.mark.parametrize(
    "name,content,error",
    [
        ("scan.pdf", b"<html><script>alert(1)</script></html>", "must be a PDF, a JPEG or a PNG"),
        ("scan.gif", b"GIF89a" + b"\x00" * 40, "must be a PDF, a JPEG or a PNG"),
        ("scan.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 40, "must be a PDF, a JPEG or a PNG"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_a_scan_that_is_not_a_pdf_jpeg_or_png_is_refused(ui, name, content, error):
    _booking, act = issued()
    response = ui(C).post(
        reverse("billing:act_mark_signed", args=[act.pk]),
        {
            "signer": "Петров",
            "signed_on": timezone.localdate().isoformat(),
            "scan": SimpleUploadedFile(name, content),
        },
    )
    act.refresh_from_db()
    assert response.status_code == 400 and act.status == Act.Status.ISSUED and not act.signed_scan
    assert error in response.content.decode()


def test_a_scan_too_large_is_refused(ui, monkeypatch):
    monkeypatch.setattr("arenda.core.files.MAX_SCAN_BYTES", 20)
    _booking, act = issued()
    response = ui(C).post(
        reverse("billing:act_mark_signed", args=[act.pk]),
        {"signed_on": timezone.localdate().isoformat(), "scan": SimpleUploadedFile("s.png", png_bytes())},
    )
    assert response.status_code == 400 and "too large" in response.content.decode()


def test_a_signing_date_in_the_future_is_a_form_error(ui):
    _booking, act = issued()
    response = ui(C).post(
        reverse("billing:act_mark_signed", args=[act.pk]), {"signer": "П", "signed_on": "2999-01-01"}
    )
    assert response.status_code == 400 and "cannot be in the future" in response.content.decode()


def test_a_draft_cannot_be_marked_signed(ui):
    _booking, act = done()
    response = ui(C).post(
        reverse("billing:act_mark_signed", args=[act.pk]), {"signed_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 409


@pytest.mark.parametrize("role", ROLES)
def test_cancelling_needs_a_reason_and_the_accountant(ui, role):
    booking, act = issued()
    client = ui(role)
    url = reverse("billing:act_cancel", args=[act.pk])
    if role not in (A, C):
        assert client.post(url, {"reason": "ошибка"}).status_code == 403
        return
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "не тот заказчик"}).status_code == 302
    act.refresh_from_db()
    assert act.status == Act.Status.CANCELLED and act.cancel_reason == "не тот заказчик"
    assert not booking.act_links.filter(active=True).exists()


def test_deleting_a_draft(ui):
    _booking, act = done()
    assert ui(M).post(reverse("billing:act_delete", args=[act.pk])).status_code == 403
    response = ui(C).post(reverse("billing:act_delete", args=[act.pk]))
    assert response.status_code == 302 and not Act.objects.filter(pk=act.pk).exists()
    _booking, act = issued()
    assert ui(C).post(reverse("billing:act_delete", args=[act.pk])).status_code == 409


def test_a_failed_push_is_retried_by_the_accountant(ui):
    _booking, act = issued()
    Act.objects.filter(pk=act.pk).update(sync_status="failed", sync_error="1C: HTTP 500", sync_attempts=5)
    assert (
        reverse("billing:act_retry_sync", args=[act.pk]) in ui(C).get(act.get_absolute_url()).content.decode()
    )
    assert ui(M).post(reverse("billing:act_retry_sync", args=[act.pk])).status_code == 403
    assert ui(C).post(reverse("billing:act_retry_sync", args=[act.pk])).status_code == 302
    act.refresh_from_db()
    assert (act.sync_status, act.sync_attempts) == ("pending", 0)
    assert ui(C).post(reverse("billing:act_retry_sync", args=[act.pk])).status_code == 409


def test_actions_answer_only_post(ui):
    _booking, act = done()
    for name in ("act_issue", "act_mark_signed", "act_cancel", "act_delete", "act_retry_sync"):
        assert ui(A).get(reverse(f"billing:{name}", args=[act.pk])).status_code == 405, name


# --- making acts from the booking and the counterparty ----------------------------------------
def monthly_booking_done():
    [booking] = one_customer(1, period="month")
    worked(booking)
    assert not Act.objects.exists()
    return booking


def test_the_booking_page_offers_the_act_and_makes_it(ui):
    booking = monthly_booking_done()
    client = ui(M)
    html = client.get(booking.get_absolute_url()).content.decode()
    url = reverse("billing:booking_act", args=[booking.pk])
    assert url in html and "Make the act" in html
    response = client.post(url, follow=True)
    act = Act.objects.get(booking_links__booking=booking)
    assert response.redirect_chain[-1][0] == act.get_absolute_url()
    html = client.get(booking.get_absolute_url()).content.decode()
    assert act.get_absolute_url() in html and url not in html


def test_the_booking_button_refuses_as_a_message(ui):
    waiting = job()  # no waybill yet
    client = ui(M)
    assert (
        reverse("billing:booking_act", args=[waiting.pk])
        not in client.get(waiting.get_absolute_url()).content.decode()
    )
    response = client.post(reverse("billing:booking_act", args=[waiting.pk]), follow=True)
    assert response.redirect_chain[-1][0] == waiting.get_absolute_url()
    assert any("no waybills" in m for m in messages_of(response))
    booking, act = done()
    response = client.post(reverse("billing:booking_act", args=[booking.pk]), follow=True)
    assert any("already closed by" in m for m in messages_of(response))
    assert Act.objects.filter(booking_links__booking=booking).count() == 1


def test_the_director_makes_no_act(ui):
    booking = monthly_booking_done()
    assert ui(D).post(reverse("billing:booking_act", args=[booking.pk])).status_code == 403
    assert "Make the act" not in ui(D).get(booking.get_absolute_url()).content.decode()


def test_the_counterparty_page_makes_the_months_act(ui):
    booking = monthly_booking_done()
    counterparty = booking.deal.counterparty
    client = ui(C)
    page = client.get(counterparty.get_absolute_url()).content.decode()
    url = reverse("billing:counterparty_month_act", args=[counterparty.pk])
    assert url in page and 'type="month"' in page
    month = timezone.localtime(booking.start).date().strftime("%Y-%m")
    response = client.post(url, {"month": month}, follow=True)
    act = Act.objects.get(booking_links__booking=booking)
    assert response.redirect_chain[-1][0] == act.get_absolute_url()
    assert act.get_absolute_url() in client.get(counterparty.get_absolute_url()).content.decode()
    again = client.post(url, {"month": month}, follow=True)
    assert any("no completed bookings" in m for m in messages_of(again))


@pytest.mark.parametrize("month", ["2026-13", "", "abc", "1999-01", "2026-1"])
def test_a_bad_month_is_a_message(ui, month):
    counterparty = monthly_booking_done().deal.counterparty
    response = ui(C).post(
        reverse("billing:counterparty_month_act", args=[counterparty.pk]), {"month": month}, follow=True
    )
    assert response.redirect_chain[-1][0] == counterparty.get_absolute_url()
    assert messages_of(response) and not Act.objects.exists()


def test_the_director_has_no_month_form(ui):
    counterparty = monthly_booking_done().deal.counterparty
    url = reverse("billing:counterparty_month_act", args=[counterparty.pk])
    assert url not in ui(D).get(counterparty.get_absolute_url()).content.decode()
    assert ui(D).post(url, {"month": "2026-01"}).status_code == 403


# --- the deal's page ------------------------------------------------------------------------
def test_the_deal_page_lists_its_acts_with_their_signatures(ui):
    booking, act = issued()
    acts.act_mark_signed(act=act, by=None, signer="Сидоров", on=timezone.localdate())
    html = ui(M).get(booking.deal.get_absolute_url()).content.decode()
    assert 'id="acts"' in html and f"№ {act.number}" in html and "Сидоров" in html


def test_the_deal_page_lists_a_monthly_act_closing_its_booking(ui):
    bookings = one_customer(2, period="month")
    for b in bookings:
        worked(b, number=f"ПЛ-{b.pk}")
    [act] = acts.act_for_month(
        counterparty=bookings[0].deal.counterparty,
        month=timezone.localtime(bookings[0].start).date(),
        by=None,
    )
    assert act.deal_id is None  # two deals
    html = ui(M).get(bookings[1].deal.get_absolute_url()).content.decode()
    assert act.get_absolute_url() in html


def test_the_deal_page_without_acts_says_so(ui):
    booking = job()
    assert "No acts in this deal yet" in ui(M).get(booking.deal.get_absolute_url()).content.decode()


def test_the_deal_page_reads_its_acts_in_constant_queries(ui):
    booking, _act = issued()
    client = ui(M)
    url = booking.deal.get_absolute_url()
    client.get(url)

    def acts_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return [q["sql"] for q in queries if '"billing_act"' in q["sql"]]

    few = acts_queries()
    assert len(few) == 1
    for i in range(3):
        other = job()
        other.deal = booking.deal
        other.save()
        worked(other, number=f"ПЛ-{i + 10}")
    assert len(acts_queries()) == len(few)
    assert len(client.get(url).context["acts"]) == 4


def test_month_parsing():
    assert parse_month("2026-11") == date(2026, 11, 1)
    assert parse_month("2026-00") is None and parse_month("20261") is None


# --- the directory's settings of closing documents --------------------------------------------
def test_the_counterparty_form_sets_how_its_acts_are_made_and_keeps_it_when_left_out(ui):
    client = ui(C)
    form = client.get(reverse("directory:counterparty_create")).content.decode()
    assert 'name="acts_period"' in form
    client.post(reverse("directory:counterparty_create"), counterparty_data(acts_period="month"))
    counterparty = Counterparty.objects.get()
    assert counterparty.acts_period == "month"
    assert (
        escape(counterparty.get_acts_period_display())
        in client.get(counterparty.get_absolute_url()).content.decode()
    )
    update = reverse("directory:counterparty_update", args=[counterparty.pk])
    data = counterparty_data(inn=counterparty.inn, kpp=counterparty.kpp, name="ООО «Другое»")
    assert client.post(update, data).status_code == 302
    counterparty.refresh_from_db()
    assert counterparty.name == "ООО «Другое»" and counterparty.acts_period == "month"
    assert client.post(update, {**data, "acts_period": "year"}).status_code == 200  # a form error
    client.post(update, {**data, "acts_period": "booking"})
    counterparty.refresh_from_db()
    assert counterparty.acts_period == "booking"


def test_the_legal_entity_and_base_forms_carry_their_settings(ui):
    client = ui(A)
    organization = OrganizationFactory()
    base = AccountingBaseFactory(organization=organization)
    assert (
        'name="closing_form"'
        in client.get(reverse("directory:organization_update", args=[organization.pk])).content.decode()
    )
    assert (
        'name="wants_invoice_facture"'
        in client.get(reverse("directory:accounting_base_update", args=[base.pk])).content.decode()
    )
    page = client.get(organization.get_absolute_url()).content.decode()
    assert escape(organization.get_closing_form_display()) in page


def test_the_admin_shows_acts_read_only_without_the_link_token(ui):
    _booking, act = issued()
    client = ui(A)
    assert act.number in client.get("/admin/billing/act/").content.decode()
    page = client.get(f"/admin/billing/act/{act.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and act.counterparty.name in html
    assert act.accept_token and act.accept_token not in html
    assert 'name="_save"' not in html
    assert client.post(f"/admin/billing/act/{act.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Act.objects.filter(pk=act.pk).exists()
