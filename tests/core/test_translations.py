"""The Russian catalogue is complete, compiled, and actually served; English is the fallback."""

import gettext
import io
import shutil

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

LOCALE_DIR = settings.LOCALE_PATHS[0]


def _catalog(language):
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "django.po", "rb") as po:
        return read_po(po)


def _keys(catalog) -> set:
    return {(m.context, m.id) for m in catalog if m.id}


def _translated(message) -> bool:
    return all(message.string if message.pluralizable else [message.string])


def _entries(mo_file) -> dict:
    catalog = gettext.GNUTranslations(mo_file)._catalog
    # The header differs by compiler (Babel adds its own fields); the messages must not.
    return {key: value for key, value in catalog.items() if key != ""}


def test_every_russian_message_is_translated_and_not_fuzzy():
    catalog = _catalog("ru")
    assert catalog.num_plurals == 3
    untranslated = [m.id for m in catalog if m.id and not _translated(m)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert not catalog.fuzzy, "the header is marked fuzzy"
    assert all(len(m.string) == 3 for m in catalog if m.pluralizable)


def test_russian_placeholders_match_the_english_ones():
    problems = [(message.id, [str(e) for e in errors]) for message, errors in _catalog("ru").check()]
    assert problems == []


@pytest.mark.parametrize("language", ["ru", "en"])
def test_compiled_catalogue_is_up_to_date(language):
    catalog = _catalog(language)
    # msgfmt leaves untranslated messages out (gettext falls back to the msgid); Babel would not.
    for message in [m for m in catalog if m.id and not _translated(m)]:
        catalog.delete(message.id, message.context)
    fresh = io.BytesIO()
    write_mo(fresh, catalog)
    fresh.seek(0)
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "django.mo", "rb") as committed:
        assert _entries(committed) == _entries(fresh), "run `make messages` (compilemessages)"


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("xgettext", "msguniq", "msgmerge", "msgattrib")),
    reason="makemessages needs the GNU gettext tools (apt install gettext)",
)
def test_russian_catalogue_is_up_to_date_with_the_code(tmp_path, monkeypatch):
    # makemessages writes scratch files next to templates and picks the nearest locale dir,
    # so it runs on a copy of the sources: the committed tree is never touched.
    source = tmp_path / "arenda"
    shutil.copytree(
        LOCALE_DIR.parent,
        source,
        ignore=lambda folder, names: [
            n
            for n in names
            if n in ("locale", "__pycache__") or ("." in n and not n.endswith((".py", ".html", ".txt")))
        ],
    )
    (source / "locale").mkdir()
    monkeypatch.chdir(source)
    with override_settings(LOCALE_PATHS=[source / "locale"]):
        call_command("makemessages", locale=["ru"], no_location=True, verbosity=0)
    with open(source / "locale" / "ru" / "LC_MESSAGES" / "django.po", "rb") as po:
        in_code = _keys(read_po(po))
    committed = _keys(_catalog("ru"))
    missing = "\n".join(sorted(map(repr, in_code - committed)))
    stale = "\n".join(sorted(map(repr, committed - in_code)))
    assert not missing, f"Run `make messages` and translate these (context, msgid):\n{missing}"
    assert not stale, f"Run `make messages`: the code no longer uses these (context, msgid):\n{stale}"


@pytest.fixture
def manager(make_user):
    return make_user()


def test_russian_by_default(client):
    page = client.get(reverse("login"), headers={"accept-language": "ru"}).content.decode()
    assert "Войти" in page
    assert "Log in" not in page


def test_russian_dashboard(client, manager):
    client.force_login(manager)
    page = client.get(reverse("dashboard"), headers={"accept-language": "ru"}).content.decode()
    assert "Контрагенты" in page
    assert "Панель" in page
    assert "Counterparties" not in page


def test_language_cookie_switches_to_english(client, manager):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    login = client.get(reverse("login"), headers={"accept-language": "ru"}).content.decode()
    assert "Log in" in login
    assert "Войти" not in login
    client.force_login(manager)
    page = client.get(reverse("dashboard"), headers={"accept-language": "ru"}).content.decode()
    assert "Counterparties" in page
    assert "Контрагенты" not in page
