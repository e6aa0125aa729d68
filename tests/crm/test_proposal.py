"""The КП: its PDF holds our requisites, the customer, the lines, the totals and VAT per our
legal entity's VAT mode; the customer's link works only with the right token and accepting
it twice makes the bookings once."""

import re
import threading
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from arenda.bookings.models import Booking
from arenda.core.roles import Role
from arenda.crm import services
from arenda.crm.models import Deal
from arenda.crm.proposal import date_in_words, proposal_version, render_proposal_pdf
from arenda.directory.models import VatRate
from tests.factories import DealFactory, EquipmentTypeFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def add_line(deal, **data):
    start = timezone.localtime() + timedelta(days=3)
    start = start.replace(hour=8, minute=0, second=0, microsecond=0)
    values = {
        "equipment_type": EquipmentTypeFactory(name="Автокран 25 т"),
        "start": start,
        "end": start + timedelta(hours=8),
        "ordered_hours": Decimal("8"),
        "rate_per_hour": Decimal("3500.00"),
        "site_address": "Москва, ул. Строителей, 5",
        **data,
    }
    return services.deal_line_add(deal=deal, by=None, **values)


def pdf_text(deal) -> str:
    data = render_proposal_pdf(deal)
    assert data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


@pytest.fixture
def deal():
    manager = UserFactory(full_name="Сергеев Олег", phone="+79161234567", email="oleg@arenda.test")
    org = OrganizationFactory(name="ООО «Кран-Сервис»", vat_rate=VatRate.VAT22, phone="+74951112233")
    deal = DealFactory(
        organization=org, manager=manager, proposal_valid_until=timezone.localdate() + timedelta(days=10)
    )
    add_line(deal)  # 8 × 3500 = 28 000
    # 7.5 h × 3333.33 = 24 999.975 → 24 999.98; 12.5 km × 45.55 = 569.375 → 569.38
    add_line(
        deal,
        equipment_type=EquipmentTypeFactory(name="Экскаватор JCB 3CX"),
        ordered_hours=Decimal("7.5"),
        rate_per_hour=Decimal("3333.33"),
        km=Decimal("12.5"),
        rate_per_km=Decimal("45.55"),
        min_capacity_t=Decimal("8"),
        site_address="Химки, Ленинградское ш., 1",
    )
    return deal


def test_pdf_holds_requisites_lines_totals_and_vat(deal):
    org, customer = deal.organization, deal.counterparty
    text = pdf_text(deal)
    for expected in (org.inn, org.kpp, org.ogrn, org.bik, org.account, org.corr_account, "ООО «Кран-Сервис»"):
        assert expected in text
    assert customer.inn in text and "Заказчик" in text
    assert f"Коммерческое предложение № {deal.pk} от {date_in_words(timezone.localdate())}" in text
    assert "Автокран 25 т" in text and "Экскаватор JCB 3CX" in text and "Химки" in text
    assert "28 000,00 ₽" in text and "3 333,33 ₽" in text and "45,55 ₽" in text
    # the second line rounds each part to kopecks: 24 999,98 + 569,38
    assert "25 569,36 ₽" in text
    assert "Итого: 53 569,36 ₽" in text
    # VAT inside the price: 53 569.36 × 22 / 122 = 9 660.0485 → 9 660.05
    assert "В том числе НДС 22 %: 9 660,05 ₽" in text
    assert f"действительно до {date_in_words(deal.proposal_valid_until)}" in text
    assert "Сергеев Олег" in text and "oleg@arenda.test" in text


def test_pdf_of_a_legal_entity_without_vat(deal):
    deal.organization.vat_rate = VatRate.NONE
    deal.organization.save()
    text = pdf_text(deal)
    assert "Без налога (НДС)" in text and "В том числе НДС" not in text


def test_pdf_without_our_legal_entity_uses_the_first_active_one():
    first = OrganizationFactory(vat_rate=VatRate.VAT10)
    OrganizationFactory()
    deal = DealFactory()
    add_line(deal, ordered_hours=Decimal("1"), rate_per_hour=Decimal("1100.00"))
    text = pdf_text(deal)
    assert first.inn in text and "В том числе НДС 10 %: 100,00 ₽" in text
    assert f"действительно до {date_in_words(timezone.localdate() + timedelta(days=7))}" in text


def test_manager_downloads_the_pdf_others_may_read_it(client, make_user, deal):
    for role in (Role.MANAGER, Role.DIRECTOR):
        client.force_login(make_user(role))
        response = client.get(reverse("crm:deal_proposal_pdf", args=[deal.pk]))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert f"KP-{deal.pk}.pdf" in response["Content-Disposition"]


def test_public_link_works_only_with_the_right_token(client, deal):
    token = services.proposal_token_for(deal)
    page = client.get(reverse("proposal:page", args=[token]))
    assert page.status_code == 200
    assert f"Коммерческое предложение № {deal.pk}" in page.content.decode()
    pdf = client.get(reverse("proposal:pdf", args=[token]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x", token.upper() + "0"):
        assert client.get(reverse("proposal:page", args=[wrong])).status_code == 404
        assert client.get(reverse("proposal:pdf", args=[wrong])).status_code == 404
        assert client.post(reverse("proposal:accept", args=[wrong])).status_code == 404
    assert Booking.objects.count() == 0


def test_customer_accepts_once_and_sees_when(client, deal):
    token = services.proposal_token_for(deal)
    url = reverse("proposal:accept", args=[token])
    seen = {"version": proposal_version(deal)}  # the accept form sends the version it shows
    first = client.post(url, seen)
    assert first.status_code == 302
    second = client.post(url, seen)
    assert second.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == Deal.Stage.AGREED and deal.agreed_by_customer
    assert deal.bookings.count() == 2 and set(deal.bookings.values_list("status", flat=True)) == {"draft"}
    page = client.get(reverse("proposal:page", args=[token])).content.decode()
    assert "accept-form" not in page and "proposal-accepted" in page


def test_accept_needs_post(client, deal):
    token = services.proposal_token_for(deal)
    assert client.get(reverse("proposal:accept", args=[token])).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_accepting_twice_at_once_makes_the_bookings_once(deal):
    token = services.proposal_token_for(deal)
    seen = {"version": proposal_version(deal)}
    barrier = threading.Barrier(2)
    errors = []

    def accept():
        from django.test import Client

        try:
            barrier.wait()
            Client().post(reverse("proposal:accept", args=[token]), seen)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Booking.objects.filter(deal=deal).count() == 2


def test_a_browser_can_accept_with_csrf_checks_on(deal):
    """The page keeps the browser sending a real Origin (Referrer-Policy same-origin, not
    no-referrer — with no-referrer Chromium sends "Origin: null" and CSRF refuses it)."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    token = services.proposal_token_for(deal)
    page = browser.get(reverse("proposal:page", args=[token]))
    assert page["Referrer-Policy"] == "same-origin"
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        reverse("proposal:accept", args=[token]),
        {"csrfmiddlewaretoken": csrf, "version": proposal_version(deal)},
        HTTP_ORIGIN="http://testserver",
    )
    assert accepted.status_code == 302
    deal.refresh_from_db()
    assert deal.agreed_by_customer
