"""The web unit's command (deploy/systemd/arenda-web.service, ExecStart) started as systemd
would start it — from the checkout, with the settings of deploy/arenda.env.example (secrets
filled in, SQLite in a temporary DATA_DIR) — serves the app (the API: no static files needed), and the app reads the proxy's
X-Forwarded-Proto as BEHIND_HTTPS_PROXY says: https is served, plain HTTP is redirected."""

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _exec_start() -> list[str]:
    text = (ROOT / "deploy" / "systemd" / "arenda-web.service").read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart=").replace("/opt/arenda/venv/bin", str(VENV_BIN)))


def _env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / "deploy" / "arenda.env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            if value:
                values[key] = value
    return values


@pytest.mark.skipif(
    not (VENV_BIN / "gunicorn").exists(), reason="gunicorn is not installed beside this python"
)
def test_the_web_unit_serves_behind_the_https_proxy(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = _exec_start()
    assert command[command.index("--bind") + 1] == "127.0.0.1:8000"
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "1"

    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "ARENDA_"))}
    for key in _env_example():
        env.pop(key, None)
    env.update(_env_example())
    del env["DATABASE_URL"], env["CACHE_URL"]  # SQLite and the in-process cache: nothing to reach
    env.update(
        SECRET_KEY="production-like-key-for-this-test-only-0123456789abcdef",
        ENCRYPTION_KEY="another-key-for-this-test-only",
        DATA_DIR=str(tmp_path / "data"),
        STATIC_ROOT=str(tmp_path / "static"),
        BACKUP_DIR=str(tmp_path / "backups"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start: " + server.stderr.read().decode()[-3000:])
                time.sleep(0.2)

        def get(headers):
            conn = HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/v1/bookings/", headers={"Host": "arenda.example.ru", **headers})
            response = conn.getresponse()
            response.read()
            conn.close()
            return response

        served = get({"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
        # the API answers (asking for credentials) over what the proxy says is HTTPS
        assert served.status == 401 and served.getheader("Content-Type") == "application/json"
        assert served.getheader("Strict-Transport-Security", "").startswith("max-age=31536000")
        plain = get({})
        assert plain.status == 301
        assert plain.getheader("Location") == "https://arenda.example.ru/api/v1/bookings/"
        assert get({"X-Forwarded-Proto": "https", "Host": "elsewhere.example"}).status == 400
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
