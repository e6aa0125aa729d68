"""The closing document's paper side for the staff: its PDF (the page and the API), the
e-mail to the customer through the outbox — the PDF attached, the customer's link in the
text, once however many times the button is pressed — and the buttons' partial."""

from io import BytesIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from pypdf import PdfReader

from arenda.billing import act_mail, acts
from arenda.billing.models import Act
from arenda.core.roles import Role
from arenda.directory.models import VatRate
from arenda.integrations.messaging import outbox
from arenda.integrations.messaging.models import OutboxMessage
from tests.billing.test_act_printing import closed

pytestmark = pytest.mark.django_db
PUBLIC = "https://arenda.example.ru"


@pytest.fixture
def act():
    act = closed(form="act", vat=VatRate.NONE)
    act.counterparty.email = "buh@zakazchik.ru"
    act.counterparty.save()
    return act


def staff(make_user, role=Role.ACCOUNTANT):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(make_user(role))
    return client


def send_url(act):
    return reverse("billing:act_send", args=[act.pk])


# --- the PDF ------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR, Role.ADMIN])
def test_the_staff_read_the_pdf(act, make_user, role):
    response = staff(make_user, role).get(reverse("billing:act_pdf", args=[act.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        f'filename="Akt-{act.number}-{act.year}-{act.organization.inn}.pdf"'
        in response["Content-Disposition"]
    )
    text = PdfReader(BytesIO(response.content)).pages[0].extract_text()
    assert act.counterparty.inn in text


def test_the_pdf_needs_a_login_and_a_cancelled_act_does_not_print(act, make_user):
    url = reverse("billing:act_pdf", args=[act.pk])
    assert Client().get(url).status_code == 302
    acts.act_cancel(act=act, reason="wrong customer", by=None)
    assert staff(make_user).get(url).status_code == 404
    assert staff(make_user).get(reverse("billing:act_pdf", args=[act.pk + 100])).status_code == 404


def test_the_api_gives_the_pdf(act, api):
    response = api(Role.MANAGER).get(f"/api/v1/acts/{act.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert api(Role.ACCOUNTANT).get(f"/api/v1/acts/{act.pk + 100}/pdf/").status_code == 404
    assert Client().get(f"/api/v1/acts/{act.pk}/pdf/").status_code in (401, 403)
    acts.act_cancel(act=act, reason="wrong customer", by=None)
    assert api(Role.ACCOUNTANT).get(f"/api/v1/acts/{act.pk}/pdf/").status_code == 404


def test_the_api_schema_documents_the_pdf(api):
    schema = api(Role.ADMIN).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/acts/{id}/pdf/"]["get"]
    assert "application/pdf" in operation["responses"]["200"]["content"]


# --- the e-mail ---------------------------------------------------------------------------------
@override_settings(PUBLIC_URL=PUBLIC)
def test_sending_emails_the_pdf_with_the_customers_link_and_marks_the_act_sent(act, make_user):
    client = staff(make_user)
    page = client.get(send_url(act))
    assert page.status_code == 200 and 'value="buh@zakazchik.ru"' in page.content.decode()
    response = client.post(send_url(act), {"to": "buh@zakazchik.ru", "key": "k1", "next": "/invoices/"})
    assert response.status_code == 302 and response["Location"] == "/invoices/"
    act.refresh_from_db()
    assert act.status == Act.Status.SENT and act.sent_to == "buh@zakazchik.ru"
    [message] = OutboxMessage.objects.all()
    assert (message.channel, message.recipient, message.subject) == ("email", "buh@zakazchik.ru", act)
    link = f"{PUBLIC}/a/{act.accept_token}/"
    assert link in message.text
    [attachment] = message.attachments
    assert attachment["filename"] == f"Akt-{act.number}-{act.year}-{act.organization.inn}.pdf"
    assert default_storage.exists(attachment["name"])
    assert outbox.deliver(message.pk) == "sent"
    [email] = mail.outbox
    assert email.to == ["buh@zakazchik.ru"] and link in email.body
    filename, content, content_type = email.attachments[0]
    assert content.startswith(b"%PDF") and content_type == "application/pdf"
    assert act.counterparty.inn in PdfReader(BytesIO(content)).pages[0].extract_text()


def test_a_double_click_sends_once(act, make_user):
    client = staff(make_user)
    for _ in range(2):
        assert client.post(send_url(act), {"to": "buh@zakazchik.ru", "key": "same"}).status_code == 302
    assert OutboxMessage.objects.count() == 1
    client.post(send_url(act), {"to": "other@zakazchik.ru", "key": "another-page"})
    assert list(OutboxMessage.objects.order_by("pk").values_list("recipient", flat=True)) == [
        "buh@zakazchik.ru",
        "other@zakazchik.ru",
    ]
    act.refresh_from_db()
    assert act.sent_to == "other@zakazchik.ru"


def test_a_bad_address_is_a_form_error_and_nothing_is_sent(act, make_user):
    response = staff(make_user).post(send_url(act), {"to": "not an address", "key": "k"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not OutboxMessage.objects.exists()
    act.refresh_from_db()
    assert act.status == Act.Status.ISSUED and not act.sent_to


def test_a_draft_is_not_sent(make_user):
    draft = closed(form="act", vat=VatRate.NONE, issue=False)
    response = staff(make_user).post(send_url(draft), {"to": "buh@zakazchik.ru"})
    assert response.status_code == 409
    assert "Issue the closing document before sending it." in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_a_director_only_reads(act, make_user):
    response = staff(make_user, Role.DIRECTOR).post(send_url(act), {"to": "buh@zakazchik.ru"})
    assert response.status_code == 403
    assert not OutboxMessage.objects.exists()


def test_the_service_refuses_a_bad_key_and_an_empty_address(act):
    with pytest.raises(ValidationError) as bad:
        act_mail.act_send(act=act, to="", by=None)
    assert "to" in bad.value.error_dict
    with pytest.raises(ValidationError) as bad:
        act_mail.act_send(act=act, to="buh@zakazchik.ru", by=None, key="a b")
    assert "key" in bad.value.error_dict
    assert not OutboxMessage.objects.exists()


# --- the partial --------------------------------------------------------------------------------
def partial(act, make_user):
    request = RequestFactory().get("/somewhere/")
    request.user = make_user(Role.ACCOUNTANT)
    return render_to_string("billing/_act_documents.html", {"act": act}, request=request)


@override_settings(PUBLIC_URL=PUBLIC)
def test_the_partial_has_the_pdf_the_send_form_and_the_link(act, make_user):
    html = partial(act, make_user)
    assert reverse("billing:act_pdf", args=[act.pk]) in html
    assert f'action="{send_url(act)}"' in html and 'value="buh@zakazchik.ru"' in html
    assert f"{PUBLIC}/a/{act.accept_token}/" in html
    assert 'name="key"' in html and 'name="next" value="/somewhere/"' in html


def test_a_drafts_partial_has_only_the_pdf(make_user):
    draft = closed(form="act", vat=VatRate.NONE, issue=False)
    html = partial(draft, make_user)
    assert reverse("billing:act_pdf", args=[draft.pk]) in html
    assert send_url(draft) not in html and "/a/" not in html
