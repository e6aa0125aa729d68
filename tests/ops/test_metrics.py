"""/metrics (arenda/ops/metrics_views.py, arenda/ops/metrics.py) and the counters of
arenda/core/metrics.py (docs/metrics.md)."""

import re
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import task
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from arenda.bookings import services as bookings
from arenda.bookings.models import Booking
from arenda.bookings.services import BookingConflict
from arenda.crm.services import intake_receive
from arenda.integrations.messaging.models import OutboxMessage
from arenda.ops.metrics import exposition
from tests.factories import BookingFactory, DriverFactory, EquipmentTypeFactory, UnitFactory

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-1234"
IMMEDIATE = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@task
def add(a, b):
    return a + b


@task
def explode():
    raise RuntimeError("the task broke")


def value(name, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def samples(text: str) -> dict:
    """{(sample name, sorted labels): value} of an exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def get():
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        return samples(response.content.decode())

    return get


# --- who may read it ---------------------------------------------------------------------
def test_without_a_token_or_addresses_configured_nobody_gets_it(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_ADDRESSES = "", []
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_the_token_lets_a_scraper_in_and_nothing_else_does(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 404
    assert client.post("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert b"arenda_outbox_messages" in response.content


def test_the_404_looks_like_any_unknown_page(client, settings):
    settings.METRICS_TOKEN = TOKEN
    hidden, unknown = client.get("/metrics"), client.get("/metricz")
    assert hidden.status_code == unknown.status_code == 404

    def page(response):  # the CSRF token is masked afresh for every response; the path is echoed
        text = re.sub(
            r'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode()
        )
        return text.replace("/metricz", "/metrics")

    assert page(hidden) == page(unknown)


def test_an_allowed_address_or_network_gets_it(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.5").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="10.2.3.4").status_code == 200
    settings.METRICS_ALLOWED_ADDRESSES = ["192.168.1.5"]
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.5").status_code == 200


def test_the_address_is_the_clients_as_core_network_reads_it(client, settings):
    """X-Forwarded-For counts only behind a trusted proxy (arenda/core/network.py)."""
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_ADDRESSES = "", ["10.0.0.7"]
    forwarded = {"REMOTE_ADDR": "172.16.0.1", "HTTP_X_FORWARDED_FOR": "10.0.0.7"}
    settings.TRUSTED_PROXIES = None
    assert client.get("/metrics", **forwarded).status_code == 404
    settings.TRUSTED_PROXIES = 1
    assert client.get("/metrics", **forwarded).status_code == 200


# --- requests -------------------------------------------------------------------------------
def test_request_counters_move_with_requests(client, scrape):
    key = (
        "django_http_responses_total_by_status_view_method_total",
        (("method", "GET"), ("status", "200"), ("view", "login")),
    )
    before = scrape().get(key, 0)
    client.get("/accounts/login/")
    client.get("/accounts/login/")
    after = scrape()
    assert after[key] == before + 2
    assert any(
        name == "django_http_requests_latency_seconds_by_view_method_count" and ("view", "login") in labels
        for name, labels in after
    )


# --- tasks -----------------------------------------------------------------------------------
def test_tasks_are_counted_and_timed_by_outcome(settings, scrape):
    settings.TASKS = IMMEDIATE
    ok, failed = (
        {"task": "tests.ops.test_metrics.add", "outcome": "successful"},
        {"task": "tests.ops.test_metrics.explode", "outcome": "failed"},
    )
    before = (
        value("arenda_tasks_total", **ok),
        value("arenda_tasks_total", **failed),
        value("arenda_task_duration_seconds_count", **ok),
    )
    assert add.enqueue(2, 3).return_value == 5
    explode.enqueue()
    add.enqueue(1, 1)
    assert value("arenda_tasks_total", **ok) == before[0] + 2
    assert value("arenda_tasks_total", **failed) == before[1] + 1
    assert value("arenda_task_duration_seconds_count", **ok) == before[2] + 2
    scraped = scrape()
    assert scraped[("arenda_tasks_total", tuple(sorted(ok.items())))] == before[0] + 2


def test_the_task_queue_gauge_counts_waiting_tasks(settings, scrape):
    settings.TASKS = DATABASE
    key = ("arenda_task_queue", (("queue", "default"), ("status", "READY")))
    assert scrape().get(key, 0) == 0
    add.enqueue(1, 2)
    add.enqueue(3, 4)
    assert scrape()[key] == 2


# --- the outbox ------------------------------------------------------------------------------
def outbox(channel, status, queued_at=None):
    return OutboxMessage.objects.create(
        channel=channel,
        status=status,
        recipient="r",
        text="t",
        idempotency_key=uuid.uuid4().hex,
        queued_at=queued_at or timezone.now(),
    )


def test_outbox_depth_matches_the_rows(scrape):
    S = OutboxMessage.Status
    now = timezone.now()
    for _ in range(3):
        outbox("telegram", S.QUEUED)
    outbox("telegram", S.QUEUED, queued_at=now - timedelta(minutes=10))
    outbox("telegram", S.FAILED)
    outbox("email", S.SENDING)
    outbox("email", S.DELIVERED)  # done: not part of the depth
    scraped = scrape()

    def depth(channel, status):
        return scraped[("arenda_outbox_messages", (("channel", channel), ("status", status)))]

    assert depth("telegram", "queued") == 4
    assert depth("telegram", "failed") == 1
    assert depth("telegram", "sending") == 0
    assert depth("email", "sending") == 1
    assert depth("email", "queued") == 0
    assert not any(name == "arenda_outbox_messages" and ("status", "delivered") in lb for name, lb in scraped)
    oldest = scraped[("arenda_outbox_oldest_waiting_seconds", (("channel", "telegram"),))]
    assert 600 <= oldest < 3600
    assert scraped[("arenda_outbox_oldest_waiting_seconds", (("channel", "email"),))] < 3600


# --- leads and bookings -----------------------------------------------------------------------
def test_lead_intake_is_counted_by_source_and_outcome():
    new = {"source": "website", "outcome": "new"}
    joined = {"source": "website", "outcome": "joined"}
    before = value("arenda_leads_received_total", **new), value("arenda_leads_received_total", **joined)
    intake_receive(source="website", phone="+7 912 345-67-01", message="Нужен кран")
    intake_receive(source="website", phone="+7 912 345-67-01", message="И ещё экскаватор")
    assert value("arenda_leads_received_total", **new) == before[0] + 1
    assert value("arenda_leads_received_total", **joined) == before[1] + 1


def test_reservations_and_refused_conflicts_are_counted(make_user):
    crane = EquipmentTypeFactory()
    unit = UnitFactory(equipment_type=crane)
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    first = BookingFactory(equipment_type=crane, start=start, end=start + timedelta(hours=8))
    second = BookingFactory(
        equipment_type=crane, start=start + timedelta(hours=4), end=start + timedelta(hours=12)
    )
    reserved, busy = (
        value("arenda_bookings_reserved_total"),
        value("arenda_booking_conflicts_total", code="unit_busy"),
    )
    bookings.booking_reserve(booking=first, unit=unit, driver=DriverFactory(), by=make_user())
    with pytest.raises(BookingConflict):
        bookings.booking_reserve(booking=second, unit=unit, driver=DriverFactory(), by=make_user())
    assert value("arenda_bookings_reserved_total") == reserved + 1
    assert value("arenda_booking_conflicts_total", code="unit_busy") == busy + 1


def test_a_booking_that_cannot_be_reserved_counts_as_a_conflict(make_user):
    cancelled = BookingFactory(status=Booking.Status.CANCELLED)
    before = value("arenda_booking_conflicts_total", code="wrong_status")
    reserved = value("arenda_bookings_reserved_total")
    with pytest.raises(BookingConflict):
        bookings.booking_reserve(
            booking=cancelled, unit=UnitFactory(), driver=DriverFactory(), by=make_user()
        )
    assert value("arenda_booking_conflicts_total", code="wrong_status") == before + 1
    assert value("arenda_bookings_reserved_total") == reserved


# --- several processes -----------------------------------------------------------------------
def test_with_a_multiprocess_directory_the_processes_counts_are_added_up(tmp_path, monkeypatch):
    """Two processes count into PROMETHEUS_MULTIPROC_DIR; /metrics reads their sum."""
    increment = "from arenda.core import metrics; metrics.LEADS.labels(source='vk', outcome='new').inc(3)"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", increment], env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    scraped = samples(exposition().decode())
    assert scraped[("arenda_leads_received_total", (("outcome", "new"), ("source", "vk")))] == 6
    assert ("arenda_outbox_messages", (("channel", "email"), ("status", "queued"))) in scraped
