"""POST /api/v1/intake/{source}/: tokens, de-duplication, the call-event shape, bad
bodies (400, never 500) and the rate limit."""

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from arenda.core.models import Notification
from arenda.core.roles import Role
from arenda.crm.models import IntakeToken, Lead, LeadMessage
from arenda.crm.tokens import intake_token_create, intake_token_revoke
from tests.factories import ContactFactory, CounterpartyFactory, LeadFactory, UserFactory, make_inn12

WEBSITE = {"name": "Пётр", "phone": "8 (912) 345-67-89", "email": "petr@example.ru", "message": "Кран 25 т"}


@pytest.fixture
def tokens(db):
    admin = UserFactory(role=Role.ADMIN)
    return {
        source: intake_token_create(name=f"token {source or 'any'}", source=source, by=admin)[1]
        for source in ("website", "phone", "")
    }


def post(source, body, token, *, raw=False, ip="203.0.113.7", language="en", **headers):
    client = APIClient()
    headers.update(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=language)
    if token is not None:
        headers["HTTP_X_INTAKE_TOKEN"] = token
    if raw:
        return client.post(f"/api/v1/intake/{source}/", body, content_type="application/json", **headers)
    return client.post(f"/api/v1/intake/{source}/", body, format="json", **headers)


def test_website_request_makes_one_lead(tokens, django_capture_on_commit_callbacks):
    manager = UserFactory(role=Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        response = post("website", WEBSITE, tokens["website"])
    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert response.json() == {"lead": lead.pk, "created": True}
    assert (lead.source, lead.status, lead.phone, lead.email, lead.name, lead.message) == (
        "website",
        "new",
        "+79123456789",
        "petr@example.ru",
        "Пётр",
        "Кран 25 т",
    )
    assert lead.manager == manager
    assert Notification.objects.get(user=manager).url == lead.get_absolute_url()
    assert LeadMessage.objects.get().text == "Кран 25 т"
    assert IntakeToken.objects.get(source="website").last_used_at is not None


@pytest.mark.parametrize("first", ["8 (912) 345-67-89", "+79123456789", "9123456789"])
def test_the_same_phone_in_any_format_joins_the_open_lead(tokens, first):
    formats = ["8 (912) 345-67-89", "+79123456789", "9123456789", "+7 912 345 67 89"]
    formats.remove(first) if first in formats else None
    assert post("website", {**WEBSITE, "phone": first}, tokens["website"]).status_code == 201
    for other in formats:
        response = post("website", {"phone": other, "message": f"ещё раз, {other}"}, tokens[""])
        assert response.status_code == 200, response.content
        assert response.json()["created"] is False
    lead = Lead.objects.get()
    assert lead.messages.count() == 4
    assert lead.email == "petr@example.ru"  # what came first stays


def test_a_closed_lead_is_not_joined(tokens):
    LeadFactory(phone="+79123456789", status="junk", junk_reason="спам")
    assert post("website", WEBSITE, tokens["website"]).status_code == 201
    assert Lead.objects.filter(phone="+79123456789").count() == 2


def test_a_redelivered_webhook_creates_nothing(tokens):
    body = {**WEBSITE, "external_id": "form-4711"}
    assert post("website", body, tokens["website"]).status_code == 201
    again = post("website", body, tokens["website"])
    assert again.status_code == 200 and again.json()["created"] is False
    assert LeadMessage.objects.count() == 1


def test_a_known_contact_phone_links_the_lead(tokens):
    contact = ContactFactory(phone="+79123456789", full_name="Прорабов Олег")
    post("website", {"phone": "89123456789", "message": "нужен кран"}, tokens["website"])
    lead = Lead.objects.get()
    assert (lead.contact, lead.counterparty, lead.name) == (contact, contact.counterparty, "Прорабов Олег")


def test_a_known_inn_links_the_lead(tokens):
    counterparty = CounterpartyFactory(kind="sole_trader", inn=make_inn12(4242), kpp="")
    post("website", {**WEBSITE, "inn": counterparty.inn}, tokens["website"])
    assert Lead.objects.get().counterparty == counterparty


def test_the_counterparty_manager_gets_a_known_customer(tokens):
    manager, other = UserFactory(role=Role.MANAGER), UserFactory(role=Role.MANAGER)
    contact = ContactFactory(phone="+79123456789")
    from tests.factories import DealFactory

    DealFactory(counterparty=contact.counterparty, manager=other)
    post("website", WEBSITE, tokens["website"])
    assert Lead.objects.get().manager == other
    assert manager != other


def test_leads_go_round_the_active_managers_in_turn(tokens):
    first, second, third = (UserFactory(role=Role.MANAGER) for _ in range(3))
    UserFactory(role=Role.MANAGER, is_active=False)
    UserFactory(role=Role.ACCOUNTANT)
    managers = []
    for n in range(5):
        response = post("website", {"phone": f"+7916000000{n}"}, tokens["website"])
        assert response.status_code == 201
        managers.append(Lead.objects.get(pk=response.json()["lead"]).manager)
    assert managers == [first, second, third, first, second]


# --- tokens ---------------------------------------------------------------------------------


def test_no_token_is_401(tokens):
    response = post("website", WEBSITE, None)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "X-Intake-Token"


@pytest.mark.parametrize("which", ["wrong", "other source", "revoked", "empty-ish"])
def test_a_bad_token_is_403(tokens, which):
    token = {
        "wrong": "x" * 43,
        "other source": tokens["phone"],
        "revoked": tokens["website"],
        "empty-ish": " ",
    }[which]
    if which == "revoked":
        intake_token_revoke(token=IntakeToken.objects.get(source="website"), by=None)
    response = post("website", WEBSITE, token)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not Lead.objects.exists()


def test_an_any_source_token_and_the_environment_token_work_everywhere(tokens):
    assert post("vk", {"phone": "+79160000001"}, tokens[""]).status_code == 201
    with override_settings(INTAKE_TOKEN="env-secret-token"):
        assert post("avito", {"phone": "+79160000002"}, "env-secret-token").status_code == 201
        assert post("avito", {"phone": "+79160000003"}, "env-secret-tokem").status_code == 403
    with override_settings(INTAKE_TOKEN=""):
        assert post("avito", {"phone": "+79160000004"}, "").status_code == 401


@pytest.mark.parametrize("source", ["fax", "manual", "WEBSITE"])
def test_an_unknown_source_is_404(tokens, source):
    assert post(source, WEBSITE, tokens[""]).status_code == 404


def test_only_the_hash_is_stored(db):
    token, plain = intake_token_create(name="Сайт", source="website", by=None)
    stored = IntakeToken.objects.filter(pk=token.pk).values()[0]
    assert plain not in json.dumps(stored, default=str)
    assert token.prefix == plain[:8] and len(plain) >= 40


# --- telephony ------------------------------------------------------------------------------

CALL = {
    "event": "incoming",
    "call_id": "pbx-1741162980.2291",
    "caller": "+7 912 345-67-89",
    "called": "+74951234567",
    "started_at": "2025-03-05T12:03:11+03:00",
}


def test_an_incoming_call_makes_a_lead(tokens):
    response = post("phone", CALL, tokens["phone"])
    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert (lead.source, lead.phone) == ("phone", "+79123456789")
    entry = lead.messages.get()
    assert entry.text == "Incoming call at 12:03 (line +74951234567)"
    assert (entry.channel, entry.external_id) == ("phone", "pbx-1741162980.2291:incoming")


def test_a_missed_call_from_another_pbx_shape_makes_a_lead(tokens):
    body = {"event": "missed", "call_id": 77, "from": "89161112233", "to": "74951234567"}
    body["started_at"] = "2025-03-05T09:15:00Z"
    response = post("phone", body, tokens["phone"])
    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert lead.phone == "+79161112233"
    assert lead.messages.get().text == "Missed call at 12:15 (line 74951234567)"


def test_the_events_of_one_call_join_one_lead_and_redelivery_adds_nothing(tokens):
    assert post("phone", CALL, tokens["phone"]).status_code == 201
    completed = {
        **CALL,
        "event": "completed",
        "duration": 155,
        "recording_url": "https://pbx.example.ru/rec/2291.mp3",
    }
    assert post("phone", completed, tokens["phone"]).status_code == 200
    assert post("phone", completed, tokens["phone"]).status_code == 200
    lead = Lead.objects.get()
    texts = list(lead.messages.values_list("text", "recording_url"))
    assert texts == [
        ("Incoming call at 12:03 (line +74951234567)", ""),
        ("Call at 12:03, 2 min 35 s (line +74951234567)", "https://pbx.example.ru/rec/2291.mp3"),
    ]


def test_the_call_text_follows_the_language(tokens):
    from django.utils import translation

    post("phone", {**CALL, "event": "missed"}, tokens["phone"], language="ru")
    with translation.override("ru"):
        from django.utils.translation import gettext

        expected = gettext("Missed call at %(time)s") % {"time": "12:03"}
    assert Lead.objects.get().messages.get().text.startswith(expected)


def test_a_form_posted_to_the_phone_source_is_a_callback_request(tokens):
    response = post("phone", {"phone": "+79160000009", "message": "Перезвоните"}, tokens["phone"])
    assert response.status_code == 201
    assert Lead.objects.get().message == "Перезвоните"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"caller": ""}, "caller"),
        ({"caller": "anonymous"}, "caller"),
        ({"caller": None}, "caller"),
        ({"event": "ringing"}, "event"),
        ({"call_id": ""}, "call_id"),
        ({"call_id": ["a"]}, "call_id"),
        ({"duration": -1}, "duration"),
        ({"duration": "long"}, "duration"),
        ({"started_at": "вчера"}, "started_at"),
        ({"recording_url": "javascript:alert(1)"}, "recording_url"),
    ],
)
def test_a_bad_call_event_is_400_naming_the_field(tokens, change, field):
    response = post("phone", {**CALL, **change}, tokens["phone"])
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Lead.objects.exists()


