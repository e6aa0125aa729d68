"""Errors reach Sentry/GlitchTip without personal data (arenda/core/sentry.py) — from a view
and from a background task (arenda/core/observability.py)."""

import json

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django_tasks import task
from sentry_sdk.transport import Transport

from arenda.core import sentry
from arenda.core.sentry import FILTERED, scrub_text

pytestmark = pytest.mark.django_db


@csrf_exempt
def failing_view(request):
    data = request.POST
    raise ValueError(f"could not reach {data['phone']} or {data['email']} for INN {data['inn']}")


urlpatterns = [path("boom/", failing_view)]


@task
def failing_task(email):
    raise RuntimeError(f"lead {email} broke")


class CapturingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.events = []

    def capture_envelope(self, envelope):
        for item in envelope.items:
            if item.headers.get("type") in ("event", "transaction"):
                self.events.append(json.loads(item.payload.get_bytes()))


# Below the code that fails: frames carry a few lines of source around them.
PHONE, EMAIL, INN, NAME = "+7 (912) 345-67-89", "ivan.petrov@example.ru", "7707083893", "Пётр Иванов"


@pytest.fixture
def sent():
    transport = CapturingTransport()
    sentry.init(
        dsn="https://key@glitchtip.example.ru/1",
        environment="test",
        traces_sample_rate=0,
        transport=transport,
    )
    yield transport.events
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: off again for the other tests


def test_scrub_text_masks_phones_emails_and_inns():
    text = scrub_text(f"call {PHONE} or 89123456789, write {EMAIL}, INN {INN}; invoice 42 of 2026-03-02")
    assert PHONE not in text and "89123456789" not in text and EMAIL not in text and INN not in text
    assert "invoice 42 of 2026-03-02" in text


def test_scrub_event_keeps_only_the_users_id_and_drops_cookies_and_bodies():
    event = {
        "user": {"id": 7, "email": EMAIL, "username": NAME, "ip_address": "10.1.2.3"},
        "request": {
            "url": f"https://arenda.example.ru/leads/?phone={PHONE}",
            "query_string": f"phone={PHONE}&name={NAME}",
            "data": {"name": NAME},
            "cookies": {"sessionid": "abc"},
            "headers": {"Cookie": "sessionid=abc", "Authorization": "Token t", "User-Agent": "curl"},
        },
        "breadcrumbs": {"values": [{"message": f"SMS to {PHONE}"}]},
    }
    scrubbed = sentry.scrub_event(event)
    assert scrubbed["user"] == {"id": 7}
    request = scrubbed["request"]
    assert request["data"] == FILTERED and "cookies" not in request
    assert request["query_string"] == f"phone={FILTERED}&name={FILTERED}"
    assert request["url"] == "https://arenda.example.ru/leads/"
    assert request["headers"] == {"Cookie": FILTERED, "Authorization": FILTERED, "User-Agent": "curl"}
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == f"SMS to {FILTERED}"


@pytest.mark.urls("tests.ops.test_sentry")
def test_an_error_in_a_view_arrives_scrubbed(sent):
    """Through Django's WSGI handler, as gunicorn calls it: Sentry's Django integration reads
    the URL, headers and query string there."""
    request = RequestFactory().post(
        f"/boom/?phone={PHONE}&name={NAME}",
        data={"phone": PHONE, "name": NAME, "email": EMAIL, "inn": INN},
        headers={"Authorization": "Token secret-api-token", "Cookie": "sessionid=secret-session"},
    )
    statuses = []
    # As Django's test client does: the request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        WSGIHandler()(request.environ, lambda status, headers: statuses.append(status))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert statuses[0].startswith("500")
    [event] = sent
    raw = json.dumps(event, ensure_ascii=False)
    for secret in (PHONE, EMAIL, INN, NAME, "Пётр", "secret-api-token", "secret-session"):
        assert secret not in raw, secret
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert set(event.get("user", {})) <= {"id"}, "at most the user's id"
    request = event["request"]
    assert request["url"].endswith("/boom/")
    assert request.get("data") in (None, "", FILTERED)
    assert "cookies" not in request
    assert request["headers"].get("Authorization") in (None, FILTERED)
    assert request["headers"].get("Cookie") in (None, FILTERED)
    assert request["query_string"] == f"phone={FILTERED}&name={FILTERED}"
    assert event["environment"] == "test"
    assert all("vars" not in frame for frame in event["exception"]["values"][-1]["stacktrace"]["frames"])


def test_a_failed_task_is_reported(settings, sent):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
    }
    failing_task.enqueue(EMAIL)
    [event] = [e for e in sent if e.get("tags", {}).get("task") == "tests.ops.test_sentry.failing_task"]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert EMAIL not in json.dumps(event, ensure_ascii=False)


def test_a_successful_task_reports_nothing(settings, sent):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
    }
    ok.enqueue()
    assert sent == []


@task
def ok():
    return 1
