"""The messaging outbox: every outgoing message is a row, written in the transaction of
the action that caused it, and sent by the task worker after that transaction commits.

Status flow::

    queued ─▶ sending ─▶ delivered (in the chat: Telegram, MAX, VK, Avito) ─▶ read ─▶ acknowledged («Принял»)
      ▲          │    └─▶ sent (e-mail, SMS: a server took it) ─▶ delivered / read / failed (SMS, polled)
      └─ retry ──┤
                 └─▶ failed (refused: blocked bot, bad address; or gave up after MAX_ATTEMPTS)
                           └─▶ the next of its ``fallbacks``, a new message (``fallback_of``)

Delivery guarantee — **at least once, made visible**. Telegram's ``sendMessage`` has no
idempotency key and no way to ask "did you get this?", so no design can tell a worker
that died after the HTTP call from one that died before it. We therefore:

1. claim the message before any network call — ``sending``, a fresh ``attempt_id``,
   ``sending_at`` — and commit, so no lock or transaction is held over the network;
2. call the channel, then record its answer only if the claim is still ours;
3. treat a claim older than ``SENDING_LEASE`` (far longer than any channel timeout) as a
   worker that died mid-attempt, and a read timeout as an answer lost on the way: the
   message *may* have arrived. It is sent again, flagged ``in_doubt`` on the record and
   marked «(repeat)» for the recipient, so a duplicate is never silent — a driver sees one
   order twice, labelled, rather than none. Either copy's «Принял» button acknowledges the
   same record (the callback names the outbox id, not Telegram's message id).

Never-sent is the worse failure for dispatch (a machine that does not arrive), which is
why we chose this over "at most once". E-mail goes with a ``Message-ID`` derived from the
``idempotency_key``, so mail clients fold a repeat into one message.

Callers may pass their own ``idempotency_key`` (e.g. "dispatch:booking:12:v3") to make
``enqueue`` itself idempotent: the same key returns the message already queued.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_tasks import task

from arenda.integrations.messaging.channels import CHANNELS, Outcome, SendResult, channel_for
from arenda.integrations.messaging.models import OutboxMessage

log = logging.getLogger(__name__)

S = OutboxMessage.Status
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 30  # doubles with each attempt: 30 s, 1 min, 2 min … capped at an hour
BACKOFF_CAP_SECONDS = 3600
SENDING_LEASE = timedelta(minutes=2)


def ack_button() -> dict:
    """The «Принял» button: pressing it marks the message acknowledged. In the company's
    language, whatever language the manager's screen is in."""
    with translation.override(settings.LANGUAGE_CODE):
        return {"text": pgettext("messenger button", "Accepted"), "action": "ack"}


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def enqueue(
    *,
    channel: str,
    recipient,
    text: str,
    subject=None,
    buttons: list[dict] | None = None,
    title: str = "",
    idempotency_key: str = "",
    attachments: list[dict] | None = None,
    fallbacks: list[dict] | None = None,
) -> OutboxMessage:
    """Queue a message in the caller's transaction; it is sent after that commits (and
    never, if it rolls back). ``subject`` is the record it is about (a lead message, a
    booking); if that model has a ``delivery_status`` field, it follows the message.
    ``attachments``: stored files to send with it, ``{"name": <storage name>, "filename",
    "content_type"}`` each; the e-mail channel attaches them at send time. ``fallbacks``:
    the channels to try next, in order, if this one fails for good — ``{"channel",
    "recipient", "text"?}`` each (the text defaults to this message's)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    recipient, text = str(recipient or "").strip(), (text or "").strip()
    if not recipient:
        raise ValidationError({"recipient": _("Nobody to send the message to.")})
    if not text:
        raise ValidationError({"text": _("The message is empty.")})
    if idempotency_key and (known := OutboxMessage.objects.filter(idempotency_key=idempotency_key).first()):
        return known
    now = timezone.now()
    message = OutboxMessage(
        channel=channel,
        recipient=recipient,
        text=text,
        title=title[:200],
        buttons=[{"text": str(b["text"]), "action": b["action"]} for b in buttons or ()],
        attachments=[
            {"name": str(a["name"]), "filename": str(a["filename"]), "content_type": str(a["content_type"])}
            for a in attachments or ()
        ],
        idempotency_key=idempotency_key or uuid.uuid4().hex,
        fallbacks=_clean_fallbacks(fallbacks),
        queued_at=now,
        next_attempt_at=now,
    )
    if subject is not None:
        message.content_type = ContentType.objects.get_for_model(subject)
        message.object_id = subject.pk
    _log(message, now)
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        if not idempotency_key:
            raise
        return OutboxMessage.objects.get(idempotency_key=idempotency_key)
    _schedule(message.pk)
    return message


def deliver(message_id: int) -> str | None:
    """One attempt to send a due, queued message (what the task runs). Returns the new
    status, or None when there was nothing to do (sent already, not due, claimed by
    another worker)."""
    message = _claim(message_id)
    if message is None:
        return None
    if message.in_doubt:
        # Only the outgoing copy is marked; the record keeps the text as written.
        message.text = _("(repeat) %(text)s") % {"text": message.text}
    try:
        result = channel_for(message.channel).send(message)
    except Exception as exc:
        log.exception("outbox: channel %s raised for message %s", message.channel, message.pk)
        result = SendResult(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}", in_doubt=True)
    return _record(message.pk, message.attempt_id, result)


def deliver_due(limit: int = 200) -> dict:
    """The periodic sweep: recover attempts whose worker died, then send every message
    whose time has come (a lost task or a backend that cannot defer leaves them here)."""
    now = timezone.now()
    recovered = 0
    stalled = OutboxMessage.objects.filter(status=S.SENDING, sending_at__lt=now - SENDING_LEASE)
    for pk in stalled.values_list("pk", flat=True)[:limit]:
        recovered += _recover(pk, now)
    due = OutboxMessage.objects.filter(status=S.QUEUED, next_attempt_at__lte=now).order_by("next_attempt_at")
    statuses = [deliver(pk) for pk in due.values_list("pk", flat=True)[:limit]]
    return {"recovered": recovered, "attempted": sum(s is not None for s in statuses)}


@transaction.atomic
def retry(message: OutboxMessage) -> OutboxMessage:
    """Send a failed message again (a person decided to, e.g. after the driver unblocked
    the bot): a fresh round of attempts."""
    message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if message.status != S.FAILED:
        return message
    now = timezone.now()
    message.status, message.attempts, message.next_attempt_at = S.QUEUED, 0, now
    _log(message, now, _("Sent again by hand."))
    message.save()
    _mirror(message)
    _schedule(message.pk)
    return message


@transaction.atomic
def acknowledge(
    message_id: int, *, chat_id, channel: str = OutboxMessage.Channel.TELEGRAM
) -> OutboxMessage | None:
    """The recipient pressed «Принял» (in Telegram, MAX or VK). Only the chat the message
    went to, in that channel, may acknowledge it; pressing twice changes nothing. A pending
    retry stops: the message arrived."""
    message = (
        OutboxMessage.objects.select_for_update()
        .filter(pk=message_id, channel=channel, recipient=str(chat_id))
        .first()
    )
    if message is None or message.status == S.ACKNOWLEDGED:
        return message
    now = timezone.now()
    message.status, message.acknowledged_at, message.next_attempt_at = S.ACKNOWLEDGED, now, None
    _log(message, now)
    message.save()
    _mirror(message)
    return message


# --- the steps of one attempt ----------------------------------------------------------------
@transaction.atomic
def _claim(message_id: int) -> OutboxMessage | None:
    now = timezone.now()
    message = (
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(pk=message_id, status=S.QUEUED, next_attempt_at__lte=now)
        .first()
    )
    if message is None:
        return None
    message.status, message.attempt_id, message.sending_at = S.SENDING, uuid.uuid4().hex, now
    message.attempts += 1
    _log(message, now, _("Attempt %(n)d.") % {"n": message.attempts})
    message.save()
    return message


@transaction.atomic
def _record(message_id: int, attempt_id: str, result: SendResult) -> str:
    message = OutboxMessage.objects.select_for_update().get(pk=message_id)
    if message.attempt_id != attempt_id:
        # Declared dead and recovered meanwhile: the new attempt owns the record now.
        log.warning("outbox: late answer for message %s ignored: %s", message_id, result)
        return message.status
    now = timezone.now()
    message.attempt_id = ""
    success = result.outcome in (Outcome.DELIVERED, Outcome.SENT)
    if success:
        message.external_id, message.sent_at, message.last_error = result.external_id, now, ""
    if message.status != S.SENDING:
        # Acknowledged while the attempt was in flight: that settles it.
        message.save()
        return message.status
    if success:
        message.status, message.next_attempt_at = result.outcome.value, None
        if result.outcome == Outcome.DELIVERED:
            message.delivered_at = now
        note = ""
    elif result.outcome == Outcome.FAILED:
        message.status, message.next_attempt_at, message.last_error = S.FAILED, None, result.error
        note = result.error
    else:
        message.in_doubt = message.in_doubt or result.in_doubt
        if message.attempts >= MAX_ATTEMPTS:
            message.status, message.next_attempt_at = S.FAILED, None
            message.last_error = _("Gave up after %(n)d attempts. Last error: %(error)s") % {
                "n": message.attempts,
                "error": result.error,
            }
        else:
            delay = timedelta(seconds=result.retry_after) if result.retry_after else backoff(message.attempts)
            message.status, message.next_attempt_at, message.last_error = S.QUEUED, now + delay, result.error
            _schedule(message.pk, message.next_attempt_at)
        note = message.last_error
    _log(message, now, note)
    message.save()
    if message.status == S.FAILED:
        _fall_back(message, now)
    _mirror(message)
    return message.status


def _clean_fallbacks(fallbacks) -> list[dict]:
    cleaned = []
    for entry in fallbacks or ():
        if entry.get("channel") not in CHANNELS or not str(entry.get("recipient") or "").strip():
            raise ValueError(f"bad fallback {entry!r}")
        cleaned.append(
            {
                "channel": entry["channel"],
                "recipient": str(entry["recipient"]).strip(),
                "text": entry.get("text") or "",
            }
        )
    return cleaned


def _fall_back(message: OutboxMessage, now) -> OutboxMessage | None:
    """A message failed for good: queue the next channel of its ``fallbacks`` (same subject,
    same buttons), so the record shows both — the failure and the channel it went by."""
    if not message.fallbacks:
        return None
    entry, rest = message.fallbacks[0], message.fallbacks[1:]
    follow = OutboxMessage(
        channel=entry["channel"],
        recipient=entry["recipient"],
        text=entry.get("text") or message.text,
        title=message.title,
        buttons=message.buttons,
        attachments=message.attachments,
        content_type_id=message.content_type_id,
        object_id=message.object_id,
        idempotency_key=f"{message.idempotency_key}:then:{entry['channel']}"[:200],
        fallbacks=rest,
        fallback_of=message,
        queued_at=now,
        next_attempt_at=now,
    )
    _log(
        follow,
        now,
        _("Instead of %(channel)s, which failed: %(error)s")
        % {"channel": message.get_channel_display(), "error": message.last_error},
    )
    try:
        with transaction.atomic():
            follow.save()
    except IntegrityError:
        return None  # made already (a recovered attempt that failed twice)
    _schedule(follow.pk)
    return follow


# Where a status a platform reports later may move a message: never backwards.
ORDER = {S.SENT: 1, S.DELIVERED: 2, S.READ: 3, S.ACKNOWLEDGED: 4}


@transaction.atomic
def report(message_id: int, result: SendResult) -> str | None:
    """What a platform said of a message after it was sent (an SMS delivered or not, a VK
    message read): its status moves on, never back; a failure queues the fallback."""
    message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        return None
    now = timezone.now()
    if result.outcome == Outcome.FAILED:
        if message.status not in (S.SENT, S.DELIVERED):
            return message.status
        message.status, message.last_error = S.FAILED, result.error
        _log(message, now, result.error)
        message.save()
        _fall_back(message, now)
    else:
        status = {Outcome.DELIVERED: S.DELIVERED, Outcome.READ: S.READ}.get(result.outcome)
        if status is None or ORDER.get(message.status, 0) >= ORDER[status] or message.status == S.FAILED:
            return message.status
        message.status = status
        if status == S.DELIVERED or message.delivered_at is None:
            message.delivered_at = now
        if status == S.READ:
            message.read_at = now
        _log(message, now)
        message.save()
    _mirror(message)
    return message.status


def mark_read(*, channel: str, recipient: str, upto: int) -> int:
    """The recipient read the chat up to the platform's message id ``upto`` (VK tells):
    our messages there up to it are read."""
    ids = OutboxMessage.objects.filter(
        channel=channel, recipient=str(recipient), status__in=(S.SENT, S.DELIVERED)
    ).values_list("pk", "external_id")
    read = [pk for pk, external in ids if external.isdigit() and int(external) <= upto]
    for pk in read:
        report(pk, SendResult(Outcome.READ))
    return len(read)


POLL_WINDOW = timedelta(days=3)


def poll_statuses(limit: int = 200) -> dict:
    """Ask the channels that report delivery only when asked (SMS) about the messages
    they took in the last days and have not settled."""
    polled = changed = 0
    since = timezone.now() - POLL_WINDOW
    for name, cls in CHANNELS.items():
        if not hasattr(cls, "status"):
            continue
        channel = cls()
        pending = OutboxMessage.objects.filter(channel=name, status=S.SENT, sent_at__gte=since).exclude(
            external_id=""
        )
        for message in pending.order_by("sent_at")[:limit]:
            polled += 1
            result = channel.status(message)
            if result is not None and report(message.pk, result) != S.SENT:
                changed += 1
    return {"polled": polled, "changed": changed}


@transaction.atomic
def _recover(message_id: int, now) -> int:
    message = (
        OutboxMessage.objects.select_for_update(skip_locked=True)
        .filter(pk=message_id, status=S.SENDING, sending_at__lt=now - SENDING_LEASE)
        .first()
    )
    if message is None:
        return 0
    message.attempt_id, message.in_doubt = "", True
    message.last_error = _("The sender stopped during an attempt; the message may have been delivered.")
    if message.attempts >= MAX_ATTEMPTS:
        message.status, message.next_attempt_at = S.FAILED, None
    else:
        message.status, message.next_attempt_at = S.QUEUED, now
    _log(message, now, message.last_error)
    message.save()
    if message.status == S.FAILED:
        _fall_back(message, now)
    _mirror(message)
    return 1


# --- helpers ---------------------------------------------------------------------------------
def _log(message: OutboxMessage, when, note: str = "") -> None:
    message.history = [*message.history, {"at": when.isoformat(), "status": message.status, "note": note}]


def _mirror(message: OutboxMessage) -> None:
    """The subject's ``delivery_status`` follows its latest message only: a late answer
    about an older copy (an order superseded by its update) must not overwrite it."""
    model = message.content_type.model_class() if message.content_type_id else None
    if model is None or not any(f.name == "delivery_status" for f in model._meta.concrete_fields):
        return
    newer = OutboxMessage.objects.filter(
        content_type_id=message.content_type_id, object_id=message.object_id, pk__gt=message.pk
    )
    if not newer.exists():
        model._default_manager.filter(pk=message.object_id).update(delivery_status=message.status)


def _schedule(message_id: int, when=None) -> None:
    transaction.on_commit(lambda: _enqueue_task(message_id, when))


def _enqueue_task(message_id: int, when) -> None:
    try:
        if when is None:
            send_message.enqueue(message_id)
        elif send_message.get_backend().supports_defer:
            send_message.using(run_after=when).enqueue(message_id)
        # else: a backend that cannot wait; the periodic deliver_due() sends it when due.
    except Exception:
        # The row is committed and queued; deliver_due() sends it even if this task is lost.
        log.exception("outbox: could not enqueue the task for message %s", message_id)


# --- tasks (``manage.py db_worker`` runs them) ----------------------------------------------------
@task()
def send_message(message_id: int) -> str | None:
    """One attempt at a message: queued after the transaction that wrote it commits."""
    return deliver(message_id)


@task()
def poll_statuses_task() -> dict:
    """Every five minutes (``PERIODIC_JOBS``): SMS delivery states, ``poll_statuses``."""
    return poll_statuses()


@task()
def deliver_due_task() -> dict:
    """Every minute (``PERIODIC_JOBS`` in settings.py): the sweep, ``deliver_due``."""
    return deliver_due()
