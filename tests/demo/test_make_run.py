"""``make run`` on a shared machine (bin/arenda-run): free ports for the fakes, each copy's
1C bases and webhook at its own fakes, and the banner in the UI's language."""

import os
import socket
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from arenda.core.roles import Role
from arenda.demo import ports
from arenda.demo.running import FAKE_1C, FAKE_TELEGRAM, WEB, point_bases_at, url_file
from arenda.integrations.messaging.fake_server import announce, port_from_env
from tests.factories import AccountingBaseFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def _banner() -> str:
    out = StringIO()
    call_command("banner", stdout=out)
    return out.getvalue()


def _running(web="http://127.0.0.1:8001", onec="http://127.0.0.1:40001", telegram="http://127.0.0.1:40002"):
    for name, url in ((WEB, web), (FAKE_1C, onec), (FAKE_TELEGRAM, telegram)):
        if url:
            announce(url, str(url_file(name)))


# --- the banner -------------------------------------------------------------------------


@pytest.mark.django_db
def test_banner_shows_this_copys_urls_and_the_demo_logins_in_english(data_dir):
    UserFactory(username="manager", role=Role.MANAGER, full_name="Смирнова Ольга Викторовна")
    UserFactory(username="accountant", role=Role.ACCOUNTANT, full_name="Белова Татьяна Николаевна")
    _running()
    text = _banner()
    assert "Arenda is running: http://127.0.0.1:8001/" in text
    assert "http://127.0.0.1:8001/api/docs/" in text
    assert "Fake 1C: http://127.0.0.1:40001/_dump" in text
    assert "Fake Telegram: http://127.0.0.1:40002/_sent" in text
    lines = text.splitlines()
    assert any(line.split()[:2] == ["manager", "Manager"] for line in lines)
    assert any(line.split()[:2] == ["accountant", "Accountant"] for line in lines)
    assert "demo12345" in text
    assert "Менеджер" not in text


@pytest.mark.django_db
def test_banner_speaks_russian_when_the_ui_does(data_dir):
    UserFactory(username="manager", role=Role.MANAGER, full_name="Смирнова Ольга Викторовна")
    _running()
    with translation.override("ru"):
        text = _banner()
    lines = text.splitlines()
    assert any(line.split()[:2] == ["manager", "Менеджер"] for line in lines)
    assert any(line.split()[:2] == ["логин", "роль"] for line in lines)
    assert "Manager" not in text
    assert "http://127.0.0.1:8001/" in text


@pytest.mark.django_db
def test_banner_without_a_running_copy_says_so_and_names_no_fakes(data_dir):
    text = _banner()
    assert "not running" in text
    assert "Fake" not in text and "_dump" not in text


# --- ports --------------------------------------------------------------------------------


def test_a_free_port_is_kept_and_a_taken_one_moves_to_the_next_free():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        assert not ports.port_is_free("127.0.0.1", taken)
        chosen = ports.next_free_port("127.0.0.1", taken)
        assert chosen > taken
        assert ports.port_is_free("127.0.0.1", chosen)
        assert ports.next_free_port("127.0.0.1", chosen) == chosen
        with pytest.raises(ValueError, match="no free port"):
            ports.next_free_port("127.0.0.1", taken, tries=1)


def test_ports_main_prints_the_port_to_use(capsys):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        assert ports.main(["127.0.0.1", str(taken)]) == 0
    assert int(capsys.readouterr().out) > taken


def test_fake_ports_come_from_the_environment_or_are_free(monkeypatch):
    monkeypatch.delenv("FAKE_1C_PORT", raising=False)
    assert port_from_env("FAKE_1C_PORT") == 0
    monkeypatch.setenv("FAKE_1C_PORT", "18081")
    assert port_from_env("FAKE_1C_PORT") == 18081


# --- the demo's 1C bases follow this copy's fake -----------------------------------------


@pytest.mark.django_db
def test_point_demo_1c_moves_only_the_bases_of_a_local_fake():
    local = AccountingBaseFactory(odata_url="http://127.0.0.1:8081/spectech/odata/standard.odata/")
    other = AccountingBaseFactory(odata_url="http://localhost:40001/stroy/odata/standard.odata/")
    real = AccountingBaseFactory(odata_url="https://1c.example.ru/buh/odata/standard.odata/")
    out = StringIO()
    call_command("point_demo_1c", "http://127.0.0.1:45678", stdout=out)
    for base in (local, other, real):
        base.refresh_from_db()
    assert local.odata_url == "http://127.0.0.1:45678/spectech/odata/standard.odata/"
    assert other.odata_url == "http://127.0.0.1:45678/stroy/odata/standard.odata/"
    assert real.odata_url == "https://1c.example.ru/buh/odata/standard.odata/"
    assert "2" in out.getvalue()
    assert point_bases_at("http://127.0.0.1:45678") == 0


@pytest.mark.django_db
def test_point_demo_1c_refuses_a_remote_url():
    with pytest.raises(CommandError, match="url"):
        call_command("point_demo_1c", "https://1c.example.ru")


# --- two fakes on port 0 ------------------------------------------------------------------


def _start(command: str, port_file: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", command, "--port-file", str(port_file)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _url(proc: subprocess.Popen, port_file: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return port_file.read_text().strip()
        if proc.poll() is not None:
            pytest.fail(f"the fake exited: {proc.stdout.read()}")
        time.sleep(0.1)
    pytest.fail("the fake wrote no port")


@pytest.mark.parametrize(
    ("command", "probe"),
    [
        ("fake_1c", "/_dump"),
        ("fake_telegram", "/_sent"),
        ("fake_max", "/_sent"),
        ("fake_vk", "/_sent"),
        ("fake_avito", "/_sent"),
        ("fake_sms", "/_sent"),
        ("fake_wialon", "/_sent"),
        ("fake_aemp", "/_sent"),
    ],
)
def test_two_fakes_on_free_ports_get_different_ports_and_each_reports_its_own(tmp_path, command, probe):
    env = {**os.environ, "DEBUG": "1", "DATA_DIR": str(tmp_path / "data")}
    env.pop("FAKE_1C_PORT", None)
    for name in (
        "FAKE_TELEGRAM_PORT",
        "FAKE_MAX_PORT",
        "FAKE_VK_PORT",
        "FAKE_AVITO_PORT",
        "FAKE_SMS_PORT",
        "FAKE_WIALON_PORT",
        "FAKE_AEMP_PORT",
    ):
        env.pop(name, None)
    files = [tmp_path / "one.url", tmp_path / "two.url"]
    procs = [_start(command, f, env) for f in files]
    try:
        urls = [_url(p, f) for p, f in zip(procs, files, strict=True)]
        assert urls[0] != urls[1]
        for url in urls:
            assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
            assert httpx.get(url + probe, timeout=10).status_code == 200
        if command == "fake_telegram":
            # Each fake keeps its own webhook: pointing the second one moves nothing in the first.
            httpx.post(
                urls[1] + "/botdemo:token/setWebhook", json={"url": "http://127.0.0.1:9/x/"}, timeout=10
            )
            second = httpx.get(urls[1] + "/_sent", timeout=10).json()
            first = httpx.get(urls[0] + "/_sent", timeout=10).json()
            assert second["webhook"]["url"] == "http://127.0.0.1:9/x/"
            assert first["webhook"].get("url") != "http://127.0.0.1:9/x/"
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
            proc.stdout.close()
