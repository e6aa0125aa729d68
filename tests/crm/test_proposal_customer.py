"""The customer's КП link that can be trusted: an expired КП cannot be accepted (the page
says so and lets the customer ask for a new one); the acceptance carries the version the
customer saw and is refused — under the deal's lock — when the КП changed since; the customer
may decline it or ask a question, the manager is told and the deal's timeline shows it;
those posts are rate-limited and bad input gets the page again, never a 500."""

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from arenda.bookings.models import Booking
from arenda.core.models import Notification
from arenda.core.money import format_rub
from arenda.core.roles import Role
from arenda.core.services import locked
from arenda.crm import services
from arenda.crm.models import Deal, ProposalResponse
from arenda.crm.proposal import company_today, is_expired, proposal_version, valid_until
from arenda.crm.services import FunnelRefused
from arenda.flows import deals
from tests.crm.test_proposal import add_line
from tests.factories import DealFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
K = ProposalResponse.Kind


@pytest.fixture
def manager():
    return UserFactory(role=Role.MANAGER, full_name="Сергеев Олег")


@pytest.fixture
def offer(manager):
    """A deal in «proposal sent» with two lines, valid ten more days, and its link."""
    deal = DealFactory(
        stage="proposal",
        manager=manager,
        organization=OrganizationFactory(),
        proposal_valid_until=company_today() + timedelta(days=10),
    )
    add_line(deal)
    add_line(deal, ordered_hours=Decimal("4"), rate_per_hour=Decimal("5000.00"), notes="с люлькой")
    services.proposal_token_for(deal)
    return deal


@pytest.fixture
def customer():
    """The customer's browser, in English so that the messages read as in the code."""
    return Client(headers={"Accept-Language": "en"})


def url(deal, name="page"):
    return reverse(f"proposal:{name}", args=[deal.proposal_token])


def expire(deal, days_ago=1):
    Deal.objects.filter(pk=deal.pk).update(proposal_valid_until=company_today() - timedelta(days=days_ago))
    deal.refresh_from_db()


def change_a_line(deal, **data):
    line = deal.lines.order_by("position").first()
    services.deal_line_update(line=line, by=deal.manager, **(data or {"rate_per_hour": Decimal("3900.00")}))


# --- the version ----------------------------------------------------------------------------
def test_the_version_follows_what_the_proposal_states(offer):
    first = proposal_version(offer)
    assert first == proposal_version(Deal.objects.get(pk=offer.pk)) and len(first) == 32
    seen = {first}
    line = offer.lines.order_by("position").first()
    for change in (
        {"rate_per_hour": Decimal("3600.00")},
        {"notes": "без выходных"},
        {"site_address": "Москва, ул. Новая, 1"},
        {"min_capacity_t": Decimal("30")},
        {"end": line.end + timedelta(hours=1)},
        {"km": Decimal("12"), "rate_per_km": Decimal("80")},
    ):
        services.deal_line_update(line=line, by=None, **change)
        version = proposal_version(offer)
        assert version not in seen, change
        seen.add(version)
    deals.deal_update(instance=offer, by=None, proposal_valid_until=company_today() + timedelta(days=20))
    assert proposal_version(Deal.objects.get(pk=offer.pk)) not in seen
    seen.add(proposal_version(Deal.objects.get(pk=offer.pk)))
    deals.deal_update(instance=offer, by=None, organization=OrganizationFactory())
    assert proposal_version(Deal.objects.get(pk=offer.pk)) not in seen


def test_the_version_ignores_what_only_decorates_the_document(offer, time_machine):
    version = proposal_version(offer)
    deals.deal_update(instance=offer, by=None, title="Новое название")
    time_machine.move_to(timezone.now() + timedelta(days=2))  # the document's date moves on
    assert proposal_version(Deal.objects.get(pk=offer.pk)) == version


def test_the_page_sends_back_the_version_it_shows(offer, customer):
    page = customer.get(url(offer)).content.decode()
    assert f'name="version" value="{proposal_version(offer)}"' in page
    assert "accept-form" in page and "decline-form" in page and "question-form" in page


