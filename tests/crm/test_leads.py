"""The lead funnel through the API (new → in_work → qualified | junk), the deal funnel's
refusals as API answers, and the double clicks: qualify and agree at the same moment
make one deal, one counterparty, one contact, one set of bookings."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from arenda.bookings.models import Booking
from arenda.core.roles import Role
from arenda.crm.models import Deal, Lead, LeadMessage
from arenda.directory.models import Contact, Counterparty
from tests.factories import (
    ContactFactory,
    CounterpartyFactory,
    DealFactory,
    DealLineFactory,
    LeadFactory,
    UserFactory,
    make_inn10,
)


@pytest.fixture
def manager(db):
    return UserFactory(role=Role.MANAGER)


@pytest.fixture
def client(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def url(lead, action=""):
    return f"/api/v1/leads/{lead.pk}/" + (f"{action}/" if action else "")


# --- the lead funnel ------------------------------------------------------------------------


def test_take_puts_the_lead_in_work_and_records_the_first_response(client, manager):
    lead = LeadFactory()
    response = client.post(url(lead, "take"))
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["manager"]) == ("in_work", manager.pk)
    lead.refresh_from_db()
    assert lead.first_response_at is not None
    assert response.json()["response_seconds"] >= 0


def test_take_keeps_the_assigned_manager(client):
    owner = UserFactory(role=Role.MANAGER)
    lead = LeadFactory(manager=owner)
    assert client.post(url(lead, "take")).json()["manager"] == owner.pk


def test_a_reply_is_kept_and_answers_the_lead(client, manager):
    lead = LeadFactory()
    response = client.post(url(lead, "reply"), {"text": "Добрый день! Кран свободен."})
    assert response.status_code == 201, response.content
    entry = LeadMessage.objects.get(pk=response.json()["id"])
    assert (entry.direction, entry.author, entry.channel) == ("out", manager, "website")
    lead.refresh_from_db()
    assert lead.status == "in_work" and lead.first_response_at == entry.created_at
    assert client.post(url(lead, "reply"), {"text": "  "}).status_code == 400


def test_reject_needs_a_reason_and_closes_the_lead(client):
    lead = LeadFactory()
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = client.post(url(lead, "reject"), body)
        assert response.status_code == 400 and "reason" in response.json()
    response = client.post(url(lead, "reject"), {"reason": "Спам"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["junk_reason"]) == ("junk", "Спам")


@pytest.mark.parametrize("action, body", [("take", {}), ("reject", {"reason": "ещё раз"}), ("qualify", {})])
def test_a_junk_lead_refuses_the_funnel_with_a_reason(client, action, body):
    lead = LeadFactory(status="junk", junk_reason="Спам")
    response = client.post(url(lead, action), body)
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "lead_closed" and response.json()["detail"]
    assert Lead.objects.get(pk=lead.pk).status == "junk"


def test_qualify_makes_the_deal_counterparty_and_contact(client, manager):
    lead = LeadFactory(name="Петров Иван", phone="+79123456789", email="ivan@example.ru", company="")
    response = client.post(url(lead, "qualify"), {"title": "Кран на Заводскую"})
    assert response.status_code == 201, response.content
    deal = Deal.objects.get(pk=response.json()["deal"])
    assert (deal.title, deal.manager, deal.stage) == ("Кран на Заводскую", manager, "new")
    assert (deal.counterparty.kind, deal.counterparty.name, deal.counterparty.phone) == (
        "person",
        "Петров Иван",
        "+79123456789",
    )
    assert (deal.contact.full_name, deal.contact.phone, deal.contact.counterparty) == (
        "Петров Иван",
        "+79123456789",
        deal.counterparty,
    )
    lead.refresh_from_db()
    assert (lead.status, lead.deal, lead.counterparty, lead.contact) == (
        "qualified",
        deal,
        deal.counterparty,
        deal.contact,
    )
    again = client.post(url(lead, "qualify"))
    assert again.status_code == 200 and again.json() == {"deal": deal.pk}
    assert (Deal.objects.count(), Counterparty.objects.count(), Contact.objects.count()) == (1, 1, 1)


def test_qualify_with_a_chosen_counterparty(client):
    customer = CounterpartyFactory()
    lead = LeadFactory(name="Снабженцев Олег")
    response = client.post(url(lead, "qualify"), {"counterparty": customer.pk})
    deal = Deal.objects.get(pk=response.json()["deal"])
    assert deal.counterparty == customer and deal.contact.counterparty == customer
    assert Counterparty.objects.count() == 1


def test_qualify_a_lead_of_a_known_contact_reuses_it(client):
    contact = ContactFactory(phone="+79123456789")
    lead = LeadFactory(phone="+79123456789", counterparty=contact.counterparty, contact=contact)
    deal = Deal.objects.get(pk=client.post(url(lead, "qualify")).json()["deal"])
    assert (deal.counterparty, deal.contact) == (contact.counterparty, contact)
    assert (Counterparty.objects.count(), Contact.objects.count()) == (1, 1)


def test_qualify_with_an_unknown_organisation_inn_makes_the_organisation(client):
    lead = LeadFactory(inn=make_inn10(5151), company="ООО Новая")
    response = client.post(url(lead, "qualify"))
    assert response.status_code == 201
    counterparty = Deal.objects.get().counterparty
    assert (counterparty.kind, counterparty.inn, counterparty.name) == ("legal", lead.inn, "ООО Новая")
    assert counterparty.missing_requisites() == ["kpp"]


def test_qualifying_a_company_without_an_inn_makes_an_organisation_not_a_person(client):
    """A lead from «ООО СтройМонтаж» made a «Физлицо» without ИНН, which reached 1C as
    ФизическоеЛицо and broke matching bank payments by ИНН."""
    lead = LeadFactory(inn="", company="ООО СтройМонтаж")
    assert client.post(url(lead, "qualify")).status_code == 201
    counterparty = Deal.objects.get().counterparty
    assert (counterparty.kind, counterparty.missing_requisites()) == ("legal", ["inn", "kpp"])


def test_qualify_with_a_bad_counterparty_is_400(client):
    response = client.post(url(LeadFactory(), "qualify"), {"counterparty": 999999})
    assert response.status_code == 400 and "counterparty" in response.json()


# --- the deal funnel, as the API answers it ----------------------------------------------------


def deal_url(deal, action=""):
    return f"/api/v1/deals/{deal.pk}/" + (f"{action}/" if action else "")


def test_allowed_stage_moves(client):
    deal = DealFactory()
    DealLineFactory(deal=deal)
    for stage in ("selection", "proposal", "selection", "new"):
        response = client.patch(deal_url(deal), {"stage": stage})
        assert response.status_code == 200 and response.json()["stage"] == stage


@pytest.mark.parametrize(
    "start, target, code",
    [
        ("new", "won", "stage_move_refused"),
        ("new", "in_progress", "stage_move_refused"),
        ("won", "new", "stage_move_refused"),
        ("new", "proposal", "no_lines"),
    ],
)
def test_refused_stage_moves_are_409_with_the_reason(client, start, target, code):
    deal = DealFactory(stage=start)
    response = client.patch(deal_url(deal), {"stage": target, "title": "новое имя"})
    assert response.status_code == 409, response.content
    assert response.json()["code"] == code and response.json()["detail"]
    deal.refresh_from_db()
    assert (deal.stage, deal.title) == (start, deal.title)
    assert deal.title != "новое имя"  # nothing of a refused change is kept


def test_lost_needs_a_reason(client):
    deal = DealFactory()
    response = client.patch(deal_url(deal), {"stage": "lost"})
    assert response.status_code == 400 and "lost_reason" in response.json()
    response = client.patch(deal_url(deal), {"stage": "lost", "lost_reason": "Дорого"})
    assert response.status_code == 200
    assert (response.json()["stage"], response.json()["lost_reason"]) == ("lost", "Дорого")


def test_lost_refused_while_bookings_are_active_and_won_before_the_work_is_done(client):
    deal = DealFactory(stage="proposal")
    DealLineFactory(deal=deal)
    assert client.post(deal_url(deal, "agree")).status_code == 201
    booking = Booking.objects.get(deal=deal)
    Booking.objects.filter(pk=booking.pk).update(status="reserved", busy_until=booking.end)
    response = client.patch(deal_url(deal), {"stage": "lost", "lost_reason": "Передумали"})
    assert response.status_code == 409 and response.json()["code"] == "active_bookings"
    for stage in ("in_progress", "closing"):
        assert client.patch(deal_url(deal), {"stage": stage}).status_code == 200
    response = client.patch(deal_url(deal), {"stage": "won"})
    assert response.status_code == 409 and response.json()["code"] == "work_not_done"


def test_agree_makes_one_booking_per_line_once(client):
    deal = DealFactory(stage="proposal")
    lines = [DealLineFactory(deal=deal, position=n) for n in (1, 2)]
    first = client.post(deal_url(deal, "agree"))
    assert first.status_code == 201, first.content
    ids = first.json()["bookings"]
    assert len(ids) == 2
    bookings = Booking.objects.filter(pk__in=ids).order_by("pk")
    assert [(b.status, b.site_address, b.rate_per_hour) for b in bookings] == [
        ("draft", line.site_address, line.rate_per_hour) for line in lines
    ]
    second = client.post(deal_url(deal, "agree"))
    assert second.status_code == 200 and second.json()["bookings"] == ids
    assert Booking.objects.count() == 2
    assert Deal.objects.get(pk=deal.pk).stage == "agreed"


def test_agree_without_lines_is_409(client):
    response = client.post(deal_url(DealFactory(), "agree"))
    assert response.status_code == 409 and response.json()["code"] == "no_lines"
    assert not Booking.objects.exists()


# --- two clicks at the same moment ----------------------------------------------------------------


def at_once(user, path, clicks=2):
    """POSTs ``path`` from ``clicks`` threads released together; their answers."""
    barrier = threading.Barrier(clicks)
    answers = []

    def click():
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait(timeout=10)
            response = client.post(path, {}, format="json")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == clicks
    return answers


@pytest.mark.django_db(transaction=True)
def test_qualify_clicked_twice_at_once_makes_everything_once():
    manager = UserFactory(role=Role.MANAGER)
    lead = LeadFactory(name="Петров Иван", phone="+79123456789", email="ivan@example.ru")
    answers = at_once(manager, url(lead, "qualify"))
    assert sorted(code for code, _ in answers) == [200, 201], answers
    assert len({body["deal"] for _, body in answers}) == 1
    assert (Deal.objects.count(), Counterparty.objects.count(), Contact.objects.count()) == (1, 1, 1)
    assert Lead.objects.get(pk=lead.pk).deal_id == answers[0][1]["deal"]


@pytest.mark.django_db(transaction=True)
def test_agree_clicked_twice_at_once_books_once():
    manager = UserFactory(role=Role.MANAGER)
    deal = DealFactory(stage="proposal", manager=manager)
    DealLineFactory(deal=deal)
    DealLineFactory(deal=deal, position=2)
    answers = at_once(manager, deal_url(deal, "agree"))
    assert sorted(code for code, _ in answers) == [200, 201], answers
    assert answers[0][1] == answers[1][1]
    assert Booking.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_one_phone_from_two_channels_at_once_makes_one_lead():
    from arenda.crm.tokens import intake_token_create

    _token, plain = intake_token_create(name="all", source="", by=None)
    barrier = threading.Barrier(2)
    answers = []

    def send(source):
        try:
            barrier.wait(timeout=10)
            response = APIClient().post(
                f"/api/v1/intake/{source}/",
                {"phone": "+79123456789", "message": source},
                format="json",
                HTTP_X_INTAKE_TOKEN=plain,
            )
            answers.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(s,)) for s in ("website", "vk")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [200, 201]
    assert Lead.objects.count() == 1 and LeadMessage.objects.count() == 2
