"""The operations settings of arenda/settings.py (docs/metrics.md), read in a fresh process
as a production start would read them."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path, code, **env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "ARENDA_TESTING"}
        and not k.startswith("SENTRY_")
    }
    env.update(DATA_DIR=str(tmp_path), SECRET_KEY="x" * 60, **env_overrides)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_dsn_starts_sentry_without_personal_data(tmp_path):
    code = (
        "import json, sentry_sdk; from arenda import settings; o = sentry_sdk.get_client().options; "
        "print(json.dumps([sentry_sdk.get_client().is_active(), o['environment'], o['send_default_pii'], "
        "o['include_local_variables'], o['traces_sample_rate'], o['before_send'].__qualname__]))"
    )
    result = run(
        tmp_path,
        code,
        SENTRY_DSN="https://public@glitchtip.example.ru/3",
        SENTRY_ENVIRONMENT="staging",
        SENTRY_TRACES_SAMPLE_RATE="0.25",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, "staging", False, False, 0.25, "scrub_event"]


def test_without_a_dsn_sentry_stays_off(tmp_path):
    result = run(
        tmp_path, "import sentry_sdk; from arenda import settings; print(sentry_sdk.get_client().is_active())"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_log_format_json_switches_the_console_handler(tmp_path):
    code = "from arenda import settings; print(settings.LOGGING['handlers']['console']['formatter'])"
    assert run(tmp_path, code, LOG_FORMAT="json").stdout.strip() == "json"
    assert run(tmp_path, code).stdout.strip() == "plain"


def test_bad_values_stop_the_start(tmp_path):
    code = "from arenda import settings"
    for env in (
        {"LOG_FORMAT": "xml"},
        {"SENTRY_TRACES_SAMPLE_RATE": "2"},
        {"SENTRY_TRACES_SAMPLE_RATE": "often"},
        {"METRICS_ALLOWED_ADDRESSES": "10.0.0.0/33"},
    ):
        result = run(tmp_path, code, **env)
        assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr, env


def test_an_empty_multiprocess_directory_leaves_the_counters_in_the_process(tmp_path):
    """The environment file leaves PROMETHEUS_MULTIPROC_DIR empty; prometheus_client would take
    a merely present variable for its several-processes mode and fail on the first count."""
    code = (
        "import os; from arenda import settings; from arenda.core import metrics; "
        "metrics.BOOKINGS_RESERVED.inc(); print('PROMETHEUS_MULTIPROC_DIR' in os.environ)"
    )
    result = run(tmp_path, code, PROMETHEUS_MULTIPROC_DIR="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
