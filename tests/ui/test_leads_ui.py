"""Lead pages: the board, the list, a lead's page with its funnel buttons, manual entry,
intake tokens and the notification bell."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arenda.core.models import Notification
from arenda.core.roles import Role
from arenda.crm import services
from arenda.crm.models import IntakeToken, Lead
from arenda.integrations.messaging.models import OutboxMessage
from tests.conftest import ROLES
from tests.factories import CounterpartyFactory

pytestmark = pytest.mark.django_db

WRITERS = (Role.ADMIN, Role.MANAGER)


def lead_from(phone="+79123456789", source="website", **data):
    data.setdefault("name", "Иван Петров")
    data.setdefault("message", "Нужен автокран 25 т на завтра, Химки")
    return services.intake_receive(source=source, phone=phone, **data).lead


def post(client, name, lead, data=None):
    return client.post(reverse(f"crm:{name}", args=[lead.pk]), data or {})


@pytest.mark.parametrize("role", ROLES)
def test_pages_render_for_every_role_and_writes_follow_the_matrix(ui, role):
    client = ui(role)
    lead = lead_from()
    for url in (
        reverse("crm:lead_board"),
        reverse("crm:lead_board") + "?q=912&source=website&manager=none",
        reverse("crm:lead_list") + "?status=new&start=2020-01-01&end=2099-01-01&q=Химки",
        lead.get_absolute_url(),
    ):
        assert client.get(url).status_code == 200, url
    writer = role in WRITERS
    assert client.get(reverse("crm:lead_create")).status_code == (200 if writer else 403)
    assert client.get(reverse("crm:intake_tokens")).status_code == (200 if role == Role.ADMIN else 403)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert (reverse("crm:lead_reply", args=[lead.pk]) in page) == writer
    if not writer:
        for name, data in (
            ("lead_take", {}),
            ("lead_assign", {"manager": ""}),
            ("lead_reply", {"text": "Здравствуйте"}),
            ("lead_reject", {"reason": "спам"}),
            ("lead_qualify", {}),
        ):
            assert post(client, name, lead, data).status_code == 403, name
        assert client.post(reverse("crm:lead_create"), {"phone": "+79990001122"}).status_code == 403
        lead.refresh_from_db()
        assert lead.status == Lead.Status.NEW and not lead.messages.filter(direction="out").exists()


def test_navigation_leads_to_the_board(ui):
    html = ui(Role.DIRECTOR).get("/").content.decode()
    assert reverse("crm:lead_board") in html and "/coming/leads/" not in html


def test_manual_entry_creates_a_lead_and_the_same_phone_joins_it(ui):
    client = ui(Role.MANAGER)
    first = client.post(
        reverse("crm:lead_create"),
        {
            "source": "phone",
            "name": "Сергей",
            "phone": "8 (912) 345-67-89",
            "message": "Экскаватор на неделю",
        },
    )
    lead = Lead.objects.get()
    assert first.status_code == 302 and first["Location"] == lead.get_absolute_url()
    assert (lead.phone, lead.source, lead.status) == ("+79123456789", "phone", "new")
    second = client.post(
        reverse("crm:lead_create"),
        {"source": "manual", "phone": "9123456789", "message": "И ещё каток"},
        follow=True,
    )
    assert Lead.objects.count() == 1 and lead.messages.count() == 2
    html = second.content.decode()
    assert "already has an open lead" in html and "И ещё каток" in html and "Экскаватор на неделю" in html


def test_manual_entry_shows_the_services_errors_on_the_fields(ui):
    client = ui(Role.MANAGER)
    no_contact = client.post(reverse("crm:lead_create"), {"source": "manual", "message": "Кран"})
    assert no_contact.status_code == 200 and "Give a phone or an e-mail" in no_contact.content.decode()
    bad_inn = client.post(
        reverse("crm:lead_create"), {"source": "manual", "phone": "+79123456789", "inn": "7707083894"}
    )
    assert "check digit" in bad_inn.content.decode()
    assert not Lead.objects.exists()


def test_take_reply_and_response_time(ui):
    client = ui(Role.MANAGER)
    lead = lead_from()
    services.lead_assign(lead=lead, manager=None, by=None)
    assert "Take it" in client.get(lead.get_absolute_url()).content.decode()
    assert post(client, "lead_take", lead).status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.manager, lead.first_response_at is not None) == ("in_work", client.user, True)
    assert post(client, "lead_reply", lead, {"text": "  "}).status_code == 400
    response = post(client, "lead_reply", lead, {"text": "Кран будет в 8:00"})
    assert response.status_code == 302
    page = client.get(lead.get_absolute_url()).content.decode()
    assert "Кран будет в 8:00" in page and "Time to first response" in page
    assert "Take it" not in page


def test_telegram_reply_goes_to_the_chat(ui):
    client = ui(Role.MANAGER)
    lead = services.intake_receive(
        source="telegram", telegram_chat_id="5550001", name="Олег", message="Манипулятор?"
    ).lead
    page = client.get(lead.get_absolute_url()).content.decode()
    assert "chat in the chosen messenger" in page
    assert '<option value="telegram" selected>Telegram</option>' in page
    assert post(client, "lead_reply", lead, {"text": "Есть, 7 т"}).status_code == 302
    sent = OutboxMessage.objects.get()
    assert (sent.channel, sent.recipient, sent.text) == ("telegram", "5550001", "Есть, 7 т")
    assert "Queued" in client.get(lead.get_absolute_url()).content.decode()


def test_reject_needs_a_reason(ui):
    client = ui(Role.MANAGER)
    lead = lead_from()
    refused = post(client, "lead_reject", lead, {"reason": ""})
    assert refused.status_code == 400 and "This field is required" in refused.content.decode()
    lead.refresh_from_db()
    assert lead.status == "new"
    assert post(client, "lead_reject", lead, {"reason": "Ошиблись номером"}).status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.junk_reason) == ("junk", "Ошиблись номером")
    again = post(client, "lead_take", lead)
    assert again.status_code == 409 and "already closed" in again.content.decode()


def test_qualify_makes_a_deal_with_the_picked_counterparty_once(ui):
    client = ui(Role.MANAGER)
    lead = lead_from()
    customer = CounterpartyFactory(name="ООО Мостострой")
    options = client.get(reverse("lookup", args=["counterparty"]) + "?q=мосто").context["options"]
    assert [o["pk"] for o in options] == [customer.pk]
    response = post(client, "lead_qualify", lead, {"counterparty": customer.pk, "title": ""})
    lead.refresh_from_db()
    assert lead.status == "qualified" and lead.deal.counterparty == customer
    assert response.status_code == 302 and response["Location"] == lead.deal.get_absolute_url()
    page = client.get(lead.get_absolute_url()).content.decode()
    assert lead.deal.get_absolute_url() in page and reverse("crm:lead_qualify", args=[lead.pk]) not in page


def test_qualify_refused_is_explained(ui):
    client = ui(Role.MANAGER)
    lead = lead_from(inn="7707083893", company="ООО Новая")
    services.lead_reject(lead=lead, reason="дубль", by=None)
    assert post(client, "lead_qualify", lead, {}).status_code == 409


def test_assign_to_a_manager(ui, make_user):
    client = ui(Role.ADMIN)
    other = make_user(Role.MANAGER, full_name="Анна Смирнова")
    lead = lead_from()
    assert post(client, "lead_assign", lead, {"manager": other.pk}).status_code == 302
    lead.refresh_from_db()
    assert lead.manager == other
    assert post(client, "lead_assign", lead, {"manager": client.user.pk}).status_code == 400


def test_the_board_shows_a_new_lead_and_refreshes_itself(ui):
    client = ui(Role.MANAGER)
    board = client.get(reverse("crm:lead_board")).content.decode()
    assert 'hx-trigger="every 15s, leads-changed from:body"' in board and "Андрей" not in board
    lead = lead_from(name="Андрей", source="website")
    partial = client.get(reverse("crm:lead_board"), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and "Андрей" in partial and lead.get_absolute_url() in partial
    assert 'id="lead-columns"' in partial


def test_an_open_board_learns_of_a_new_lead_within_a_second(ui):
    client = ui(Role.MANAGER)
    board = client.get(reverse("crm:lead_board")).content.decode()
    poll = board[board.index('id="lead-poll" hx-get="') + len('id="lead-poll" hx-get="') :]
    poll = poll[: poll.index('"')].replace("&amp;", "&")
    assert 'hx-trigger="every 1s"' in board and "leads-changed from:body" in board
    assert client.get(poll).status_code == 204
    lead_from(name="Андрей")
    changed = client.get(poll)
    assert changed.status_code == 200 and changed["HX-Trigger"] == "leads-changed"
    assert "since=" in changed.content.decode() and poll not in changed.content.decode()


def test_board_keeps_closed_leads_for_thirty_days(ui):
    client = ui(Role.MANAGER)
    old = lead_from(name="Старый", phone="+79120000001")
    services.lead_reject(lead=old, reason="спам", by=None)
    Lead.objects.filter(pk=old.pk).update(updated_at=old.created_at.replace(year=2020))
    fresh = lead_from(name="Свежий", phone="+79120000002")
    services.lead_reject(lead=fresh, reason="спам", by=None)
    board = client.get(reverse("crm:lead_board")).content.decode()
    assert "Свежий" in board and "Старый" not in board
    assert "Старый" in client.get(reverse("crm:lead_list") + "?status=junk").content.decode()


def test_list_filters_and_phone_search(ui, make_user):
    client = ui(Role.MANAGER)
    lead_from(name="Первый", phone="+79123456789", source="website")
    lead_from(name="Второй", phone="+79031112233", source="phone")
    found = client.get(reverse("crm:lead_list") + "?q=8 (903) 111").content.decode()
    assert "Второй" in found and "Первый" not in found
    by_source = client.get(reverse("crm:lead_list") + "?source=website").content.decode()
    assert "Первый" in by_source and "Второй" not in by_source
    nobody = client.get(reverse("crm:lead_list") + "?manager=none").content.decode()
    assert "Первый" not in nobody and "There are no leads" not in nobody
    assert "Nothing matches" in client.get(reverse("crm:lead_list") + "?end=2000-01-01").content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_board_and_list_queries_do_not_grow_with_the_leads(ui, make_user):
    client = ui(Role.MANAGER)
    managers = [make_user(Role.MANAGER) for _ in range(3)]
    for i in range(3):
        lead_from(phone=f"+7912000000{i}")
    urls = [reverse("crm:lead_board"), reverse("crm:lead_list")]
    before = [_queries(client, url) for url in urls]
    for i in range(12):
        lead = lead_from(phone=f"+7913000000{i:02d}"[:12])
        if i % 3 == 0:
            services.lead_take(lead=lead, by=managers[i % 3])
        elif i % 3 == 1:
            services.lead_reject(lead=lead, reason="спам", by=None)
    assert [_queries(client, url) for url in urls] == before


def test_intake_token_is_shown_once_then_only_its_prefix(ui):
    client = ui(Role.ADMIN)
    made = client.post(reverse("crm:intake_tokens"), {"name": "Сайт", "source": "website"})
    token = IntakeToken.objects.get()
    html = made.content.decode()
    start = html.index('id="plain-token" value="') + len('id="plain-token" value="')
    plain = html[start : html.index('"', start)]
    assert len(plain) > 20 and plain.startswith(token.prefix) and "shown only this once" in html
    again = client.get(reverse("crm:intake_tokens")).content.decode()
    assert plain not in again and f"{token.prefix}…" in again
    assert client.post(reverse("crm:intake_token_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert not token.is_active and token.revoked_at is not None
    assert (
        reverse("crm:intake_token_revoke", args=[token.pk])
        not in client.get(reverse("crm:intake_tokens")).content.decode()
    )


def test_intake_token_form_needs_a_name(ui):
    response = ui(Role.ADMIN).post(reverse("crm:intake_tokens"), {"name": "", "source": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not IntakeToken.objects.exists()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR])
def test_intake_tokens_are_for_the_admin_only(ui, role):
    client = ui(role)
    assert client.post(reverse("crm:intake_tokens"), {"name": "x"}).status_code == 403
    assert not IntakeToken.objects.exists()


def test_notification_bell_counts_and_marks_read(ui, django_capture_on_commit_callbacks):
    client = ui(Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_from(name="Звонок")
        lead_from(name="Звонок", message="Перезвоните")
    assert Notification.objects.filter(user=client.user, read_at__isnull=True).count() == 2
    page = client.get("/").content.decode()
    assert reverse("notification_bell") in page
    bell = client.get(reverse("notification_bell"), headers={"HX-Request": "true"}).content.decode()
    assert 'class="notif-count">2<' in bell and "New lead: Звонок" in bell
    first = Notification.objects.filter(user=client.user).order_by("id").first()
    opened = client.get(reverse("notification_open", args=[first.pk]))
    assert opened.status_code == 302 and opened["Location"] == lead.get_absolute_url()
    assert 'class="notif-count">1<' in client.get(reverse("notification_bell")).content.decode()
    read = client.post(reverse("notification_read_all"), headers={"HX-Request": "true"})
    assert "notif-count" not in read.content.decode()
    assert not Notification.objects.filter(user=client.user, read_at__isnull=True).exists()


def test_notifications_are_private(ui, make_user):
    client = ui(Role.MANAGER)
    other = make_user(Role.MANAGER)
    theirs = Notification.objects.create(user=other, text="Чужое", url="/")
    assert client.get(reverse("notification_open", args=[theirs.pk])).status_code == 404
    assert "Чужое" not in client.get(reverse("notification_bell")).content.decode()
