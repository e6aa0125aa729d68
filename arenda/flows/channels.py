"""What a MAX, VK or Avito event sets off (the adapters, ``integrations/messaging/inbound.py``,
read it; the views are ``api/channels.py``). Telegram's is ``flows/telegram.py``; the rules
are the same:

- a «Принял» press acknowledges its outbox message, if the chat it went to pressed it;
- a deep link's start with ``drv_<token>`` binds a driver's MAX dialog
  (``bookings/driver_link.py``), else the bot greets;
- a message goes first to a driver's chat handler (hours, a word for the manager), and
  only unclaimed becomes a lead or joins one (``crm.intake_receive``: the same phone or
  the same chat); a phone written in the message or shared as a contact is the lead's;
- VK's «read» moves our messages there to read.

Runs in the webhook's transaction; replies go through the outbox, answers to presses after
commit (best effort: the press is recorded either way).
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from arenda.bookings import driver_link, driver_reports
from arenda.core.validators import find_phone, normalize_phone
from arenda.crm.models import Lead
from arenda.crm.services import intake_receive
from arenda.integrations.messaging import outbox, webhook
from arenda.integrations.messaging.channels import avito, vk
from arenda.integrations.messaging.channels import max as max_channel
from arenda.integrations.messaging.inbound import Incoming

log = logging.getLogger(__name__)

# Channels drivers are bound in (and may write hours from).
DRIVER_CHANNELS = ("max",)


def handle(event: Incoming) -> None:
    """One event, the first time it comes."""
    if event.kind == "press":
        _press(event)
    elif event.kind == "start":
        _reply(event, _start(event) or _greeting())
    elif event.kind == "read" and event.chat_id and event.read_upto:
        outbox.mark_read(channel=event.channel, recipient=event.chat_id, upto=event.read_upto)
    elif event.kind == "message":
        _message(event)


def _press(event: Incoming) -> None:
    action, _sep, target = event.payload.partition(":")
    acknowledged = (
        action == "ack"
        and target.isascii()
        and target.isdigit()
        and len(target) < 19
        and outbox.acknowledge(int(target), chat_id=event.chat_id, channel=event.channel) is not None
    )
    with translation.override(settings.LANGUAGE_CODE):
        text = str(_("Thank you, noted.") if acknowledged else _("This button no longer works."))
    if event.channel == "max":
        transaction.on_commit(lambda: max_channel.answer_callback(event.callback_id, text))
    elif event.channel == "vk" and event.callback_id:
        transaction.on_commit(
            lambda: vk.answer_event(
                event_id=event.callback_id, user_id=event.user_id, peer_id=event.chat_id, text=text
            )
        )


def _start(event: Incoming) -> str | None:
    prefix = driver_link.INVITE_PREFIX
    if event.payload.startswith(prefix):
        return driver_link.bind_driver(
            payload=event.payload[len(prefix) :], chat_id=event.chat_id, user={}, channel=event.channel
        )
    return None


def _greeting() -> str:
    """The bot's greeting, the same in every messenger (``webhook.greeting``)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(webhook.greeting())


def _reply(event: Incoming, text: str) -> None:
    if text and event.chat_id:
        outbox.enqueue(channel=event.channel, recipient=event.chat_id, text=text)


def _message(event: Incoming) -> None:
    if event.channel in DRIVER_CHANNELS:
        reply = driver_reports.driver_message(
            chat_id=event.chat_id, text=event.text, user={}, channel=event.channel
        )
        if reply:
            if isinstance(reply, str):
                _reply(event, reply)
            return
    phone = ""
    for candidate in (event.phone, find_phone(event.text)):
        try:
            phone = normalize_phone(candidate)
        except ValidationError:
            continue
        if phone:
            break
    with translation.override(settings.LANGUAGE_CODE):
        text = event.text or str(_("(a message without text: a photo, a file or a sticker)"))
    try:
        intake = intake_receive(
            source=event.channel,
            chat_id=event.chat_id,
            phone=phone,
            name=event.name,
            message=text,
            external_id=event.event_id,
        )
    except ValidationError as exc:
        log.warning("%s event %s not taken as a lead: %s", event.channel, event.event_id, exc)
        return
    if event.channel == "avito" and intake.lead.is_open and not intake.lead.ad_title:
        lead_id = intake.lead.pk
        transaction.on_commit(lambda: _enqueue_ad(lead_id))


def _enqueue_ad(lead_id: int) -> None:
    try:
        fetch_avito_ad.enqueue(lead_id)
    except Exception:
        log.exception("avito: could not enqueue the ad fetch for lead %s", lead_id)


@task()
def fetch_avito_ad(lead_id: int) -> bool:
    """The Avito ad the customer wrote about, onto the lead: its title and link (Avito's
    webhook names only the item; the chat tells the rest). Outside the webhook's 2 s."""
    lead = Lead.objects.filter(pk=lead_id).exclude(avito_chat_id="").first()
    if lead is None or lead.ad_title:
        return False
    ad = avito.chat_ad(lead.avito_chat_id)
    if not ad.get("title"):
        return False
    Lead.objects.filter(pk=lead.pk, ad_title="").update(ad_title=ad["title"], ad_url=ad.get("url", ""))
    return True
