import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from arenda.env import env_bool, env_int, env_list, env_str

VAR = "ARENDA_TEST_VALUE"


@pytest.mark.parametrize(
    "raw, expected",
    [("1", True), ("true", True), ("Yes", True), (" ON ", True), ("0", False), ("false", False)]
    + [("NO", False), ("off", False), ("", False)],
)
def test_env_bool_accepts(monkeypatch, raw, expected):
    monkeypatch.setenv(VAR, raw)
    assert env_bool(VAR, not expected) is expected


@pytest.mark.parametrize("raw", ["maybe", "ture", "2", "y es"])
def test_env_bool_refuses_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured, match=VAR):
        env_bool(VAR)


def test_unset_gives_defaults(monkeypatch):
    monkeypatch.delenv(VAR, raising=False)
    assert env_bool(VAR, True) is True
    assert env_int(VAR, 8000) == 8000
    assert env_list(VAR, ["a"]) == ["a"]
    assert env_str(VAR, "x") == "x"


@pytest.mark.parametrize("raw, expected", [("80", 80), (" 443 ", 443), ("-1", -1), ("", 5)])
def test_env_int_accepts(monkeypatch, raw, expected):
    monkeypatch.setenv(VAR, raw)
    assert env_int(VAR, 5) == expected


@pytest.mark.parametrize("raw", ["80a", "1.5", "eighty"])
def test_env_int_refuses_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv(VAR, raw)
    with pytest.raises(ImproperlyConfigured, match=VAR):
        env_int(VAR, 5)


def test_env_int_minimum(monkeypatch):
    monkeypatch.setenv(VAR, "0")
    with pytest.raises(ImproperlyConfigured, match=VAR):
        env_int(VAR, 5, minimum=1)
    monkeypatch.setenv(VAR, "1")
    assert env_int(VAR, 5, minimum=1) == 1


@pytest.mark.parametrize(
    "raw, expected",
    [("a.example, b.example", ["a.example", "b.example"]), ("one", ["one"]), (" , ,", []), ("", [])],
)
def test_env_list(monkeypatch, raw, expected):
    monkeypatch.setenv(VAR, raw)
    assert env_list(VAR, ["default"]) == expected


def _import_settings(**overrides):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", "import arenda.settings"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_import_fails_loudly_on_a_bad_value(tmp_path):
    result = _import_settings(DEBUG="maybe", DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DEBUG='maybe'" in result.stderr


def test_settings_import_succeeds_with_good_values(tmp_path):
    result = _import_settings(DEBUG="1", DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr


def test_without_secret_key_an_installation_key_is_made_once_and_kept_private(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ARENDA_TESTING", "DEBUG")}
    show = [sys.executable, "-c", "from arenda import settings; print(settings.SECRET_KEY)"]
    root = Path(__file__).resolve().parents[2]
    runs = [
        subprocess.run(
            show, cwd=root, env={**env, "DATA_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=60
        )
        for _ in range(2)
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    key_file = tmp_path / "secret_key"
    assert runs[0].stdout.strip() == runs[1].stdout.strip() == key_file.read_text().strip()
    assert len(runs[0].stdout.strip()) >= 50
    assert key_file.stat().st_mode & 0o077 == 0
