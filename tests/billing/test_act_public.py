"""The customer's link of a closing document (``/a/<token>/``): the customer reads it,
downloads the PDF and accepts it naming who signs — the act is signed «through the link»
and the accountant is told, once; a signed act says so; an unknown token, a draft or a
cancelled act is a plain 404 that shows nothing of it; the accept posts are rate-limited
and CSRF-checked."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from arenda.billing import acts
from arenda.billing.models import Act
from arenda.core.models import Notification
from arenda.core.roles import Role
from arenda.directory.models import VatRate
from arenda.flows.trips import waybill_update
from tests.billing.test_act_printing import closed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    """The rate limit counts in the cache; every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def act():
    return closed(form="upd", vat=VatRate.VAT22)


@pytest.fixture
def customer():
    """The customer's browser, in English so that the messages read as in the code."""
    return Client(headers={"Accept-Language": "en"})


def told():
    """The notices naming the signer (the waybill left others; the text is in the company's
    language, the signer's name in any)."""
    return Notification.objects.filter(text__contains="Петров")


def url(act, name="page"):
    return reverse(f"act_public:{name}", args=[act.accept_token])


def test_the_customer_reads_the_act(act, customer):
    response = customer.get(url(act))
    assert response.status_code == 200
    page = response.content.decode()
    assert act.number in page and act.counterparty.inn in page and act.organization.inn in page
    assert "31\u202f500,00" in page  # 9 h × 3 500,00
    assert url(act, "pdf") in page and "Accept the document" in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]


def test_the_customer_downloads_the_pdf(act, customer):
    response = customer.get(url(act, "pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    text = PdfReader(BytesIO(response.content)).pages[0].extract_text()
    assert act.counterparty.inn in text and "Статус" in text


def test_accepting_needs_the_signers_name(act, customer):
    response = customer.post(url(act, "accept"), {"signer": "  "})
    assert response.status_code == 400
    assert "Say who accepts the document." in response.content.decode()
    act.refresh_from_db()
    assert act.status == Act.Status.ISSUED
    assert not told().exists()


def test_the_customer_accepts_and_the_accountant_is_told_once(
    act, customer, make_user, django_capture_on_commit_callbacks
):
    accountant = make_user(Role.ACCOUNTANT)
    manager = make_user(Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        response = customer.post(url(act, "accept"), {"signer": "Петров П. П., прораб"})
    assert response.status_code == 302 and response["Location"] == url(act)
    act.refresh_from_db()
    assert act.status == Act.Status.SIGNED
    assert (act.signed_via, act.signed_by_name) == (Act.SignedVia.LINK, "Петров П. П., прораб")
    assert act.signed_on == timezone.localdate()
    [notice] = told()
    assert notice.user == accountant and "Петров П. П., прораб" in notice.text
    assert not told().filter(user=manager).exists()
    page = customer.get(url(act)).content.decode()
    assert "Signed" in page and "Петров П. П., прораб" in page and "Accept the document" not in page
    # pressed again: nothing changes, nobody is told twice
    with django_capture_on_commit_callbacks(execute=True):
        again = customer.post(url(act, "accept"), {"signer": "Другой"})
    assert again.status_code == 302
    act.refresh_from_db()
    assert act.signed_by_name == "Петров П. П., прораб"
    assert told().count() == 1
    assert not Notification.objects.filter(text__contains="Другой").exists()


def test_without_accountants_the_administrators_are_told(
    act, customer, make_user, django_capture_on_commit_callbacks
):
    admin = make_user(Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        customer.post(url(act, "accept"), {"signer": "Петров"})
    assert list(told().values_list("user", flat=True)) == [admin.pk]


def test_an_act_marked_signed_by_the_accountant_shows_signed(act, customer):
    acts.act_mark_signed(act=act, by=None, signer="")
    page = customer.get(url(act)).content.decode()
    assert "Signed" in page and "Accept the document" not in page


@pytest.mark.parametrize("name", ["page", "pdf", "accept"])
def test_a_cancelled_act_and_an_unknown_token_are_404_without_data(act, customer, name):
    token = act.accept_token
    acts.act_cancel(act=act, reason="wrong customer", by=None)
    method = customer.post if name == "accept" else customer.get
    for address in (url(act, name), reverse(f"act_public:{name}", args=["x" + token[1:]])):
        response = method(address, {"signer": "Петров"} if name == "accept" else None)
        assert response.status_code == 404
        body = response.content.decode(errors="replace")
        assert act.counterparty.name not in body and act.counterparty.inn not in body
    act.refresh_from_db()
    assert act.status == Act.Status.CANCELLED


def test_a_token_differing_only_in_case_is_404(act, customer):
    assert customer.get(reverse("act_public:page", args=[act.accept_token.swapcase()])).status_code == 404


@override_settings(INTAKE_RATE_LIMIT=2)
def test_the_accept_posts_are_rate_limited(act, customer, time_machine):
    # The counts are per clock minute (crm/intake.py): posts that straddled one would pass.
    time_machine.move_to(timezone.now().replace(second=5), tick=False)
    answers = [customer.post(url(act, "accept"), {"signer": ""}) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert int(answers[2]["Retry-After"]) >= 1
    assert "Too many requests" in answers[2].content.decode()
    assert customer.post(url(act, "accept"), {"signer": "Петров"}).status_code == 429
    act.refresh_from_db()
    assert act.status == Act.Status.ISSUED


def test_accepting_needs_the_csrf_token(act):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(url(act, "accept"), {"signer": "Петров"}).status_code == 403
    page = browser.get(url(act))
    token = page.cookies["csrftoken"].value
    response = browser.post(url(act, "accept"), {"signer": "Петров", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    act.refresh_from_db()
    assert act.status == Act.Status.SIGNED


def test_a_corrections_link_shows_the_amounts_before_and_after(customer):
    act = closed(form="act", vat=VatRate.NONE, hours="8")
    booking = act.booking_links.get().booking
    waybill_update(waybill=booking.waybills.get(), data={"hours": Decimal("10")}, by=booking.deal.manager)
    correction = acts.act_issue(act=Act.objects.get(corrects=act), by=None)
    page = customer.get(url(correction)).content.decode()
    assert "28\u202f000,00" in page and "35\u202f000,00" in page and "+7\u202f000,00" in page
    assert f"№ {act.number}" in page
