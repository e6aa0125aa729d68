"""The production layout in deploy/ (docs/operations.md): the systemd units and the nginx
site pass their own tools' checks (deploy/check), and they say what the app expects —
the sandbox, the proxy headers the settings trust, the upload limit, DATA_DIR never served,
every setting in the environment file."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arenda.billing import statements
from arenda.bookings import waybills

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
SITE = (DEPLOY / "nginx" / "arenda.conf").read_text()
PROXY = (DEPLOY / "nginx" / "arenda-proxy.conf").read_text()
ENV_EXAMPLE = (DEPLOY / "arenda.env.example").read_text()

# Read by settings.py but never set in production: the test suite's and development's own.
NOT_FOR_PRODUCTION = {"ARENDA_TESTING", "TASKS_IMMEDIATE"}
# Settings the other operations commands read (docs/backup.md, docs/metrics.md).
OPERATIONS = {
    "BACKUP_DIR",
    "BACKUP_KEEP",
    "BACKUP_ENCRYPTION_KEY",
    "METRICS_TOKEN",
    "SENTRY_DSN",
    "LOG_FORMAT",
}


def _unit(path: Path) -> dict[str, list[str]]:
    """key → values of a unit file (continuation lines joined)."""
    keys: dict[str, list[str]] = {}
    text = path.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            keys.setdefault(key, []).append(value)
    return keys


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.splitlines():
        match = re.match(r"#?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match[1]] = match[2]
    return values


@pytest.mark.skipif(
    not shutil.which("systemd-analyze") and not shutil.which("nginx"),
    reason="neither systemd-analyze nor nginx is installed",
)
def test_deploy_check_passes():
    result = subprocess.run([str(DEPLOY / "check")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    if shutil.which("systemd-analyze"):
        assert "systemd units OK" in result.stdout
    if shutil.which("nginx") and shutil.which("openssl"):
        assert "nginx site OK" in result.stdout


def test_there_is_a_unit_for_the_web_server_the_worker_and_the_scheduler():
    commands = {path.name: " ".join(_unit(path)["ExecStart"]) for path in UNITS}
    assert "gunicorn arenda.wsgi" in commands["arenda-web.service"]
    assert "manage.py db_worker" in commands["arenda-worker.service"]
    assert "manage.py db_worker" in commands["arenda-worker@.service"]
    # the command bin/arenda-run starts the scheduler with
    assert "manage.py run_scheduler" in (ROOT / "bin" / "arenda-run").read_text()
    assert "manage.py run_scheduler" in commands["arenda-scheduler.service"]


@pytest.mark.parametrize("path", UNITS, ids=lambda path: path.name)
def test_every_unit_restarts_and_runs_sandboxed(path):
    keys = _unit(path)
    single = {key: values[-1] for key, values in keys.items()}
    assert single["Restart"] == "on-failure"
    assert single["User"] == "arenda" and single["Group"] == "arenda"
    assert single["EnvironmentFile"] == "/etc/arenda/arenda.env"
    assert single["ProtectSystem"] == "strict"
    writable = single["ReadWritePaths"].split()
    assert _env_example()["DATA_DIR"] in writable
    if "db_worker" in single["ExecStart"]:  # the nightly backup runs on a task worker
        assert "-" + _env_example()["BACKUP_DIR"] in writable
    for key in (
        "ProtectHome",
        "NoNewPrivileges",
        "PrivateTmp",
        "PrivateDevices",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "RestrictNamespaces",
        "RestrictSUIDSGID",
        "LockPersonality",
    ):
        assert single.get(key) == "yes", key
    assert single["CapabilityBoundingSet"] == ""
    assert "@system-service" in keys["SystemCallFilter"]
    assert set(single["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}


def test_nginx_takes_the_largest_upload_the_app_accepts():
    limit = re.search(r"client_max_body_size\s+(\d+)m;", SITE)
    assert limit, "client_max_body_size is set in megabytes"
    app_limit = max(waybills.MAX_SCAN_BYTES, statements.MAX_BYTES)
    assert app_limit <= int(limit[1]) * 1024 * 1024 <= app_limit + 4 * 1024 * 1024


def test_nginx_sends_the_headers_the_settings_trust():
    env = _env_example()
    # one proxy, appending the address it saw: arenda/core/network.py reads it from the right
    assert env["TRUSTED_PROXIES"] == "1"
    assert re.search(r"proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;", PROXY)
    # BEHIND_HTTPS_PROXY: SECURE_PROXY_SSL_HEADER = X-Forwarded-Proto: https
    assert env["BEHIND_HTTPS_PROXY"] == "1" and env["SECURE_COOKIES"] == "1"
    assert re.search(r"proxy_set_header X-Forwarded-Proto \$scheme;", PROXY)
    assert SITE.count("include /etc/nginx/arenda-proxy.conf;") == SITE.count("proxy_pass ")


def test_nginx_redirects_http_and_speaks_modern_tls_only():
    assert "return 301 https://$host$request_uri;" in SITE
    assert re.search(r"ssl_protocols TLSv1\.2 TLSv1\.3;", SITE)
    assert "ssl_session_tickets off;" in SITE


def test_nginx_serves_static_files_and_never_data_dir():
    env = _env_example()
    data_dir, static_root = env["DATA_DIR"].rstrip("/"), env["STATIC_ROOT"].rstrip("/")
    assert not (static_root + "/").startswith(data_dir + "/"), "STATIC_ROOT must lie outside DATA_DIR"
    served = re.findall(r"^\s*(?:alias|root)\s+([^;]+);", SITE, re.MULTILINE)
    assert f"{static_root}/" in served
    assert not [path for path in served if path.rstrip("/").startswith(data_dir)]
    static = re.search(r"location /static/ \{(.*?)\}", SITE, re.DOTALL)[1]
    assert "immutable" in static and "max-age=31536000" in static


def test_metrics_are_reachable_only_from_internal_addresses():
    block = re.search(r"location \^~ /metrics \{(.*?)\n    \}", SITE, re.DOTALL)[1]
    rules = re.findall(r"^\s*(allow|deny)\s+([^;]+);", block, re.MULTILINE)
    assert rules[-1] == ("deny", "all")
    assert all(address in ("127.0.0.1", "::1") for kind, address in rules if kind == "allow")


def test_the_environment_file_names_every_setting():
    settings_py = (ROOT / "arenda" / "settings.py").read_text()
    read = set(re.findall(r"env_(?:str|bool|int|list)\(\s*\"([A-Z][A-Z0-9_]*)\"", settings_py))
    assert {"SECRET_KEY", "DATABASE_URL", "EMAIL_BACKEND"} <= read  # the pattern finds them
    listed = set(_env_example())
    assert read - NOT_FOR_PRODUCTION - listed == set()
    assert listed >= OPERATIONS


def test_the_environment_file_passes_the_deployment_checks(tmp_path):
    """The example, its secrets filled in, is a production configuration that
    ``check --deploy`` accepts (the same check CI runs, docs/security.md)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "ARENDA_"))}
    for key in list(env):
        if key in _env_example() or key in NOT_FOR_PRODUCTION:
            del env[key]
    env.update({key: value for key, value in _env_example().items() if value})
    env.update(
        SECRET_KEY="x" * 30 + "production-like-key-for-the-check-only-0123456789",
        ENCRYPTION_KEY="y" * 40,
        DATA_DIR=str(tmp_path / "data"),
        STATIC_ROOT=str(tmp_path / "static"),
        BACKUP_DIR=str(tmp_path / "backups"),
        DJANGO_SETTINGS_MODULE="arenda.settings",
    )
    del env["DATABASE_URL"]  # the SQLite file in DATA_DIR: nothing to connect to
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_arenda_manage_runs_manage_py_with_the_environment_file(tmp_path):
    """deploy/arenda-manage sources the environment file as sh does (so the example must
    read the same in sh and in systemd) and runs manage.py in the release's directory."""
    values = _env_example()
    values.update(
        SECRET_KEY="x" * 30 + "production-like-key-for-the-check-only-0123456789",
        ENCRYPTION_KEY="y" * 40,
        DATA_DIR=str(tmp_path / "data"),
        STATIC_ROOT=str(tmp_path / "static"),
        BACKUP_DIR=str(tmp_path / "backups"),
        DATABASE_URL="",  # the SQLite file in DATA_DIR
    )
    lines = ENV_EXAMPLE.splitlines()
    env_file = tmp_path / "arenda.env"
    env_file.write_text(
        "\n".join(
            f"{m[2]}={values[m[2]]}" if (m := re.match(r"^()([A-Z][A-Z0-9_]*)=", line)) else line
            for line in lines
        )
        + "\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "ARENDA_"))}
    for key in values:
        env.pop(key, None)
    env.update(
        ARENDA_APP=str(ROOT),
        ARENDA_VENV=str(Path(sys.executable).parent.parent),
        ARENDA_ENV_FILE=str(env_file),
        ARENDA_USER=subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip(),
    )
    result = subprocess.run(
        [str(DEPLOY / "arenda-manage"), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "data").is_dir() and (
        tmp_path / "static"
    ).is_dir()  # the file's DATA_DIR and STATIC_ROOT
