"""The headers and settings of docs/security.md: what every page sends, what a production
environment adds, what an error report may show, and the checks that warn an operator."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import RequestFactory

from arenda.core.checks import encryption_key_is_set
from arenda.core.errors import MaskingExceptionReporterFilter, mask_url_credentials

ROOT = Path(__file__).resolve().parents[2]


def _production_env(tmp_path, **overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    env.update(
        DEBUG="0",
        DATA_DIR=str(tmp_path),
        SECRET_KEY="a-production-like-secret-key-" + "x7Qp2Lm9Rt4Vz8Kw" * 3,
        ENCRYPTION_KEY="another-random-value-kept-elsewhere-" + "N5bH3jD8" * 4,
        ALLOWED_HOSTS="arenda.example.ru",
        SECURE_COOKIES="1",
        BEHIND_HTTPS_PROXY="1",
    )
    env.update(overrides)
    return env


def _run(code, env):
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.django_db
def test_every_page_sends_the_security_headers(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "report-uri /csp-report/" in policy
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_pages_carry_no_inline_script_or_style(admin_client):
    """What the policy refuses must not be in our templates: the browser walk
    (tests/browser/test_csp.py) checks every page; this checks the main ones without a browser."""
    for url in ["/", "/accounts/login/", "/api/docs/"]:
        page = admin_client.get(url).content.decode()
        assert "<script>" not in page.replace("<script>\n</script>", "")
        assert "<style" not in page, url
        assert ' style="' not in page, url
        assert " onclick=" not in page and " onchange=" not in page, url


def test_a_production_environment_turns_on_hsts_and_the_https_redirect(tmp_path):
    code = (
        "import json; from arenda import settings as s; print(json.dumps([s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE]))"
    )
    result = _run(code, _production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [31536000, True, False, True, True, True]


def test_without_secure_cookies_there_is_no_hsts(tmp_path):
    code = "from arenda import settings as s; print(getattr(s, 'SECURE_HSTS_SECONDS', 0))"
    result = _run(code, _production_env(tmp_path, SECURE_COOKIES="0"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_csp_report_only_switches_the_policy_to_reporting(tmp_path):
    code = (
        "from arenda import settings as s; "
        "print(s.CONTENT_SECURITY_POLICY is None, bool(s.CONTENT_SECURITY_POLICY_REPORT_ONLY))"
    )
    result = _run(code, _production_env(tmp_path, CSP_REPORT_ONLY="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_check_deploy_is_clean_in_a_production_environment(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_an_encryption_key(tmp_path):
    env = _production_env(tmp_path)
    del env["ENCRYPTION_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "arenda.W001" in result.stdout + result.stderr


def test_the_encryption_key_check_warns_only_in_production(settings):
    settings.DEBUG, settings.ENCRYPTION_KEY_SET = False, False
    assert [warning.id for warning in encryption_key_is_set(None)] == ["arenda.W001"]
    settings.ENCRYPTION_KEY_SET = True
    assert encryption_key_is_set(None) == []
    settings.DEBUG, settings.ENCRYPTION_KEY_SET = True, False
    assert encryption_key_is_set(None) == []


def test_the_encryption_key_check_is_registered(settings):
    settings.DEBUG, settings.ENCRYPTION_KEY_SET = False, False
    assert "arenda.W001" in [message.id for message in run_checks(include_deployment_checks=False)]


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("postgres://arenda:s3cret@db:5432/arenda", "postgres://********************@db:5432/arenda"),
        ("redis://:s3cret@127.0.0.1:6379/0", "redis://********************@127.0.0.1:6379/0"),
        ("https://1c.example.ru/base/odata/", "https://1c.example.ru/base/odata/"),
        (
            "see postgres://u:p@h/d and redis://x@y",
            "see postgres://********************@h/d and redis://********************@y",
        ),
    ],
)
def test_mask_url_credentials(raw, masked):
    assert mask_url_credentials(raw) == masked


def test_the_error_report_masks_urls_tokens_passwords_and_keys(settings):
    settings.DEBUG = True
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "redis://:c4che-pw@r:6379",
        }
    }
    settings.BACKUP_URL = "sftp://backup:url-pw@files.example.ru/arenda"
    settings.TELEGRAM_BOT_TOKEN = "123456:bot-token-value"
    settings.SMTP_PASSWORD = "smtp-pw-value"
    settings.SIGNING_KEY = "signing-key-value"
    request = RequestFactory().get("/", HTTP_X_DATABASE_URL="postgres://a:meta-pw@db/x")
    report_filter = MaskingExceptionReporterFilter()
    # What the debug page and the e-mailed report show of the settings and the request.
    text = repr(report_filter.get_safe_settings()) + repr(report_filter.get_safe_request_meta(request))
    for secret in ["c4che-pw", "url-pw", "bot-token-value", "smtp-pw-value", "signing-key-value", "meta-pw"]:
        assert secret not in text, secret
    assert "files.example.ru/arenda" in text


def test_the_project_uses_the_masking_filter(settings):
    from django.views.debug import get_default_exception_reporter_filter

    get_default_exception_reporter_filter.cache_clear()
    try:
        assert isinstance(get_default_exception_reporter_filter(), MaskingExceptionReporterFilter)
    finally:
        get_default_exception_reporter_filter.cache_clear()


def test_csp_reports_are_logged(client, caplog):
    report = {
        "csp-report": {
            "document-uri": "https://arenda.example.ru/bookings/",
            "violated-directive": "style-src-attr",
            "blocked-uri": "inline",
        }
    }
    with caplog.at_level("WARNING", logger="arenda.csp"):
        response = client.post("/csp-report/", json.dumps(report), content_type="application/csp-report")
    assert response.status_code == 204
    assert "style-src-attr" in caplog.text and "/bookings/" in caplog.text


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"csp-report": "x"}'])
def test_a_malformed_csp_report_is_refused_not_an_error(client, body):
    response = client.post("/csp-report/", body, content_type="application/csp-report")
    assert response.status_code == 400


def test_an_oversized_csp_report_is_refused(client):
    response = client.post("/csp-report/", b"{" + b" " * 20000 + b"}", content_type="application/csp-report")
    assert response.status_code == 413


def test_csp_report_takes_only_post(client):
    assert client.get("/csp-report/").status_code == 405
