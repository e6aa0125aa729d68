"""The foreman's sign-off on the trip page → «Справка о работе машины» (docs/shift-report.md):
the code by SMS or Telegram, its attempts, expiry and rate limit; the signature checks; one
report per submission; the PDF read back (hash, image); the e-mail with the PDF attached;
the 404s of a wrong link; the PDF behind the login."""

import base64
import io
import re
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from arenda.bookings import shift_reports, trip_links
from arenda.bookings.models import Booking, DriverReport, ShiftReport, SignCode
from arenda.core.roles import MATRIX, Role
from arenda.integrations.messaging import fake_sms, outbox
from arenda.integrations.messaging.fake_sms import FakeSms
from arenda.integrations.messaging.fake_telegram import FakeTelegram
from arenda.integrations.messaging.models import OutboxMessage
from tests.factories import (
    BookingFactory,
    CounterpartyFactory,
    DealFactory,
    DriverFactory,
    OrganizationFactory,
    WaybillFactory,
)

pytestmark = pytest.mark.django_db
PHONE = "+79161234567"


def signature(ink: bool = True) -> str:
    image = Image.new("RGBA", (480, 180), (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line(
            [(20, 120), (120, 30), (220, 150), (400, 40)], fill=(0, 0, 0, 255), width=4
        )
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_GATEWAY = ""
    settings.TELEGRAM_BOT_TOKEN = ""


@pytest.fixture
def sms(settings):
    server = FakeSms()
    server.start()
    settings.SMS_GATEWAY = "smsru"
    settings.SMS_SMSRU_URL = server.url
    settings.SMS_API_ID = fake_sms.API_ID
    settings.SMS_TIMEOUT = 2
    yield server
    server.stop()


@pytest.fixture
def telegram(settings):
    server = FakeTelegram("127.0.0.1", 0)
    server.start()
    settings.TELEGRAM_API_URL = server.url
    settings.TELEGRAM_BOT_TOKEN = "123456:TEST"
    settings.TELEGRAM_TIMEOUT = 2
    yield server
    server.stop()


def make_trip(*, phone=PHONE, email="buh@zakazchik.ru", report=True):
    deal = DealFactory(organization=OrganizationFactory(), counterparty=CounterpartyFactory(email=email))
    booking = BookingFactory(deal=deal, site_contact_name="Петров Пётр", site_contact_phone=phone)
    Booking.objects.filter(pk=booking.pk).update(status="dispatched", busy_until=booking.end)
    booking.refresh_from_db()
    if report:
        DriverReport.objects.create(
            booking=booking,
            source=DriverReport.Source.TRIP,
            number="ПЛ-77",
            started_at=booking.start,
            finished_at=booking.start + timedelta(hours=9),
            hours=Decimal("8.5"),
            km=Decimal("42"),
            downtime_hours=Decimal("0.5"),
        )
    link = trip_links.issue(booking=booking)
    return booking, link


def sign_url(link):
    return reverse("trip:sign", args=[link.token])


def code_url(link):
    return reverse("trip:sign_code", args=[link.token])


def form(**extra):
    data = {"name": "Петров Пётр", "position": "прораб", "signature": signature(), "key": "key-" + "1" * 20}
    data.update(extra)
    return data


def last_code(server_url) -> str:
    messages = httpx.get(f"{server_url}/_sent").json()["messages"]
    return re.search(r"\b(\d{6})\b", messages[-1]["text"]).group(1)


def deliver_all():
    for message in OutboxMessage.objects.filter(status="queued"):
        outbox.deliver(message.pk)


# --- the flow -------------------------------------------------------------------------------
def test_the_page_shows_the_figures_and_signing_with_an_sms_code_confirms_it(sms):
    booking, link = make_trip()
    page = Client().get(reverse("trip:page", args=[link.token])).content.decode()
    assert 'id="sign"' in page and "ПЛ-77" in page and "data-sign-pad" in page and "Петров Пётр" in page
    response = Client().post(code_url(link), form(code=""))
    assert response.status_code == 200
    assert "data:image/png;base64," in response.content.decode()  # the drawing comes back
    [code_row] = SignCode.objects.filter(booking=booking)
    assert code_row.channel == "sms" and code_row.phone == PHONE
    deliver_all()
    code = last_code(sms.url)
    assert code not in code_row.code_hash  # only a keyed hash is kept
    response = Client().post(sign_url(link), form(code=code))
    assert response.status_code == 302
    [report] = ShiftReport.objects.filter(booking=booking)
    assert (
        report.code_confirmed and report.signer_name == "Петров Пётр" and report.signer_position == "прораб"
    )
    assert report.snapshot["waybill_number"] == "ПЛ-77" and report.snapshot["hours"] == "8.50"
    assert report.driver_report.number == "ПЛ-77"
    code_row.refresh_from_db()
    assert code_row.used_at is not None
    page = Client().get(response["Location"]).content.decode()
    pdf_path = reverse("trip:shift_report_pdf", args=[link.token, report.pk])
    assert pdf_path in page
    download = Client().get(pdf_path)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_a_bound_telegram_chat_with_this_phone_gets_the_code(telegram):
    booking, link = make_trip()
    DriverFactory(phone=PHONE, telegram_chat_id="5550001")
    Client().post(code_url(link), form())
    [code_row] = SignCode.objects.filter(booking=booking)
    assert code_row.channel == "telegram" and code_row.message.recipient == "5550001"
    deliver_all()
    messages = httpx.get(f"{telegram.url}/_sent").json()["messages"]
    code = re.search(r"\b(\d{6})\b", messages[-1]["text"]).group(1)
    assert Client().post(sign_url(link), form(code=code)).status_code == 302
    assert ShiftReport.objects.get(booking=booking).code_confirmed


def test_a_wrong_code_is_refused_and_counted_up_to_the_limit(sms):
    booking, link = make_trip()
    Client().post(code_url(link), form())
    deliver_all()
    right = last_code(sms.url)
    wrong = "000000" if right != "000000" else "111111"
    response = Client().post(sign_url(link), form(code=wrong))
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert SignCode.objects.get(booking=booking).attempts == 1
    for _ in range(4):
        Client().post(sign_url(link), form(code=wrong))
    assert SignCode.objects.get(booking=booking).attempts == 5
    with pytest.raises(Exception) as refused:
        shift_reports.check_code(booking=booking, phone=PHONE, code=right)
    assert refused.value.error_dict["code"][0].code == "too_many_attempts"
    assert not ShiftReport.objects.exists()


def test_an_expired_code_is_refused(sms):
    booking, link = make_trip()
    Client().post(code_url(link), form())
    deliver_all()
    code = last_code(sms.url)
    SignCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().post(sign_url(link), form(code=code))
    assert response.status_code == 400
    with pytest.raises(Exception) as refused:
        shift_reports.check_code(booking=booking, phone=PHONE, code=code)
    assert refused.value.error_dict["code"][0].code == "expired"
    assert not ShiftReport.objects.exists()


def test_codes_are_rate_limited(sms):
    booking, link = make_trip()
    assert Client().post(code_url(link), form()).status_code == 200
    assert Client().post(code_url(link), form()).status_code == 409  # within a minute
    for _ in range(4):
        SignCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
        shift_reports.send_code(booking=booking)
    SignCode.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    with pytest.raises(shift_reports.SignRefused) as refused:
        shift_reports.send_code(booking=booking)
    assert refused.value.code == "too_many"
    assert SignCode.objects.filter(booking=booking).count() == 5


def test_no_phone_signs_without_a_code():
    booking, link = make_trip(phone="")
    page = Client().get(sign_url(link)).content.decode()
    assert "trip:sign_code" not in page and reverse("trip:sign_code", args=[link.token]) not in page
    with pytest.raises(shift_reports.SignRefused):
        shift_reports.send_code(booking=booking)
    assert Client().post(sign_url(link), form()).status_code == 302
    report = ShiftReport.objects.get(booking=booking)
    assert not report.code_confirmed and report.signer_phone == ""


def test_a_phone_no_channel_reaches_signs_without_a_code():
    booking, link = make_trip()
    assert Client().post(code_url(link), form()).status_code == 409
    assert not SignCode.objects.exists()
    assert Client().post(sign_url(link), form()).status_code == 302
    assert ShiftReport.objects.get(booking=booking).code_confirmed is False


@pytest.mark.parametrize(
    ("value", "code"),
    [("", "required"), (signature(ink=False), "blank"), ("data:image/png;base64,AAAA", "bad_type")],
)
def test_a_blank_or_broken_signature_is_refused(value, code):
    booking, link = make_trip()
    response = Client().post(sign_url(link), form(signature=value))
    assert response.status_code == 400
    with pytest.raises(Exception) as refused:
        shift_reports.signature_png(value)
    assert refused.value.error_dict["signature"][0].code == code
    assert not ShiftReport.objects.exists()


def test_name_and_position_are_required():
    booking, link = make_trip()
    response = Client().post(sign_url(link), form(name=" ", position=""))
    assert response.status_code == 400
    assert response.content.decode().count('class="field-error"') == 2


def test_the_same_key_twice_makes_one_report():
    booking, link = make_trip()
    first = Client().post(sign_url(link), form())
    second = Client().post(sign_url(link), form())
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert ShiftReport.objects.count() == 1
    # The same figures signed again from another page render: still the one report.
    Client().post(sign_url(link), form(key="another-key-0000000000"))
    assert ShiftReport.objects.count() == 1


def test_nothing_to_sign_before_the_driver_reports():
    booking, link = make_trip(report=False)
    page = Client().get(reverse("trip:page", args=[link.token])).content.decode()
    assert 'id="sign"' not in page
    assert Client().post(sign_url(link), form()).status_code == 409


def test_a_waybill_is_signed_when_there_is_no_trip_report():
    booking, link = make_trip(report=False)
    waybill = WaybillFactory(booking=booking, number="ПЛ-5", hours=Decimal("7"))
    assert Client().post(sign_url(link), form()).status_code == 302
    report = ShiftReport.objects.get(booking=booking)
    assert report.waybill == waybill and report.snapshot["waybill_number"] == "ПЛ-5"


# --- the PDF and its hash -------------------------------------------------------------------
def test_the_pdf_reads_back_with_the_hash_and_the_signature():
    booking, link = make_trip()
    Client().post(sign_url(link), form())
    report = ShiftReport.objects.get()
    content = shift_reports.report_content(report)
    assert report.content_sha256 == shift_reports.content_hash(content)
    check = shift_reports.verify(report)
    assert check.ok, check.problems
    assert check.printed == report.content_sha256 and check.images >= 1
    # A changed record no longer matches what was printed and signed.
    ShiftReport.objects.filter(pk=report.pk).update(snapshot={**report.snapshot, "hours": "12"})
    report.refresh_from_db()
    assert "content_changed" in shift_reports.verify(report).problems


def test_the_verify_command(capsys):
    from django.core.management import call_command

    booking, link = make_trip()
    Client().post(sign_url(link), form())
    report = ShiftReport.objects.get()
    call_command("verify_shift_report", str(report.pk))
    assert report.content_sha256 in capsys.readouterr().out


# --- the e-mail -------------------------------------------------------------------------------
def test_the_customer_gets_the_pdf_by_email():
    booking, link = make_trip()
    Client().post(sign_url(link), form())
    report = ShiftReport.objects.get()
    message = report.email_message
    assert message.idempotency_key == f"shift-report:{report.pk}:email"
    assert message.recipient == "buh@zakazchik.ru"
    assert message.attachments == [
        {
            "name": report.pdf.name,
            "filename": shift_reports.pdf_filename(report),
            "content_type": "application/pdf",
        }
    ]
    assert outbox.deliver(message.pk) == "sent"
    [email] = mail.outbox
    filename, content, content_type = email.attachments[0]
    assert filename == shift_reports.pdf_filename(report) and content.startswith(b"%PDF-")
    assert content_type == "application/pdf"


def test_no_address_no_email_and_the_booking_page_says_so(make_user):
    booking, link = make_trip(email="")
    Client().post(sign_url(link), form())
    report = ShiftReport.objects.get()
    assert report.email_message is None
    client = Client()
    client.force_login(make_user(Role.MANAGER))
    page = client.get(booking.get_absolute_url()).content.decode()
    assert f'id="shift-report-{report.pk}"' in page
    assert "data-shift-report-no-email" in page


# --- where it shows ---------------------------------------------------------------------------
def test_the_booking_page_lists_shift_reports_and_the_pdf_is_behind_the_login(make_user, monkeypatch):
    booking, link = make_trip()
    Client().post(sign_url(link), form())
    report = ShiftReport.objects.get()
    pdf = reverse("bookings:shift_report_pdf", args=[report.pk])
    manager = Client()
    manager.force_login(make_user(Role.MANAGER))
    page = manager.get(booking.get_absolute_url()).content.decode()
    assert "Петров Пётр" in page and report.hash_short in page and pdf in page
    response = manager.get(pdf)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]
    anonymous = Client().get(pdf)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    monkeypatch.setitem(MATRIX["waybill"], Role.DIRECTOR, frozenset())
    director = Client()
    director.force_login(make_user(Role.DIRECTOR))
    assert director.get(pdf).status_code == 403


def test_the_overtime_invoice_shows_the_customers_confirmation(make_user):
    from arenda.flows import trips

    booking, link = make_trip(report=False)
    Booking.objects.filter(pk=booking.pk).update(status="confirmed")
    booking.refresh_from_db()
    result = trips.waybill_record(
        booking=booking,
        data={
            "number": "ПЛ-9",
            "started_at": booking.start - timedelta(days=3),
            "finished_at": booking.start - timedelta(days=3) + timedelta(hours=11),
            "hours": Decimal("11"),
        },
        by=None,
    )
    invoice = result.overtime_invoice
    assert invoice is not None
    Client().post(sign_url(link), form())
    report = ShiftReport.objects.get()
    client = Client()
    client.force_login(make_user(Role.MANAGER))
    page = client.get(invoice.get_absolute_url()).content.decode()
    assert 'id="customer-confirmation"' in page
    assert reverse("bookings:shift_report_pdf", args=[report.pk]) in page


@pytest.mark.parametrize("case", ["wrong", "revoked", "closed", "cancelled"])
def test_a_wrong_revoked_or_closed_link_answers_404_on_the_sign_urls(case):
    booking, link = make_trip()
    Client().post(sign_url(link), form())
    report = ShiftReport.objects.get()
    token = link.token
    if case == "wrong":
        token = "x" * len(token)
    elif case == "revoked":
        trip_links.revoke(booking=booking)
    else:
        Booking.objects.filter(pk=booking.pk).update(status=case)
    client = Client()
    assert client.get(reverse("trip:sign", args=[token])).status_code == 404
    assert client.post(reverse("trip:sign", args=[token]), form(key="k" * 30)).status_code == 404
    assert client.post(reverse("trip:sign_code", args=[token]), form()).status_code == 404
    assert client.get(reverse("trip:shift_report_pdf", args=[token, report.pk])).status_code == 404


def test_another_bookings_report_is_not_served_through_a_link():
    booking, link = make_trip()
    Client().post(sign_url(link), form())
    report = ShiftReport.objects.get()
    other_booking, other = make_trip()
    assert Client().get(reverse("trip:shift_report_pdf", args=[other.token, report.pk])).status_code == 404


def test_the_api_lists_a_bookings_shift_reports(api):
    booking, link = make_trip()
    Client().post(sign_url(link), form())
    report = ShiftReport.objects.get()
    response = api().get(f"/api/v1/bookings/{booking.pk}/shift-reports/")
    assert response.status_code == 200
    [row] = response.json()
    assert row["id"] == report.pk and row["content_sha256"] == report.content_sha256
    assert row["code_confirmed"] is True or row["code_confirmed"] is False
    assert row["pdf"].endswith(reverse("bookings:shift_report_pdf", args=[report.pk]))


def test_figures_corrected_after_signing_are_signed_anew():
    booking, link = make_trip()
    Client().post(sign_url(link), form())
    DriverReport.objects.filter(booking=booking).update(hours=Decimal("9"))
    page = Client().get(sign_url(link)).content.decode()
    assert "data-sign-pad" in page  # the new figures wait for a signature
    assert Client().post(sign_url(link), form(key="second-key-00000000000")).status_code == 302
    assert sorted(r.snapshot["hours"] for r in ShiftReport.objects.all()) == ["8.50", "9.00"]


def test_the_snapshot_names_our_legal_entity_and_the_customer():
    booking, link = make_trip()
    Client().post(sign_url(link), form())
    snapshot = ShiftReport.objects.get().snapshot
    organization = booking.deal.organization
    assert snapshot["organization_inn"] == organization.inn
    assert snapshot["customer_inn"] == booking.deal.counterparty.inn
    assert snapshot["site_address"] == booking.site_address
    assert snapshot["machine"] and snapshot["date"] == timezone.localtime(booking.start).date().isoformat()


def test_figures_changed_since_the_page_was_shown_are_not_signed():
    booking, link = make_trip()
    page = Client().get(sign_url(link)).content.decode()
    shown = re.search(r'name="shown" value="([0-9a-f]+)"', page).group(1)
    DriverReport.objects.filter(booking=booking).update(km=Decimal("99"))
    response = Client().post(sign_url(link), form(shown=shown))
    assert response.status_code == 409
    assert not ShiftReport.objects.exists()
    fresh = re.search(r'name="shown" value="([0-9a-f]+)"', response.content.decode()).group(1)
    assert fresh != shown
    assert Client().post(sign_url(link), form(shown=fresh)).status_code == 302
    assert ShiftReport.objects.get().snapshot["km"] == "99.0"
