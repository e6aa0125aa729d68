"""``acts/`` and ``bookings/{id}/act/`` (``arenda/api/acts.py``): reading with filters, making
an act for bookings or a counterparty's month, issuing, cancelling, marking signed (with the
scan), and the codes: 400 naming the field, 403 by role, 409 with the refusal's code."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from arenda.billing import acts
from arenda.billing.models import Act
from arenda.core.roles import Role
from tests.billing.test_acts import one_customer, worked
from tests.bookings.test_waybills import job, png_bytes

pytestmark = pytest.mark.django_db
A, M, C, D = Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR
URL = "/api/v1/acts/"


def monthly_done(n=1):
    bookings = one_customer(n, period="month")
    for b in bookings:
        worked(b, number=f"ПЛ-{b.pk}")
    return bookings


def done():
    booking = job()
    worked(booking)
    return booking, Act.objects.get(booking_links__booking=booking)


def issued():
    booking, act = done()
    return booking, acts.act_issue(act=act, by=None)


# --- reading --------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [A, M, C, D])
def test_every_role_reads_acts(api, role):
    booking, act = issued()
    client = api(role)
    page = client.get(URL)
    assert page.status_code == 200 and [row["id"] for row in page.json()["results"]] == [act.pk]
    body = client.get(f"{URL}{act.pk}/").json()
    assert body["number"] == "1" and body["status"] == "issued"
    assert body["bookings"] == [booking.pk]
    assert body["lines"][0]["booking"] == booking.pk and body["lines"][0]["amount"] == str(act.total)
    assert body["sync_status"] in ("pending", "not_needed") and body["external_id"] == ""
    assert body["external_number"] == "" and body["signed_on"] is None and body["signed_scan_url"] is None
    assert body["pdf_url"].endswith(f"/api/v1/acts/{act.pk}/pdf/")
    assert body["corrects"] is None and body["corrections"] == []


def test_the_list_filters(api):
    booking, waiting = issued()
    _b, draft = done()
    client = api(C)

    def ids(query):
        response = client.get(URL + query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("?status=draft") == {draft.pk}
    assert ids(f"?counterparty={waiting.counterparty_id}") == {waiting.pk}
    assert ids(f"?organization={draft.organization_id}") == {draft.pk}
    assert ids(f"?deal={waiting.deal_id}") == {waiting.pk}
    assert ids(f"?booking={booking.pk}") == {waiting.pk}
    assert ids("?not_signed=true") == {waiting.pk}
    today = timezone.localdate().isoformat()
    assert ids(f"?date_after={today}&date_before={today}") == {waiting.pk}
    assert ids("?date_after=2099-01-01") == set()
    assert ids(f"?period_from={draft.period_start.isoformat()}") == {waiting.pk, draft.pk}


@pytest.mark.parametrize(
    "query,field",
    [
        ("status=nonsense", "status"),
        ("counterparty=999999", "counterparty"),
        ("booking=abc", "booking"),
        ("booking=99999999999999999999999", "booking"),
        ("date_after=2026-13-01", "date_after"),
    ],
)
def test_a_bad_filter_is_400_naming_it(api, query, field):
    response = api(C).get(f"{URL}?{query}")
    assert response.status_code == 400 and field in response.json()


def test_an_unknown_act_is_404(api):
    assert api(C).get(f"{URL}999999/").status_code == 404


# --- making ---------------------------------------------------------------------------------
def test_acts_for_bookings(api):
    [booking] = monthly_done()
    response = api(M).post(URL, {"bookings": [booking.pk]}, format="json")
    assert response.status_code == 201, response.content
    [body] = response.json()
    assert body["status"] == "draft" and body["bookings"] == [booking.pk]
    again = api(M).post(URL, {"bookings": [booking.pk]}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_in_act"


def test_the_months_act_of_a_counterparty_with_three_bookings(api):
    bookings = monthly_done(3)
    month = timezone.localtime(bookings[0].start).strftime("%Y-%m")
    body = {"counterparty": bookings[0].deal.counterparty_id, "month": month}
    response = api(C).post(URL, body, format="json")
    assert response.status_code == 201, response.content
    [act] = response.json()
    assert len(act["lines"]) == 3 and sorted(act["bookings"]) == sorted(b.pk for b in bookings)
    again = api(C).post(URL, body, format="json")
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_close"


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "bookings"),
        ({"bookings": []}, "bookings"),
        ({"bookings": [999999]}, "bookings"),
        ({"bookings": ["x"]}, "bookings"),
        ({"bookings": [2**70]}, "bookings"),
        ({"bookings": 5}, "bookings"),
        ({"counterparty": "CP"}, "month"),
        ({"month": "2026-11"}, "counterparty"),
        ({"counterparty": 999999, "month": "2026-11"}, "counterparty"),
        ({"counterparty": "many", "month": "2026-11"}, "counterparty"),
        ({"counterparty": "CP", "month": "2026-13"}, "month"),
        ({"counterparty": "CP", "month": "ноябрь"}, "month"),
        ({"bookings": [1], "month": "2026-11"}, "bookings"),
    ],
)
def test_bad_input_is_400_naming_the_field(api, body, field):
    [booking] = monthly_done()
    if body.get("counterparty") == "CP":
        body = {**body, "counterparty": booking.deal.counterparty_id}
    response = api(C).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_an_act_before_the_waybills_is_409_work_not_done(api):
    booking = job()
    response = api(M).post(URL, {"bookings": [booking.pk]}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "work_not_done"


def test_the_director_makes_no_acts(api):
    [booking] = monthly_done()
    assert api(D).post(URL, {"bookings": [booking.pk]}, format="json").status_code == 403
    assert api(D).post(f"/api/v1/bookings/{booking.pk}/act/").status_code == 403


def test_the_act_of_one_booking(api):
    waiting = job()
    response = api(M).post(f"/api/v1/bookings/{waiting.pk}/act/")
    assert response.status_code == 409 and response.json()["code"] == "work_not_done"
    assert response.json()["booking"] == waiting.pk
    [booking] = monthly_done()
    response = api(M).post(f"/api/v1/bookings/{booking.pk}/act/")
    assert response.status_code == 201, response.content
    assert response.json()["bookings"] == [booking.pk] and response.json()["status"] == "draft"
    again = api(M).post(f"/api/v1/bookings/{booking.pk}/act/")
    assert again.status_code == 409 and again.json()["code"] == "already_in_act"
    assert api(M).post("/api/v1/bookings/999999/act/").status_code == 404


# --- actions --------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [A, M, C, D])
def test_only_the_accountant_issues(api, role):
    _booking, act = done()
    response = api(role).post(f"{URL}{act.pk}/issue/")
    if role in (A, C):
        assert response.status_code == 200 and response.json()["number"] == "1"
        again = api(role).post(f"{URL}{act.pk}/issue/")
        assert again.status_code == 409 and again.json()["code"] == "not_draft"
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", [A, M, C, D])
def test_only_the_accountant_cancels_with_a_reason(api, role):
    _booking, act = issued()
    client = api(role)
    if role not in (A, C):
        assert client.post(f"{URL}{act.pk}/cancel/", {"reason": "x"}, format="json").status_code == 403
        return
    missing = client.post(f"{URL}{act.pk}/cancel/", {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    blank = client.post(f"{URL}{act.pk}/cancel/", {"reason": "  "}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()
    response = client.post(f"{URL}{act.pk}/cancel/", {"reason": "не тот заказчик"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = client.post(f"{URL}{act.pk}/cancel/", {"reason": "ещё раз"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "cannot_cancel"


@pytest.mark.parametrize("role", [A, M, C, D])
def test_marking_signed(api, role):
    _booking, act = issued()
    today = timezone.localdate().isoformat()
    response = api(role).post(
        f"{URL}{act.pk}/mark-signed/", {"signer": "Петров", "signed_on": today}, format="json"
    )
    if role not in (A, C):
        assert response.status_code == 403
        return
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["signed_by_name"], body["signed_on"], body["signed_via"]) == (
        "signed",
        "Петров",
        today,
        "accountant",
    )


def test_marking_signed_with_the_scan(api):
    _booking, act = issued()
    client = api(C)
    scan = SimpleUploadedFile("signed.png", png_bytes(), content_type="image/png")
    response = client.post(f"{URL}{act.pk}/mark-signed/", {"signer": "П", "scan": scan}, format="multipart")
    assert response.status_code == 200, response.content
    url = response.json()["signed_scan_url"]
    assert url.endswith(f"/api/v1/acts/{act.pk}/scan/")
    got = api(D).get(f"{URL}{act.pk}/scan/")
    assert got.status_code == 200 and got["Content-Type"] == "image/png"


def test_a_bad_scan_is_400_naming_it(api):
    _booking, act = issued()
    scan = SimpleUploadedFile("signed.pdf", b"<html>not a pdf</html>")
    response = api(C).post(f"{URL}{act.pk}/mark-signed/", {"scan": scan}, format="multipart")
    assert response.status_code == 400 and "scan" in response.json()
    act.refresh_from_db()
    assert act.status == Act.Status.ISSUED


@pytest.mark.parametrize(
    "body,field",
    [
        ({"signed_on": "2999-01-01"}, "signed_on"),
        ({"signed_on": "yesterday"}, "signed_on"),
        ({"signer": "x" * 201}, "signer"),
    ],
)
def test_bad_signing_input_is_400(api, body, field):
    _booking, act = issued()
    response = api(C).post(f"{URL}{act.pk}/mark-signed/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content


def test_a_draft_is_not_signed(api):
    _booking, act = done()
    response = api(C).post(f"{URL}{act.pk}/mark-signed/", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "not_issued"


def test_acts_are_not_changed_or_deleted_directly(api):
    _booking, act = done()
    client = api(A)
    assert client.patch(f"{URL}{act.pk}/", {"total": "1.00"}, format="json").status_code == 405
    assert client.delete(f"{URL}{act.pk}/").status_code == 405


def test_retry_sync(api):
    _booking, act = issued()
    assert api(C).post(f"{URL}{act.pk}/retry-sync/").json()["code"] == "not_failed"
    Act.objects.filter(pk=act.pk).update(sync_status="failed")
    assert api(M).post(f"{URL}{act.pk}/retry-sync/").status_code == 403
    response = api(C).post(f"{URL}{act.pk}/retry-sync/")
    assert response.status_code == 200 and response.json()["sync_status"] == "pending"


def test_the_directory_fields_of_closing_documents(api):
    client = api(A)
    [booking] = monthly_done()
    counterparty = booking.deal.counterparty
    body = client.get(f"/api/v1/counterparties/{counterparty.pk}/").json()
    assert body["acts_period"] == "month"
    response = client.patch(
        f"/api/v1/counterparties/{counterparty.pk}/", {"acts_period": "booking"}, format="json"
    )
    assert response.status_code == 200 and response.json()["acts_period"] == "booking"
    bad = client.patch(f"/api/v1/counterparties/{counterparty.pk}/", {"acts_period": "year"}, format="json")
    assert bad.status_code == 400 and "acts_period" in bad.json()
    organization = booking.deal.organization
    response = client.patch(
        f"/api/v1/organizations/{organization.pk}/", {"closing_form": "act"}, format="json"
    )
    assert response.status_code == 200 and response.json()["closing_form"] == "act"
    base = organization.default_accounting_base
    response = client.patch(
        f"/api/v1/accounting-bases/{base.pk}/", {"wants_invoice_facture": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["wants_invoice_facture"] is True