# --- expiry ---------------------------------------------------------------------------------
def test_without_a_date_of_its_own_the_proposal_is_valid_seven_days_from_the_link(time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
    deal = DealFactory()
    add_line(deal)
    assert valid_until(deal) == datetime(2026, 3, 9).date()  # no link yet: from today
    services.proposal_token_for(deal)
    time_machine.move_to(datetime(2026, 3, 9, 9, 0, tzinfo=UTC), tick=False)
    deal.refresh_from_db()
    assert valid_until(deal) == datetime(2026, 3, 9).date() and not is_expired(deal)
    time_machine.move_to(datetime(2026, 3, 10, 9, 0, tzinfo=UTC), tick=False)
    assert valid_until(deal) == datetime(2026, 3, 9).date() and is_expired(deal)


def test_the_managers_link_button_starts_the_validity(manager):
    deal = DealFactory(manager=manager)
    add_line(deal)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(manager)
    client.post(reverse("crm:deal_proposal", args=[deal.pk]))
    deal.refresh_from_db()
    assert deal.proposal_token and deal.proposal_sent_at is not None
    assert valid_until(deal) == company_today() + timedelta(days=7)


@pytest.mark.django_db(transaction=True)
def test_links_made_before_the_migration_count_from_it():
    """crm/migrations/0005: a link without ``proposal_sent_at`` is stamped with the time of
    the migration, so a КП without a date of its own no longer stays valid for ever."""
    before, after = [("crm", "0004_proposal_responses")], [("crm", "0005_proposal_sent_at_of_existing_links")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    counterparty = DealFactory().counterparty
    OldDeal = old.get_model("crm", "Deal")
    linked = OldDeal.objects.create(
        title="со ссылкой", counterparty_id=counterparty.pk, proposal_token="t" * 20
    )
    unlinked = OldDeal.objects.create(title="без ссылки", counterparty_id=counterparty.pk)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    try:
        executor.migrate(after)
        assert Deal.objects.get(pk=linked.pk).proposal_sent_at is not None
        assert Deal.objects.get(pk=unlinked.pk).proposal_sent_at is None
    finally:  # going back to crm 0004 took every later migration that needs it along
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_expiry_is_judged_by_the_day_in_moscow(offer, time_machine):
    Deal.objects.filter(pk=offer.pk).update(proposal_valid_until=datetime(2026, 3, 5).date())
    offer.refresh_from_db()
    # 23:30 in Moscow on the last day: still valid
    time_machine.move_to(datetime(2026, 3, 5, 20, 30, tzinfo=UTC), tick=False)
    assert not is_expired(offer)
    # 00:30 in Moscow the next day, still 5 March in UTC: expired
    time_machine.move_to(datetime(2026, 3, 5, 21, 30, tzinfo=UTC), tick=False)
    assert is_expired(offer)
    with timezone.override("America/New_York"):  # whatever zone a request has activated
        assert is_expired(offer)


def test_the_expired_page_says_so_hides_accept_and_offers_a_new_one(offer, customer):
    expire(offer)
    response = customer.get(url(offer))
    page = response.content.decode()
    assert response.status_code == 200
    assert "proposal-expired" in page and "This proposal expired on" in page
    with translation.override("en"):
        assert date_format(offer.proposal_valid_until, "DATE_FORMAT") in page
    assert "accept-form" not in page and "decline-form" not in page
    assert "renewal-form" in page and "question-form" in page


def test_accepting_an_expired_proposal_is_refused_on_the_page(offer, customer):
    expire(offer)
    response = customer.post(url(offer, "accept"), {"version": proposal_version(offer)})
    page = response.content.decode()
    assert response.status_code == 409
    assert "proposal-refusal" in page and "can no longer be accepted" in page
    assert "accept-form" not in page and "renewal-form" in page
    offer.refresh_from_db()
    assert offer.agreed_at is None and offer.stage == "proposal" and not Booking.objects.exists()


def test_accepting_an_expired_proposal_answers_409_proposal_expired_as_json(offer, customer):
    expire(offer)
    response = customer.post(
        url(offer, "accept"),
        {"version": proposal_version(offer)},
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "proposal_expired"
    assert response["Cache-Control"] == "private, no-store"
    assert Deal.objects.get(pk=offer.pk).agreed_at is None


def test_the_flow_refuses_the_customer_an_expired_proposal_but_not_the_manager(offer, manager):
    expire(offer)
    with pytest.raises(FunnelRefused) as refused:
        deals.deal_agree(deal=offer, by=None, by_customer=True, version=proposal_version(offer))
    assert refused.value.code == "proposal_expired" and not Booking.objects.exists()
    # the manager decides: the customer said yes on the phone
    assert deals.deal_agree(deal=offer, by=manager).agreed_at is not None


def test_the_customer_asks_for_a_new_proposal(offer, customer, manager, django_capture_on_commit_callbacks):
    expire(offer)
    with django_capture_on_commit_callbacks(execute=True):
        response = customer.post(url(offer, "renewal"), {"text": "Нужно на следующую неделю"})
    assert response.status_code == 302 and response["Location"] == url(offer)
    asked = ProposalResponse.objects.get(deal=offer)
    assert asked.kind == K.RENEWAL and asked.text == "Нужно на следующую неделю"
    assert asked.version == proposal_version(offer)
    note = Notification.objects.get(user=manager)
    assert "new proposal" in note.text and offer.title in note.text and "следующую неделю" in note.text
    assert note.url == f"{offer.get_absolute_url()}#timeline"
    page = customer.get(url(offer)).content.decode()
    assert "request is sent" in page and "You asked for a new one on" in page
    assert "renewal-form" not in page  # asked once for this proposal
    # without a comment it is a request all the same
    Client().post(url(offer, "renewal"), {"text": ""})
    assert ProposalResponse.objects.filter(deal=offer, kind=K.RENEWAL).count() == 2


def test_a_new_validity_date_makes_the_proposal_acceptable_again(offer, customer, manager):
    expire(offer)
    customer.post(url(offer, "renewal"), {})
    deals.deal_update(instance=offer, by=manager, proposal_valid_until=company_today() + timedelta(days=5))
    offer.refresh_from_db()
    page = customer.get(url(offer)).content.decode()
    assert "proposal-expired" not in page and "accept-form" in page
    assert customer.post(url(offer, "accept"), {"version": proposal_version(offer)}).status_code == 302
    assert Deal.objects.get(pk=offer.pk).agreed_by_customer


def test_the_deal_page_shows_the_manager_that_it_expired_and_was_asked_again(offer, manager):
    expire(offer)
    Client().post(url(offer, "renewal"), {"text": "Пришлите новое"})
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(manager)
    page = client.get(offer.get_absolute_url()).content.decode()
    assert "proposal-state expired" in page and "The customer asked for a new proposal" in page
    assert "Пришлите новое" in page and "kind-customer" in page and "the customer" in page


# --- the version the customer saw ------------------------------------------------------------
def test_accepting_a_changed_proposal_is_refused_and_the_page_shows_the_new_one(offer, customer):
    seen = proposal_version(offer)
    customer.get(url(offer))
    change_a_line(offer, rate_per_hour=Decimal("3900.00"))
    response = customer.post(url(offer, "accept"), {"version": seen})
    page = response.content.decode()
    assert response.status_code == 409
    assert "proposal-refusal" in page and "has changed since it was opened" in page
    current = proposal_version(offer)
    assert current != seen and f'name="version" value="{current}"' in page
    assert format_rub(Decimal("3900.00")) in page  # the new rate, in the document now shown
    offer.refresh_from_db()
    assert offer.agreed_at is None and not Booking.objects.exists()
    # accepting what is now shown works
    assert customer.post(url(offer, "accept"), {"version": current}).status_code == 302
    offer.refresh_from_db()
    assert offer.agreed_by_customer and offer.bookings.count() == 2
    assert offer.bookings.filter(rate_per_hour=Decimal("3900.00")).count() == 1


def test_a_changed_proposal_answers_409_proposal_changed_as_json(offer, customer):
    seen = proposal_version(offer)
    change_a_line(offer, notes="ночная смена")
    response = customer.post(
        url(offer, "accept"),
        {"version": seen},
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 409 and response.json()["code"] == "proposal_changed"
    accepted = customer.post(
        url(offer, "accept"),
        {"version": proposal_version(offer)},
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    assert accepted.status_code == 200 and accepted.json()["accepted"] is True


@pytest.mark.parametrize(
    "body",
    [{}, {"version": ""}, {"version": "x" * 5000}, {"version": ["a", "b"]}, {"version": "<script>"}],
)
def test_an_accept_without_the_right_version_is_refused_never_a_500(offer, customer, body):
    response = customer.post(url(offer, "accept"), body)
    assert response.status_code == 409 and "proposal-refusal" in response.content.decode()
    assert "<script>" not in response.content.decode()
    assert Deal.objects.get(pk=offer.pk).agreed_at is None


def test_a_broken_json_accept_is_refused_never_a_500(offer, customer):
    response = customer.post(
        url(offer, "accept"), "{not json", content_type="application/json", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "proposal_changed"


def test_the_flow_refuses_a_stale_version(offer):
    stale = proposal_version(offer)
    change_a_line(offer)
    with pytest.raises(FunnelRefused) as refused:
        deals.deal_agree(deal=offer, by=None, by_customer=True, version=stale)
    assert refused.value.code == "proposal_changed" and not Booking.objects.exists()
    # an agreement already made is not undone by a stale second click
    deals.deal_agree(deal=offer, by=None, by_customer=True, version=proposal_version(offer))
    assert deals.deal_agree(deal=offer, by=None, by_customer=True, version=stale).agreed_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_version_is_checked_under_the_deals_lock(offer):
    """A line edited while the acceptance waits for the deal's lock: the acceptance, made
    with the version from before the edit, sees the edit and is refused. A check made
    before the agreement's transaction would have passed and agreed the edited lines."""
    token, seen = offer.proposal_token, proposal_version(offer)
    line = offer.lines.order_by("position").first()
    holding, answers, errors = threading.Event(), [], []

    def edit():
        try:
            with transaction.atomic():
                locked(Deal, offer.pk)
                holding.set()
                time.sleep(0.5)
                services.deal_line_update(line=line, by=None, rate_per_hour=Decimal("4100.00"))
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    def accept():
        try:
            holding.wait(5)
            answers.append(
                Client().post(reverse("proposal:accept", args=[token]), {"version": seen}).status_code
            )
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit), threading.Thread(target=accept)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and answers == [409]
    offer.refresh_from_db()
    assert offer.agreed_at is None and not Booking.objects.filter(deal=offer).exists()


# --- declining and asking --------------------------------------------------------------------
def test_the_customer_declines_with_a_reason(offer, customer, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = customer.post(
            url(offer, "decline"), {"version": proposal_version(offer), "text": "Дорого, нашли дешевле"}
        )
    assert response.status_code == 302
    declined = ProposalResponse.objects.get(deal=offer, kind=K.DECLINED)
    assert declined.text == "Дорого, нашли дешевле" and declined.version == proposal_version(offer)
    note = Notification.objects.get(user=manager)
    assert "declined" in note.text and "нашли дешевле" in note.text and note.url.endswith("#timeline")
    offer.refresh_from_db()
    assert offer.stage == "proposal" and offer.agreed_at is None  # the manager decides
    page = customer.get(url(offer)).content.decode()
    assert "proposal-declined" in page and "Дорого, нашли дешевле" in page
    assert "decline-form" not in page and "accept-form" in page  # may still change their mind
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(manager)
    deal_page = client.get(offer.get_absolute_url()).content.decode()
    assert "Declined by the customer on" in deal_page and "Дорого, нашли дешевле" in deal_page
    assert "kind-customer" in deal_page and "declined the proposal" in deal_page
    change_a_line(offer)
    deal_page = client.get(offer.get_absolute_url()).content.decode()
    assert "the proposal has changed since" in deal_page
    assert "decline-form" in customer.get(url(offer)).content.decode()  # a new proposal to answer


def test_the_customer_asks_a_question(offer, customer, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = customer.post(url(offer, "question"), {"text": "Можно ли начать в 7:00?"})
    assert response.status_code == 302
    assert "question is sent" in customer.get(url(offer)).content.decode()
    asked = ProposalResponse.objects.get(deal=offer)
    assert asked.kind == K.QUESTION and asked.text == "Можно ли начать в 7:00?"
    note = Notification.objects.get(user=manager)
    assert "Можно ли начать в 7:00?" in note.text and offer.title in note.text
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(manager)
    page = client.get(offer.get_absolute_url()).content.decode()
    timeline = page[page.index('id="timeline"') :]
    assert "Можно ли начать в 7:00?" in timeline and "the customer" in timeline and "question" in timeline


def test_without_a_manager_the_administrators_hear(offer, customer, django_capture_on_commit_callbacks):
    Deal.objects.filter(pk=offer.pk).update(manager=None)
    admin = UserFactory(role=Role.ADMIN)
    UserFactory(role=Role.ADMIN, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        customer.post(url(offer, "question"), {"text": "Кто мой менеджер?"})
    assert list(Notification.objects.values_list("user", flat=True)) == [admin.pk]


@pytest.mark.parametrize(
    ("name", "body", "error"),
    [
        ("decline", {"text": "   "}, "This field is required."),
        ("decline", {"text": "д" * 2001}, "at most 2000 characters"),
        ("question", {"text": ""}, "This field is required."),
        ("question", {"text": "?" * 2001}, "at most 2000 characters"),
        ("renewal", {"text": "!" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_input_shows_the_page_with_the_error_never_a_500(offer, customer, name, body, error):
    if name == "renewal":
        expire(offer)
    response = customer.post(url(offer, name), {"version": proposal_version(offer), **body})
    page = response.content.decode()
    assert response.status_code == 400
    assert error in page and "field-errors" in page
    if name != "renewal":  # the form with the error is open
        assert '<details class="reply-box" open>' in page
    assert not ProposalResponse.objects.exists() and not Notification.objects.exists()


def test_declining_a_changed_proposal_shows_the_new_one(offer, customer):
    seen = proposal_version(offer)
    change_a_line(offer)
    for version in (seen, "", "x" * 5000):
        response = customer.post(url(offer, "decline"), {"version": version, "text": "Дорого"})
        assert response.status_code == 409 and "has changed since it was opened" in response.content.decode()
    assert not ProposalResponse.objects.exists()


def test_declining_an_accepted_proposal_is_refused_on_the_page(offer, customer):
    deals.deal_agree(deal=offer, by=None, by_customer=True)
    response = customer.post(
        url(offer, "decline"), {"version": proposal_version(offer), "text": "Передумали"}
    )
    page = response.content.decode()
    assert response.status_code == 409 and "already accepted" in page and "proposal-accepted" in page
    assert not ProposalResponse.objects.exists()
    # a question after the acceptance is fine
    assert customer.post(url(offer, "question"), {"text": "Когда приедет кран?"}).status_code == 302


def test_the_customers_posts_need_the_token_and_post(offer, customer):
    for name in ("decline", "question", "renewal"):
        token = offer.proposal_token
        wrong = reverse(f"proposal:{name}", args=[token[:-1] + ("A" if token[-1] != "A" else "B")])
        assert customer.post(wrong, {"text": "x"}).status_code == 404
        assert customer.get(url(offer, name)).status_code == 405
    assert not ProposalResponse.objects.exists()


@override_settings(INTAKE_RATE_LIMIT=2)
def test_the_customers_posts_are_rate_limited(offer, customer, time_machine):
    # The counts are per clock minute (crm/intake.py): posts that straddled one would pass.
    time_machine.move_to(timezone.now().replace(second=5), tick=False)
    answers = [customer.post(url(offer, "question"), {"text": f"Вопрос {i}"}) for i in range(3)]
    assert [a.status_code for a in answers] == [302, 302, 429]
    assert int(answers[2]["Retry-After"]) >= 1
    assert "Too many messages" in answers[2].content.decode()
    assert ProposalResponse.objects.count() == 2
    # the limit counts every post of the link, whatever it says
    assert customer.post(url(offer, "decline"), {"text": "Дорого"}).status_code == 429
    # another address is not held back
    other = Client(headers={"Accept-Language": "en"}, REMOTE_ADDR="10.0.0.9")
    assert other.post(url(offer, "question"), {"text": "Другой"}).status_code == 302


def test_the_admin_lists_the_customers_responses(offer, customer, make_user):
    customer.post(url(offer, "question"), {"text": "Вопрос в админке"})
    client = Client()
    client.force_login(make_user(Role.ADMIN))
    page = client.get("/admin/crm/proposalresponse/")
    assert page.status_code == 200 and "Вопрос в админке" in page.content.decode()
    assert client.get("/admin/crm/proposalresponse/add/").status_code == 403


def test_the_russian_page_reads_in_russian(offer):
    expire(offer)
    page = Client().get(url(offer)).content.decode()
    assert "Срок действия предложения истёк" in page and "Запросить новое предложение" in page
