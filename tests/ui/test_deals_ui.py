"""Deal pages: the board (moves, totals, filters), the list, the deal page with lines, totals
and timeline, the КП buttons; reading and writing by role."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arenda.bookings.models import Booking
from arenda.core.roles import Role
from arenda.crm.models import Deal, DealComment
from arenda.directory.models import VatRate
from arenda.flows import deals
from tests.conftest import ROLES
from tests.crm.test_proposal import add_line
from tests.factories import (
    BookingFactory,
    ContactFactory,
    CounterpartyFactory,
    DealFactory,
    DealLineFactory,
    EquipmentTypeFactory,
    OrganizationFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client, make_user):
    def as_role(role=Role.MANAGER):
        user = make_user(role)
        client.force_login(user)
        return user

    return as_role


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_deals(client, login, role):
    login(role)
    booking = BookingFactory()
    deal = booking.deal
    assert client.get(reverse("crm:deal_list") + "?q=Аренда&stage=new").status_code == 200
    page = client.get(deal.get_absolute_url())
    assert page.status_code == 200 and booking.get_absolute_url() in page.content.decode()
    writes = (
        client.get(reverse("crm:deal_create")).status_code,
        client.get(reverse("crm:deal_update", args=[deal.pk])).status_code,
    )
    assert writes == ((200, 200) if role in (Role.ADMIN, Role.MANAGER) else (403, 403))


def test_manager_creates_a_deal_and_is_its_manager_by_default(client, login):
    user = login()
    counterparty = CounterpartyFactory()
    form = client.get(reverse("crm:deal_create")).content.decode()
    assert f'<option value="{user.pk}" selected>' in form
    response = client.post(
        reverse("crm:deal_create"),
        {"title": "Кран на мост", "counterparty": counterparty.pk, "manager": user.pk, "stage": "new"},
    )
    deal = Deal.objects.get(title="Кран на мост")
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    assert deal.history.first().history_user == user


def test_contact_of_another_counterparty_is_refused(client, login):
    login()
    deal = DealFactory()
    stranger = ContactFactory()
    response = client.post(
        reverse("crm:deal_update", args=[deal.pk]),
        {"title": deal.title, "counterparty": deal.counterparty_id, "contact": stranger.pk, "stage": "new"},
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.contact is None


# --- the board, the deal page, lines, the КП buttons ---------------------------------------


HTMX = {"HTTP_HX_REQUEST": "true"}


def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def column(html: str, stage: str) -> str:
    start = html.index(f'data-stage="{stage}"')
    end = html.find('class="deal-col ', start)
    return html[start : end if end != -1 else None]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_board_and_the_deal_page(client, login, role):
    english(client)
    login(role)
    writer = role in (Role.ADMIN, Role.MANAGER)
    deal = DealFactory(organization=OrganizationFactory())
    add_line(deal)
    board = client.get(reverse("crm:deal_board"))
    assert board.status_code == 200 and deal.title in board.content.decode()
    assert ("move-form" in board.content.decode()) == writer
    page = client.get(deal.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "28\u202f000,00\u00a0₽" in html and "Автокран 25 т" in html
    assert ("Add a line" in html) == writer and ('name="stage"' in html) == writer
    assert ("Send link" in html) == writer and "Proposal (PDF)" in html


def test_column_totals_and_cards(client, login):
    login()
    proposal = DealFactory(stage="proposal")
    add_line(proposal)  # 28 000
    add_line(proposal, ordered_hours=Decimal("7.5"), rate_per_hour=Decimal("3333.33"))  # 24 999.98
    other = DealFactory(stage="proposal")
    add_line(
        other,
        ordered_hours=Decimal("1"),
        rate_per_hour=Decimal("0.01"),
        km=Decimal("0.5"),
        rate_per_km=Decimal("0.01"),
    )
    DealFactory(stage="new")
    old_won = DealFactory(stage="won")
    Deal.objects.filter(pk=old_won.pk).update(updated_at=timezone.now() - timedelta(days=40))
    recent_won = DealFactory(stage="won")
    html = client.get(reverse("crm:deal_board")).content.decode()
    col = column(html, "proposal")
    # 28 000 + 24 999.98 + (0.01 + 0.005 → 0.01) = 53 000.00; each deal's own total too
    assert '<span class="count-pill">2</span>' in col and "53\u202f000,00\u00a0₽" in col
    assert "52\u202f999,98\u00a0₽" in col and "0,02\u00a0₽" in col
    assert '<span class="count-pill">1</span>' in column(html, "new")
    won = column(html, "won")
    assert recent_won.title in won and old_won.title not in won


def test_board_filters_by_manager_counterparty_and_period(client, login):
    user = login()
    mine = DealFactory(manager=user)
    theirs = DealFactory()
    html = client.get(reverse("crm:deal_board") + f"?manager={user.pk}").content.decode()
    assert mine.title in html and theirs.title not in html
    html = client.get(reverse("crm:deal_board") + f"?counterparty={theirs.counterparty_id}").content.decode()
    assert theirs.title in html and mine.title not in html
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    html = client.get(reverse("crm:deal_board") + f"?created_from={tomorrow}").content.decode()
    assert mine.title not in html and theirs.title not in html


def test_board_queries_do_not_grow_with_the_deals(client, login):
    login()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("crm:deal_board")).status_code == 200
        return len(queries)

    for stage in ("new", "proposal"):
        add_line(DealFactory(stage=stage))
    few = count()
    for i in range(12):
        deal = DealFactory()
        add_line(deal)
        add_line(deal)
        Deal.objects.filter(pk=deal.pk).update(
            stage=["new", "selection", "proposal", "lost"][i % 4], lost_reason="дорого"
        )
    assert count() == few


def test_an_allowed_move_moves_and_redraws_the_board(client, login):
    login()
    deal = DealFactory()
    response = client.post(
        reverse("crm:deal_move", args=[deal.pk]) + "?manager=",
        {"stage": "selection", "from": "board"},
        **HTMX,
    )
    assert response.status_code == 200 and 'id="board"' in response.content.decode()
    assert deal.title in column(response.content.decode(), "selection")
    deal.refresh_from_db()
    assert deal.stage == "selection"


def test_a_refused_move_explains_and_leaves_the_stage(client, login):
    english(client)
    login()
    deal = DealFactory()
    response = client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage": "won", "from": "board"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in html
    assert "cannot go from" in html and deal.title in column(html, "new")
    response = client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage": "proposal", "from": "board"}, **HTMX
    )
    assert "Add at least one line" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == "new"


def test_lost_asks_for_the_reason(client, login):
    english(client)
    login()
    deal = DealFactory()
    url = reverse("crm:deal_move", args=[deal.pk])
    html = client.post(url, {"stage": "lost", "from": "board"}, **HTMX).content.decode()
    assert "Say why the deal is lost." in html and 'name="reason"' in html and 'value="lost"' in html
    deal.refresh_from_db()
    assert deal.stage == "new"
    client.post(url, {"stage": "lost", "from": "board", "reason": "Выбрали другого подрядчика"}, **HTMX)
    deal.refresh_from_db()
    assert deal.stage == "lost" and deal.lost_reason == "Выбрали другого подрядчика"


def test_move_without_javascript_returns_to_the_page(client, login):
    login()
    deal = DealFactory()
    response = client.post(reverse("crm:deal_move", args=[deal.pk]), {"stage": "won"})
    assert response.status_code == 302 and response["Location"] == deal.get_absolute_url()
    response = client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage": "selection", "next": reverse("crm:deal_board")}
    )
    assert response["Location"] == reverse("crm:deal_board")


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.DIRECTOR])
def test_write_actions_are_refused_to_readers(client, login, role):
    login(role)
    deal = DealFactory()
    line = add_line(deal)
    posts = [
        (reverse("crm:deal_move", args=[deal.pk]), {"stage": "selection"}),
        (reverse("crm:deal_agree", args=[deal.pk]), {}),
        (reverse("crm:deal_line_add", args=[deal.pk]), {}),
        (reverse("crm:deal_line_edit", args=[deal.pk, line.pk]), {}),
        (reverse("crm:deal_line_delete", args=[deal.pk, line.pk]), {}),
        (reverse("crm:deal_comment", args=[deal.pk]), {"text": "hi"}),
        (reverse("crm:deal_proposal", args=[deal.pk]), {}),
    ]
    assert [client.post(url, data).status_code for url, data in posts] == [403] * len(posts)
    deal.refresh_from_db()
    assert deal.stage == "new" and deal.lines.count() == 1 and not deal.proposal_token


def line_post(**data):
    start = (timezone.localtime() + timedelta(days=5)).replace(hour=9, minute=0, second=0, microsecond=0)
    return {
        "equipment_type": EquipmentTypeFactory(name="Манипулятор").pk,
        "min_capacity_t": "5",
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
        "ordered_hours": "8",
        "min_hours": "4",
        "rate_per_hour": "2500",
        "km": "10",
        "rate_per_km": "80",
        "site_address": "Москва, Тверская, 1",
        **data,
    }


def test_lines_are_added_edited_and_deleted_inline(client, login):
    english(client)
    user = login()
    deal = DealFactory(organization=OrganizationFactory(vat_rate=VatRate.NONE))
    response = client.post(reverse("crm:deal_line_add", args=[deal.pk]), line_post(), **HTMX)
    html = response.content.decode()
    line = deal.lines.get()
    # 8 × 2500 + 10 × 80 = 20 800
    assert (
        'id="lines"' in html
        and "Манипулятор" in html
        and "20\u202f800,00\u00a0₽" in html
        and "No VAT" in html
    )
    assert line.history.first().history_user == user
    bad = client.post(
        reverse("crm:deal_line_add", args=[deal.pk]), line_post(end=line_post()["start"]), **HTMX
    )
    assert "The end must be after the start." in bad.content.decode() and deal.lines.count() == 1
    form = client.get(reverse("crm:deal_line_edit", args=[deal.pk, line.pk]), **HTMX).content.decode()
    assert "Edit line 1" in form and 'value="Москва, Тверская, 1"' in form
    client.post(reverse("crm:deal_line_edit", args=[deal.pk, line.pk]), line_post(ordered_hours="10"), **HTMX)
    line.refresh_from_db()
    assert line.ordered_hours == Decimal("10") and line.amount == Decimal("25800.00")
    client.post(reverse("crm:deal_line_delete", args=[deal.pk, line.pk]), **HTMX)
    assert not deal.lines.exists()
    timeline = client.get(deal.get_absolute_url()).content.decode()
    assert "Line 1: Манипулятор" in timeline and "10" in timeline


def agree_button(html: str) -> str:
    """The «Mark as agreed» slot of a page or of a lines response (swapped out of band)."""
    start = html.index('id="deal-agree"')
    return html[start : html.index("</div>", start)]


def test_mark_as_agreed_follows_the_lines_without_a_reload(client, login):
    english(client)
    login()
    deal = DealFactory(stage="proposal")
    page = client.get(deal.get_absolute_url()).content.decode()
    assert "Mark as agreed" in agree_button(page) and "disabled" in agree_button(page)
    added = client.post(reverse("crm:deal_line_add", args=[deal.pk]), line_post(), **HTMX).content.decode()
    assert 'id="deal-agree" class="slot" hx-swap-oob="true"' in added
    assert "Mark as agreed" in agree_button(added) and "disabled" not in agree_button(added)
    line = deal.lines.get()
    deleted = client.post(reverse("crm:deal_line_delete", args=[deal.pk, line.pk]), **HTMX).content.decode()
    assert 'hx-swap-oob="true"' in deleted
    assert "Mark as agreed" in agree_button(deleted) and "disabled" in agree_button(deleted)
    # the whole page keeps one slot, without the out-of-band marker
    page = client.get(deal.get_absolute_url()).content.decode()
    assert page.count('id="deal-agree"') == 1 and 'hx-swap-oob="true"' not in page
    # an agreed deal has no button: the slot goes empty
    add_line(deal)
    client.post(reverse("crm:deal_agree", args=[deal.pk]))
    after = client.post(reverse("crm:deal_line_add", args=[deal.pk]), line_post(), **HTMX).content.decode()
    assert "Mark as agreed" not in agree_button(after)


def test_vat_is_shown_per_our_legal_entity(client, login):
    english(client)
    login()
    deal = DealFactory(organization=OrganizationFactory(vat_rate=VatRate.VAT22))
    add_line(deal, ordered_hours=Decimal("1"), rate_per_hour=Decimal("1220.00"))
    html = client.get(deal.get_absolute_url()).content.decode()
    assert "incl. VAT 22 %" in html and "220,00\u00a0₽" in html
    unassigned = DealFactory()
    add_line(unassigned)
    html = client.get(unassigned.get_absolute_url()).content.decode()
    assert "the first active one" in html and "no legal entity of ours chosen" in html


def test_agreed_makes_bookings_and_locks_the_lines(client, login):
    english(client)
    login()
    deal = DealFactory(stage="proposal")
    add_line(deal)
    add_line(deal)
    response = client.post(reverse("crm:deal_agree", args=[deal.pk]))
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == "agreed" and not deal.agreed_by_customer
    assert list(deal.bookings.values_list("status", flat=True)) == ["draft", "draft"]
    client.post(reverse("crm:deal_agree", args=[deal.pk]))
    assert Booking.objects.filter(deal=deal).count() == 2
    html = client.post(reverse("crm:deal_line_add", args=[deal.pk]), line_post(), **HTMX).content.decode()
    assert "The proposal is agreed" in html and deal.lines.count() == 2
    page = client.get(deal.get_absolute_url()).content.decode()
    assert "Add a line" not in page and deal.bookings.first().get_absolute_url() in page


def test_comments_and_history_are_one_timeline(client, login):
    english(client)
    user = login()
    deal = DealFactory()
    response = client.post(
        reverse("crm:deal_comment", args=[deal.pk]), {"text": "Клиент просит скидку"}, **HTMX
    )
    assert (
        'id="timeline"' in response.content.decode() and "Клиент просит скидку" in response.content.decode()
    )
    assert DealComment.objects.get(deal=deal).author == user
    empty = client.post(reverse("crm:deal_comment", args=[deal.pk]), {"text": " "}, **HTMX).content.decode()
    assert "This field is required." in empty and DealComment.objects.filter(deal=deal).count() == 1
    deals.deal_move(deal=deal, stage="selection", by=user)
    html = client.get(deal.get_absolute_url()).content.decode()
    comment_at, move_at = html.index("Клиент просит скидку"), html.index("Selecting equipment</ins>")
    assert move_at < comment_at  # newest first


def test_an_empty_comment_without_javascript_shows_the_form_error(client, login):
    """A plain-form POST of an empty comment answered 500 (the page's context got the deal twice)."""
    english(client)
    login()
    deal = DealFactory()
    response = client.post(reverse("crm:deal_comment", args=[deal.pk]), {"text": " "})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert 'id="timeline"' in response.content.decode() and not DealComment.objects.filter(deal=deal).exists()
    saved = client.post(reverse("crm:deal_comment", args=[deal.pk]), {"text": "Позвонить завтра"})
    assert saved.status_code == 302 and DealComment.objects.filter(deal=deal).count() == 1


def test_the_customers_link_is_made_on_request(client, login):
    login()
    deal = DealFactory()
    assert "/p/" not in client.get(deal.get_absolute_url()).content.decode()
    client.post(reverse("crm:deal_proposal", args=[deal.pk]))
    deal.refresh_from_db()
    assert (
        deal.proposal_token
        and f"/p/{deal.proposal_token}/" in client.get(deal.get_absolute_url()).content.decode()
    )
    valid = (timezone.localdate() + timedelta(days=14)).isoformat()
    client.post(reverse("crm:deal_proposal", args=[deal.pk]), {"valid": "1", "proposal_valid_until": valid})
    deal.refresh_from_db()
    assert deal.proposal_valid_until.isoformat() == valid


def test_a_line_opened_for_editing_without_htmx_shows_the_deal_page(client, login):
    """The edit link followed as a plain link (no JS): the deal's page with the line's form, not a 500."""
    login(Role.MANAGER)
    line = DealLineFactory()
    response = client.get(reverse("crm:deal_line_edit", args=[line.deal_id, line.pk]))
    assert response.status_code == 200
    assert response.context["deal"] == line.deal
