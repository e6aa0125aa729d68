"""LOG_FORMAT=json and the context every log record carries (arenda/core/logcontext.py)."""

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.urls import path
from django_tasks import task

from arenda.core.logcontext import logging_config

pytestmark = pytest.mark.django_db

log = logging.getLogger("arenda.tests.ops")


def logging_view(request):
    log.info("the view ran")
    return HttpResponse("ok")


urlpatterns = [path("log-something/", logging_view)]


@task
def logging_task():
    log.info("the task ran")


@pytest.fixture
def json_lines():
    """The project's logging with LOG_FORMAT=json, its console written into a buffer."""
    logging.config.dictConfig(logging_config(log_format="json", level="INFO"))
    buffer = io.StringIO()
    [handler] = logging.getLogger().handlers
    handler.setStream(buffer)

    def lines():
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield lines
    logging.config.dictConfig(django_settings.LOGGING)


def ours(lines, message):
    [line] = [line for line in lines if line["message"] == message]
    return line


@pytest.mark.urls("tests.ops.test_logging")
def test_a_request_logs_a_json_line_with_its_id_and_the_users(client, make_user, json_lines):
    user = make_user()
    client.force_login(user)
    response = client.get("/log-something/", headers={"X-Request-ID": "proxy-abc-123"})
    assert response["X-Request-ID"] == "proxy-abc-123"
    line = ours(json_lines(), "the view ran")
    assert line["request_id"] == "proxy-abc-123"
    assert line["user_id"] == user.pk
    assert line["levelname"] == "INFO" and line["name"] == "arenda.tests.ops"


@pytest.mark.urls("tests.ops.test_logging")
def test_without_a_usable_request_id_one_is_made(client, json_lines):
    response = client.get("/log-something/", headers={"X-Request-ID": 'bad id\n{"forged": 1}'})
    made = response["X-Request-ID"]
    assert len(made) == 32 and made.isalnum()
    line = ours(json_lines(), "the view ran")
    assert line["request_id"] == made
    assert line["user_id"] is None, "nobody signed in"
    other = client.get("/log-something/")["X-Request-ID"]
    assert other != made


def test_djangos_log_of_an_error_response_carries_the_request_id(client, json_lines):
    """django.request logs «Not Found» after the middleware has returned."""
    response = client.get("/no-such-page/", headers={"X-Request-ID": "proxy-404"})
    assert response.status_code == 404 and response["X-Request-ID"] == "proxy-404"
    line = ours(json_lines(), "Not Found: /no-such-page/")
    assert line["request_id"] == "proxy-404"


def test_a_task_logs_with_its_id(settings, json_lines):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}
    }
    result = logging_task.enqueue()
    line = ours(json_lines(), "the task ran")
    assert line["task_id"] == str(result.id)
    log.info("after the task")
    assert ours(json_lines(), "after the task")["task_id"] == ""


def test_the_plain_format_stays_the_default():
    config = logging_config(log_format="plain", level="INFO")
    assert config["handlers"]["console"]["formatter"] == "plain"
    assert config["formatters"]["plain"] == {"format": "%(message)s"}
    assert config["handlers"]["console"]["filters"] == ["context"]
