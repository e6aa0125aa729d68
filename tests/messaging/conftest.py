import httpx
import pytest
from django_tasks import default_task_backend

from arenda.integrations.messaging.fake_telegram import FakeTelegram

SECRET = "webhook-secret-0123456789"


@pytest.fixture
def fake(settings):
    """A fake Telegram Bot API on a free port; the app talks to it with a short timeout."""
    server = FakeTelegram("127.0.0.1", 0)
    server.start()
    settings.TELEGRAM_API_URL = server.url
    settings.TELEGRAM_BOT_TOKEN = "123456:TEST"
    settings.TELEGRAM_TIMEOUT = 0.5
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    yield server
    server.stop()


@pytest.fixture
def tasks():
    """The tasks enqueued so far (the test backend keeps them instead of running them)."""
    default_task_backend.clear()
    yield default_task_backend.results
    default_task_backend.clear()


def control(fake, **failure):
    httpx.post(f"{fake.url}/_control", json=failure).raise_for_status()


def sent(fake) -> list[dict]:
    return httpx.get(f"{fake.url}/_sent").json()["messages"]


def calls(fake, method) -> list[dict]:
    return [c for c in httpx.get(f"{fake.url}/_sent").json()["calls"] if c["method"] == method]
