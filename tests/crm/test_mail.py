"""Leads from e-mail, read from a local fake IMAP server serving recorded messages."""

import imaplib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from arenda.crm.mail import first_phone, html_to_text, read_lead_mail
from arenda.crm.models import Lead, LeadMessage
from arenda.crm.tasks import read_lead_mail_task
from tests.crm.fake_imap import FakeImap
from tests.factories import LeadFactory

DATA = Path(__file__).parent / "data"
PLAIN, KOI8, HTML = (DATA / name for name in ("plain_utf8.eml", "koi8r.eml", "html_only.eml"))


def mailbox_settings(server: FakeImap):
    return override_settings(
        LEAD_IMAP_HOST="127.0.0.1",
        LEAD_IMAP_PORT=server.port,
        LEAD_IMAP_SSL=False,
        LEAD_IMAP_USER=server.user,
        LEAD_IMAP_PASSWORD=server.password,
        LEAD_IMAP_FOLDER=server.folder,
    )


@pytest.fixture
def server():
    with FakeImap([PLAIN.read_bytes(), KOI8.read_bytes(), HTML.read_bytes()]) as imap, mailbox_settings(imap):
        yield imap


def test_each_message_makes_one_lead_and_is_marked_seen(db, server):
    counts = read_lead_mail()
    assert (counts.created, counts.joined, counts.skipped) == (3, 0, 0)
    assert all(m["seen"] for m in server.messages)
    leads = {lead.email: lead for lead in Lead.objects.all()}
    assert set(leads) == {
        "ivan.petrov@stroy-mir.ru",
        "s.kuznetsov@example.net",
        "o.smirnova@beton-servis.example.com",
    }
    plain = leads["ivan.petrov@stroy-mir.ru"]
    assert (plain.source, plain.name, plain.phone) == ("email", "Иван Петров", "+79165551234")
    assert plain.message.startswith("Аренда автокрана 25 т на объект в Химках\n\nДобрый день!")
    koi8 = leads["s.kuznetsov@example.net"]
    assert (koi8.name, koi8.phone) == ("Сергей Кузнецов", "+79123456789")
    assert "Сколько стоит манипулятор 5 т" in koi8.message and koi8.message.startswith(
        "Вопрос по манипулятору"
    )
    html = leads["o.smirnova@beton-servis.example.com"]
    assert html.name == "Ольга Смирнова" and html.phone == ""
    assert "экскаватор-погрузчик на неделю, с 10 марта.\nОбъект: Подольск" in html.message
    assert "track()" not in html.message and "margin" not in html.message and "<" not in html.message
    entry = LeadMessage.objects.get(lead=plain)
    assert (entry.channel, entry.external_id) == ("email", "<20250304091358.4412@stroy-mir.ru>")
    # The reader peeks and marks seen itself, after the lead is saved.
    assert any("BODY.PEEK[]" in c for c in server.commands)
    assert not any(c.startswith("FETCH") and "RFC822" in c for c in server.commands)


def test_reading_again_duplicates_nothing(db, server):
    read_lead_mail()
    assert read_lead_mail().created == 0
    server.mark_all_unseen()  # another mail client marked them unread
    counts = read_lead_mail()
    assert (counts.created, counts.joined) == (0, 3)
    assert Lead.objects.count() == 3 and LeadMessage.objects.count() == 3


def test_mail_from_a_phone_with_an_open_lead_joins_it(db, server):
    lead = LeadFactory(phone="+79123456789", source="phone")
    counts = read_lead_mail()
    assert (counts.created, counts.joined) == (2, 1)
    lead.refresh_from_db()
    assert lead.email == "s.kuznetsov@example.net"
    assert lead.messages.get().channel == "email"


def test_new_mail_is_read_next_time(db, server):
    read_lead_mail()
    server.add(PLAIN.read_bytes().replace(b"4412@stroy-mir.ru", b"4413@stroy-mir.ru"))
    counts = read_lead_mail()
    assert (counts.created, counts.joined) == (0, 1)
    assert LeadMessage.objects.count() == 4


def test_auto_replies_are_skipped_but_marked_seen(db):
    auto = PLAIN.read_bytes().replace(
        b"MIME-Version: 1.0", b"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0"
    )
    with FakeImap([auto]) as imap, mailbox_settings(imap):
        counts = read_lead_mail()
    assert (counts.created, counts.skipped) == (0, 1)
    assert imap.messages[0]["seen"] and not Lead.objects.exists()


def test_wrong_password_fails_loudly(db):
    wrong = override_settings(LEAD_IMAP_PASSWORD="wrong")
    refused = pytest.raises(imaplib.IMAP4.error, match="invalid")
    with FakeImap([PLAIN.read_bytes()]) as imap, mailbox_settings(imap), wrong, refused:
        read_lead_mail()
    assert not imap.messages[0]["seen"]


def test_command_and_task(db, server, capsys):
    call_command("read_lead_mail")
    assert "new leads: 3" in capsys.readouterr().out
    assert read_lead_mail_task.call() == {"created": 0, "joined": 0, "skipped": 0}


@override_settings(LEAD_IMAP_HOST="")
def test_without_a_mailbox(db):
    assert read_lead_mail_task.call() is None
    with pytest.raises(CommandError, match="LEAD_IMAP_HOST"):
        call_command("read_lead_mail")


def test_the_task_is_scheduled():
    from arenda.core.scheduler import configured_jobs

    assert configured_jobs()["crm.read_lead_mail"].task is read_lead_mail_task


@pytest.mark.parametrize(
    "text, phone",
    [
        ("звоните +7 (495) 123-45-67 до 18:00", "+74951234567"),
        ("мой 8-916-555-12-34", "+79165551234"),
        ("сотовый 916 555 12 34", "+79165551234"),
        ("ИНН 7707083893, счёт 40702810900000012345", ""),
        ("заказ №12345678901 от 05.03", ""),
    ],
)
def test_first_phone(text, phone):
    assert first_phone(text) == phone


def test_html_to_text():
    assert html_to_text("<p>a&nbsp;b</p><br><div>c<script>x</script></div>") == "a b\n\nc"
