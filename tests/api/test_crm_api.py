"""The leads, deals (with lines and comments) and intake-token endpoints: lists and
filters, limited edits, totals with VAT, the КП route, and who may call what."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from arenda.core.models import Notification
from arenda.core.roles import Role
from arenda.crm.models import DealLine, IntakeToken, Lead
from tests.factories import (
    CounterpartyFactory,
    DealFactory,
    DealLineFactory,
    EquipmentTypeFactory,
    LeadFactory,
    OrganizationFactory,
    UserFactory,
)

ROLES = [Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR]

# --- leads ------------------------------------------------------------------------------------


def test_manual_entry_joins_an_open_lead_like_any_channel(api):
    client = api(Role.MANAGER)
    body = {"name": "Звонков Иван", "phone": "8 (912) 345-67-89", "message": "Позвонил в офис"}
    first = client.post("/api/v1/leads/", body)
    assert first.status_code == 201, first.content
    assert (first.json()["source"], first.json()["phone"]) == ("manual", "+79123456789")
    assert first.json()["messages"][0]["author"] == client.user.pk
    again = client.post("/api/v1/leads/", {"phone": "9123456789", "message": "Перезвонил"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert [m["text"] for m in again.json()["messages"]] == ["Позвонил в офис", "Перезвонил"]
    assert client.post("/api/v1/leads/", {"name": "без контактов"}).status_code == 400


def test_the_lead_detail_nests_its_conversation(api):
    lead = LeadFactory()
    client = api(Role.MANAGER)
    client.post(f"/api/v1/leads/{lead.pk}/reply/", {"text": "Перезвоню через 5 минут"})
    messages = client.get(f"/api/v1/leads/{lead.pk}/").json()["messages"]
    assert [(m["direction"], m["text"], m["author_name"]) for m in messages] == [
        ("out", "Перезвоню через 5 минут", client.user.full_name)
    ]
    assert "messages" not in client.get("/api/v1/leads/").json()["results"][0]


def test_only_some_fields_of_a_lead_change(api):
    lead = LeadFactory(phone="+79123456789")
    client = api(Role.MANAGER)
    response = client.patch(
        f"/api/v1/leads/{lead.pk}/",
        {
            "name": "Иван",
            "company": "ООО «Ромашка»",
            "email": "ivan@example.ru",
            "phone": "+79990000000",
            "status": "junk",
        },
    )
    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert (lead.name, lead.company, lead.email) == ("Иван", "ООО «Ромашка»", "ivan@example.ru")
    assert (lead.phone, lead.status) == ("+79123456789", "new")
    assert client.patch(f"/api/v1/leads/{lead.pk}/", {"email": "не почта"}).status_code == 400


def test_assigning_a_manager_tells_them(api, django_capture_on_commit_callbacks):
    lead = LeadFactory()
    colleague = UserFactory(role=Role.MANAGER)
    client = api(Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(f"/api/v1/leads/{lead.pk}/", {"manager": colleague.pk})
    assert response.status_code == 200 and response.json()["manager_name"] == colleague.full_name
    assert Notification.objects.filter(user=colleague, url=lead.get_absolute_url()).exists()
    accountant = UserFactory(role=Role.ACCOUNTANT)
    response = client.patch(f"/api/v1/leads/{lead.pk}/", {"manager": accountant.pk})
    assert response.status_code == 400 and "manager" in response.json()
    assert Lead.objects.get(pk=lead.pk).manager == colleague


def test_lead_list_filters_and_searches(api):
    manager = UserFactory(role=Role.MANAGER)
    mine = LeadFactory(manager=manager, phone="+79123456789", name="Пётр Кранов", email="petr@example.ru")
    junk = LeadFactory(status="junk", junk_reason="спам", source="vk")
    other = LeadFactory()
    client = api(Role.DIRECTOR)

    def ids(query):
        response = client.get(f"/api/v1/leads/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {mine.pk, junk.pk, other.pk}
    assert ids("status=junk") == ids("source=vk") == {junk.pk}
    assert ids(f"manager={manager.pk}") == {mine.pk}
    assert ids("search=8 (912) 345-67-89") == ids("search=Кранов") == ids("search=petr@") == {mine.pk}
    assert client.get("/api/v1/leads/?status=nonsense").status_code == 400


def test_lead_list_queries_do_not_grow_with_the_rows(api):
    client = api(Role.MANAGER)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/leads/").status_code == 200
        return len(queries)

    LeadFactory(manager=UserFactory(role=Role.MANAGER), counterparty=CounterpartyFactory())
    few = count()
    for _ in range(8):
        LeadFactory(manager=UserFactory(role=Role.MANAGER), counterparty=CounterpartyFactory())
    assert count() == few


# --- deals ------------------------------------------------------------------------------------


def test_a_deal_with_lines_totals_and_vat(api):
    organization = OrganizationFactory(vat_rate="20")
    client = api(Role.MANAGER)
    created = client.post(
        "/api/v1/deals/",
        {
            "title": "Кран на Ленина",
            "counterparty": CounterpartyFactory().pk,
            "organization": organization.pk,
        },
    )
    assert created.status_code == 201, created.content
    assert (created.json()["manager"], created.json()["stage"], created.json()["total"]) == (
        client.user.pk,
        "new",
        "0.00",
    )
    deal_id = created.json()["id"]
    start = "2030-03-10T08:00:00+03:00"
    line = {
        "equipment_type": EquipmentTypeFactory().pk,
        "min_capacity_t": "25",
        "start": start,
        "end": "2030-03-10T16:00:00+03:00",
        "ordered_hours": "8",
        "rate_per_hour": "3500.00",
        "km": "30",
        "rate_per_km": "100.00",
        "site_address": "Москва, ул. Ленина, 1",
    }
    added = client.post(f"/api/v1/deals/{deal_id}/lines/", line)
    assert added.status_code == 201, added.content
    assert (added.json()["amount"], added.json()["position"]) == ("31000.00", 1)
    client.post(f"/api/v1/deals/{deal_id}/lines/", {**line, "ordered_hours": "4", "km": "0"})
    deal = client.get(f"/api/v1/deals/{deal_id}/").json()
    assert [row["position"] for row in deal["lines"]] == [1, 2]
    assert (deal["total"], deal["vat_rate"], deal["vat_amount"]) == ("45000.00", "20", "7500.00")
    line_url = f"/api/v1/deals/{deal_id}/lines/{added.json()['id']}/"
    assert client.patch(line_url, {"rate_per_hour": "4000.00"}).json()["amount"] == "35000.00"
    assert client.patch(line_url, {"end": start}).status_code == 400
    assert client.delete(line_url).status_code == 204
    assert client.get(f"/api/v1/deals/{deal_id}/").json()["total"] == "14000.00"


def test_vat_of_the_default_legal_entity_when_the_deal_names_none(api):
    OrganizationFactory(vat_rate="none", is_active=False)
    OrganizationFactory(vat_rate="5")
    deal = DealFactory(organization=None)
    DealLineFactory(deal=deal, ordered_hours=Decimal("10"), rate_per_hour=Decimal("2100"), km=0)
    data = api(Role.ACCOUNTANT).get(f"/api/v1/deals/{deal.pk}/").json()
    assert (data["total"], data["vat_rate"], data["vat_amount"]) == ("21000.00", "5", "1000.00")
    no_vat = DealFactory(organization=OrganizationFactory(vat_rate="none"))
    assert api(Role.ACCOUNTANT).get(f"/api/v1/deals/{no_vat.pk}/").json()["vat_amount"] is None


def test_lines_are_frozen_once_agreed(api):
    client = api(Role.MANAGER)
    deal = DealFactory(stage="proposal")
    line = DealLineFactory(deal=deal)
    assert client.post(f"/api/v1/deals/{deal.pk}/agree/").status_code == 201
    for response in (
        client.patch(f"/api/v1/deals/{deal.pk}/lines/{line.pk}/", {"notes": "позже"}),
        client.delete(f"/api/v1/deals/{deal.pk}/lines/{line.pk}/"),
    ):
        assert response.status_code == 409 and response.json()["code"] == "deal_agreed"
    assert DealLine.objects.get(pk=line.pk).notes == ""


def test_contact_of_another_counterparty_is_refused(api):
    from tests.factories import ContactFactory

    response = api(Role.MANAGER).post(
        "/api/v1/deals/",
        {"title": "x", "counterparty": CounterpartyFactory().pk, "contact": ContactFactory().pk},
    )
    assert response.status_code == 400 and "contact" in response.json()


def test_comments(api):
    deal = DealFactory()
    client = api(Role.MANAGER)
    response = client.post(f"/api/v1/deals/{deal.pk}/comments/", {"text": "Заказчик просит скидку"})
    assert response.status_code == 201, response.content
    assert response.json()["author"] == client.user.pk
    assert client.post(f"/api/v1/deals/{deal.pk}/comments/", {"text": " "}).status_code == 400
    listed = api(Role.DIRECTOR).get(f"/api/v1/deals/{deal.pk}/comments/").json()
    assert [c["text"] for c in listed] == ["Заказчик просит скидку"]


def test_deal_list_queries_do_not_grow_with_the_rows(api):
    client = api(Role.MANAGER)
    OrganizationFactory()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/deals/").status_code == 200
        return len(queries)

    DealLineFactory(deal=DealFactory(manager=UserFactory(role=Role.MANAGER)))
    few = count()
    for _ in range(6):
        deal = DealFactory(manager=UserFactory(role=Role.MANAGER), organization=OrganizationFactory())
        DealLineFactory(deal=deal)
        DealLineFactory(deal=deal, position=2)
    assert count() == few


def test_the_proposal_pdf(api):
    OrganizationFactory()
    deal = DealFactory()
    DealLineFactory(deal=deal)
    response = api(Role.DIRECTOR).get(f"/api/v1/deals/{deal.pk}/proposal.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert APIClient().get(f"/api/v1/deals/{deal.pk}/proposal.pdf").status_code == 401
    assert api(Role.DIRECTOR).get("/api/v1/deals/999999/proposal.pdf").status_code == 404


# --- intake tokens ------------------------------------------------------------------------------


def test_a_token_is_shown_once_works_and_can_be_revoked(api):
    admin = api(Role.ADMIN)
    created = admin.post("/api/v1/intake-tokens/", {"name": "Форма на сайте", "source": "website"})
    assert created.status_code == 201, created.content
    plain = created.json()["token"]
    assert created.json()["prefix"] == plain[:8] and created.json()["created_by"] == admin.user.pk
    listed = admin.get("/api/v1/intake-tokens/").json()["results"]
    assert "token" not in listed[0] and plain not in str(listed)
    assert "token" not in admin.get(f"/api/v1/intake-tokens/{created.json()['id']}/").json()

    def intake():
        return APIClient().post(
            "/api/v1/intake/website/", {"phone": "+79123456789"}, format="json", HTTP_X_INTAKE_TOKEN=plain
        )

    assert intake().status_code == 201
    assert admin.get("/api/v1/intake-tokens/").json()["results"][0]["last_used_at"] is not None
    revoked = admin.post(f"/api/v1/intake-tokens/{created.json()['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["is_active"] is False
    assert intake().status_code == 403
    assert admin.post("/api/v1/intake-tokens/", {"name": "x", "source": "fax"}).status_code == 400


def test_a_token_for_any_source(api):
    response = api(Role.ADMIN).post("/api/v1/intake-tokens/", {"name": "АТС и сайт"})
    assert response.status_code == 201 and response.json()["source"] == ""
    assert IntakeToken.objects.get().source == ""


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR])
def test_intake_tokens_are_the_admins(api, role):
    token = IntakeToken.objects.create(name="x", token_hash="0" * 64, prefix="00000000")
    client = api(role)
    for response in (
        client.get("/api/v1/intake-tokens/"),
        client.get(f"/api/v1/intake-tokens/{token.pk}/"),
        client.post("/api/v1/intake-tokens/", {"name": "y"}),
        client.post(f"/api/v1/intake-tokens/{token.pk}/revoke/"),
    ):
        assert response.status_code == 403
    assert IntakeToken.objects.get().is_active
    assert APIClient().get("/api/v1/intake-tokens/").status_code == 401


# --- who may call the actions ---------------------------------------------------------------------


def _lead_action(client, name):
    lead = LeadFactory()
    body = {"reply": {"text": "Здравствуйте"}, "reject": {"reason": "спам"}}.get(name, {})
    return client.post(f"/api/v1/leads/{lead.pk}/{name}/", body)


def _deal_action(client, name):
    deal = DealFactory(stage="proposal")
    line = DealLineFactory(deal=deal)
    if name == "agree":
        return client.post(f"/api/v1/deals/{deal.pk}/agree/")
    if name == "comment":
        return client.post(f"/api/v1/deals/{deal.pk}/comments/", {"text": "ок"})
    if name == "add line":
        body = {
            "equipment_type": line.equipment_type_id,
            "start": line.start.isoformat(),
            "end": line.end.isoformat(),
            "site_address": "Химки",
        }
        return client.post(f"/api/v1/deals/{deal.pk}/lines/", body)
    if name == "change line":
        return client.patch(f"/api/v1/deals/{deal.pk}/lines/{line.pk}/", {"notes": "ок"})
    return client.delete(f"/api/v1/deals/{deal.pk}/lines/{line.pk}/")


ACTIONS = {
    "take": (_lead_action, 200),
    "reply": (_lead_action, 201),
    "qualify": (_lead_action, 201),
    "reject": (_lead_action, 200),
    "agree": (_deal_action, 201),
    "comment": (_deal_action, 201),
    "add line": (_deal_action, 201),
    "change line": (_deal_action, 200),
    "delete line": (_deal_action, 204),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(ACTIONS))
def test_actions_by_role(api, role, name):
    call, success = ACTIONS[name]
    response = call(api(role), name)
    allowed = role in (Role.ADMIN, Role.MANAGER)
    assert response.status_code == (success if allowed else 403), response.content


@pytest.mark.parametrize("name", list(ACTIONS))
def test_actions_need_a_login(db, name):
    call, _success = ACTIONS[name]
    assert call(APIClient(), name).status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_lead_and_deal_reads_by_role(api, role):
    lead, deal = LeadFactory(), DealFactory()
    client = api(role)
    assert client.get(f"/api/v1/leads/{lead.pk}/").status_code == 200
    assert client.get(f"/api/v1/deals/{deal.pk}/lines/").status_code == 200
    assert client.get(f"/api/v1/deals/{deal.pk}/comments/").status_code == 200