# --- bad bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "phone"),
        ({"name": "Пётр", "message": "без контактов"}, "phone"),
        ({"phone": "abc"}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"phone": ["+79123456789"]}, "phone"),
        ({"phone": {"n": 1}}, "phone"),
        ({"phone": True}, "phone"),
        ({"phone": None}, "phone"),
        ({"phone": "+7912" + "9" * 100}, "phone"),
        ({"phone": "+79123456789", "email": "не почта"}, "email"),
        ({"phone": "+79123456789", "email": 42}, "email"),
        ({"phone": "+79123456789", "name": "Я" * 100_000}, "name"),
        ({"phone": "+79123456789", "message": "x" * 20_000}, "message"),
        ({"phone": "+79123456789", "message": ["a", "b"]}, "message"),
        ({"phone": "+79123456789", "name": "nul\x00byte"}, "name"),
        ({"phone": "+79123456789", "inn": "7707083894"}, "inn"),
        ({"phone": "+79123456789", "external_id": "x" * 500}, "external_id"),
        ([WEBSITE], "non_field_errors"),
        ("just a string", "non_field_errors"),
        (12, "non_field_errors"),
    ],
)
def test_a_bad_body_is_400_naming_the_field(tokens, body, field):
    response = post("website", body, tokens["website"])
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    "raw", [b"null", b"{", b'{"phone": "+79123456789",}', b"\xff\xfe", b"", b'{"phone": NaN}', b"[" * 5000]
)
def test_invalid_json_is_400(tokens, raw):
    response = post("website", raw, tokens["website"], raw=True)
    assert response.status_code == 400, response.content
    assert not Lead.objects.exists()


