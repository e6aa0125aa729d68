"""Leads from e-mail: new (unseen) messages of an IMAP mailbox become requests through
``intake_receive`` — the sender's address and name, the subject and text, the first
phone number written in the text. The Message-ID makes a message read twice (another
mail client marked it unread) count once.

Settings (environment): ``LEAD_IMAP_HOST``, ``LEAD_IMAP_PORT``, ``LEAD_IMAP_SSL``,
``LEAD_IMAP_USER``, ``LEAD_IMAP_PASSWORD``, ``LEAD_IMAP_FOLDER``.
"""

import email
import hashlib
import imaplib
import logging
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from html.parser import HTMLParser

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

from arenda.core.validators import normalize_phone
from arenda.crm.models import Lead
from arenda.crm.services import intake_receive

log = logging.getLogger(__name__)

# +7 / 8 and ten digits, or a bare mobile number, however spaced, bracketed or dashed.
PHONE_RE = re.compile(
    r"(?<![\d+])(?:(?:\+7|8)[\s\-(]*\d{3}|\(?9\d{2})[\s\-)]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}(?!\d)"
)


@dataclass
class MailRequest:
    email: str
    name: str
    message: str
    phone: str
    external_id: str


@dataclass
class MailCounts:
    created: int = 0
    joined: int = 0
    skipped: int = 0


class _HtmlText(HTMLParser):
    BLOCKS = {"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def first_phone(text: str) -> str:
    for match in PHONE_RE.finditer(text):
        try:
            return normalize_phone(match.group())
        except ValidationError:
            continue
    return ""


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except LookupError:  # a charset Python does not know: keep what is readable
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    text = html_to_text(content) if part.get_content_type() == "text/html" else content
    return text.replace("\r\n", "\n").strip()


def parse_message(raw: bytes) -> MailRequest | None:
    """The request in a message; None for an automatic one (auto-reply, bounce), which
    must not become a lead (nor start a loop of replies)."""
    message = email.message_from_bytes(raw, policy=policy.default)
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto != "no" or message.get_content_type() == "multipart/report":
        return None
    name, address = parseaddr(str(message.get("From", "")))
    if not address or address.lower().startswith(("mailer-daemon@", "postmaster@")):
        return None
    subject = " ".join(str(message.get("Subject", "")).split())
    text = _text_of(message)
    message_id = str(message.get("Message-ID", "")).strip()
    return MailRequest(
        email=address,
        name=name.strip(),
        message="\n\n".join(part for part in (subject, text) if part),
        phone=first_phone(text),
        external_id=message_id or "sha256:" + hashlib.sha256(raw).hexdigest(),
    )


def take(raw: bytes) -> str:
    """One message into the funnel: "created", "joined" or "skipped"."""
    try:
        request = parse_message(raw)
    except Exception:
        # A message the parser chokes on will not read better next time: log, move on.
        log.exception("lead mail: cannot parse a message")
        return "skipped"
    if request is None:
        return "skipped"
    try:
        got = intake_receive(
            source=Lead.Source.EMAIL,
            email=request.email,
            name=request.name,
            message=request.message,
            phone=request.phone,
            external_id=request.external_id,
        )
    except ValidationError as exc:
        log.warning("lead mail from %s refused: %s", request.email, exc.messages)
        return "skipped"
    return "created" if got.created else "joined"


def _mailbox(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_lead_mail() -> MailCounts:
    """Reads the unseen messages of the leads mailbox, makes or joins a lead for each and
    marks it seen. A message whose lead could not be saved (database down) stays unseen
    and is read again next time."""
    if not settings.LEAD_IMAP_HOST:
        raise ImproperlyConfigured("LEAD_IMAP_HOST is not set")
    connect = imaplib.IMAP4_SSL if settings.LEAD_IMAP_SSL else imaplib.IMAP4
    counts = MailCounts()
    with connect(settings.LEAD_IMAP_HOST, settings.LEAD_IMAP_PORT, timeout=60) as imap:
        imap.login(settings.LEAD_IMAP_USER, settings.LEAD_IMAP_PASSWORD)
        status, detail = imap.select(_mailbox(settings.LEAD_IMAP_FOLDER))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open {settings.LEAD_IMAP_FOLDER}: {detail}")
        _status, found = imap.search(None, "UNSEEN")
        for number in found[0].split():
            # PEEK: the message is marked seen below, only once its lead is saved.
            _status, parts = imap.fetch(number, "(BODY.PEEK[])")
            raw = next((part[1] for part in parts if isinstance(part, tuple)), None)
            if raw is None:
                continue
            outcome = take(raw)
            setattr(counts, outcome, getattr(counts, outcome) + 1)
            imap.store(number, "+FLAGS", "(\\Seen)")
    return counts
