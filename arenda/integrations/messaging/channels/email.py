"""E-mail through Django's mail backend (SMTP settings from the environment).

Chosen as the second channel because every customer and most drivers have an address and
it needs no contract with a gateway; and its ``Message-ID`` is derived from the outbox
key, so a repeat after an in-doubt attempt is one message to mail clients that dedupe.
"""

import smtplib

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.utils.translation import gettext as _

from arenda.integrations.messaging.channels.base import Channel, Outcome, SendResult


class EmailChannel(Channel):
    name = "email"

    def send(self, message) -> SendResult:
        title = message.title or message.text.strip().splitlines()[0][:100]
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "arenda.local"
        mail = EmailMessage(
            subject=title,
            body=message.text,
            to=[message.recipient],
            headers={"Message-ID": f"<outbox-{message.idempotency_key}@{domain}>"},
        )
        for attachment in message.attachments or ():
            try:
                with default_storage.open(attachment["name"], "rb") as handle:
                    content = handle.read()
            except (FileNotFoundError, KeyError):
                return SendResult(
                    Outcome.FAILED,
                    error=_("The attached file is gone: %(name)s") % {"name": attachment.get("filename", "")},
                )
            mail.attach(attachment["filename"], content, attachment.get("content_type") or None)
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult(
                Outcome.FAILED,
                error=_("The mail server refused the address: %(error)s") % {"error": exc.recipients},
            )
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult(Outcome.RETRY, error=_("The mail server failed: %(error)s") % {"error": exc})
        return SendResult(Outcome.SENT, external_id=mail.extra_headers["Message-ID"])