def test_a_lone_surrogate_is_400(tokens):
    response = post("website", b'{"phone": "+79123456789", "name": "\\ud800"}', tokens["website"], raw=True)
    assert response.status_code == 400 and "name" in response.json()


def test_a_number_for_a_phone_is_taken(tokens):
    assert post("website", {"phone": 9123456789}, tokens["website"]).status_code == 201
    assert Lead.objects.get().phone == "+79123456789"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=60),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
fields = st.sampled_from(
    ["name", "phone", "email", "message", "inn", "company", "external_id", "event", "caller"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(fields, json_values, max_size=5) | json_values,
    source=st.sampled_from(["website", "phone"]),
)
@override_settings(INTAKE_RATE_LIMIT=10_000)
def test_fuzzed_bodies_never_make_a_500(tokens, body, source):
    response = post(source, body, tokens[""])
    assert response.status_code in (200, 201, 400), (body, response.content)


# --- the rate limit ---------------------------------------------------------------------------


@override_settings(INTAKE_RATE_LIMIT=5)
def test_a_flood_is_429_per_source_and_address(tokens, time_machine):
    # The counts are per clock minute: a flood that straddled one would start again.
    time_machine.move_to(timezone.now().replace(second=5), tick=False)
    answers = [
        post("website", {"phone": f"+7916000001{n % 10}"}, tokens["website"]).status_code for n in range(8)
    ]
    assert answers[:5] == [201] * 5 and answers[5:] == [429] * 3
    refused = post("website", WEBSITE, tokens["website"])
    assert 1 <= int(refused["Retry-After"]) <= 60 and refused.json()["code"] == "throttled"
    # Bad tokens count too: a flood cannot guess tokens.
    assert post("website", WEBSITE, "guess").status_code == 429
    assert post("phone", CALL, tokens["phone"]).status_code == 201
    assert post("website", {"phone": "+79160000099"}, tokens["website"], ip="198.51.100.1").status_code == 201


@override_settings(INTAKE_RATE_LIMIT=1)
def test_behind_the_proxy_the_limit_counts_the_forwarded_client(tokens, time_machine):
    time_machine.move_to(timezone.now().replace(second=5), tick=False)

    def send(forwarded, phone):
        return post(
            "website", {"phone": phone}, tokens["website"], ip="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
        )

    with override_settings(TRUSTED_PROXIES=1):
        assert send("203.0.113.1", "+79160000001").status_code == 201
        assert send("203.0.113.2", "+79160000002").status_code == 201
        # A client cannot dodge the limit by sending its own X-Forwarded-For.
        assert send("1.2.3.4, 203.0.113.1", "+79160000003").status_code == 429
    # Without a proxy the header is anybody's: the connection's address counts.
    assert send("203.0.113.3", "+79160000004").status_code == 201
    assert send("203.0.113.4", "+79160000005").status_code == 429


@override_settings(INTAKE_RATE_LIMIT=2)
def test_the_limit_resets_after_a_minute(tokens, time_machine):
    time_machine.move_to(timezone.now().replace(second=5), tick=False)
    assert [post("website", WEBSITE, tokens["website"]).status_code for _ in range(3)] == [201, 200, 429]
    time_machine.move_to(timezone.now() + timedelta(seconds=60), tick=False)
    assert post("website", WEBSITE, tokens["website"]).status_code == 200


def _redis_url():
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {url}")
    return url


def test_the_limit_is_shared_through_redis(tokens):
    url = _redis_url()
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"arenda-test-{os.getpid()}-{timezone.now().timestamp()}",
        }
    }
    with override_settings(CACHES=redis_cache, INTAKE_RATE_LIMIT=3):
        answers = [post("website", WEBSITE, tokens["website"]).status_code for _ in range(4)]
        assert answers == [201, 200, 200, 429]
        keys = caches["default"]._cache.get_client().keys("*arenda-test-*intake-rate:website:*")
        assert keys
        caches["default"].clear()


def test_a_cache_outage_lets_requests_through(tokens):
    broken = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with override_settings(CACHES=broken, INTAKE_RATE_LIMIT=1):
        assert [post("website", WEBSITE, tokens["website"]).status_code for _ in range(2)] == [201, 200]


@pytest.mark.parametrize(
    "url, backend",
    [
        ("", "django.core.cache.backends.locmem.LocMemCache"),
        ("redis://127.0.0.1:6379/0", "django.core.cache.backends.redis.RedisCache"),
        ("memcached://x", "ImproperlyConfigured"),
    ],
)
def test_cache_url_setting(url, backend):
    env = {**os.environ, "CACHE_URL": url, "DJANGO_SETTINGS_MODULE": "arenda.test_settings"}
    env.pop("REDIS_URL", None)
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert backend in done.stdout + done.stderr
