from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from arenda.core.crypto import EncryptedTextField


class OutboxMessage(models.Model):
    """One outgoing message, written in the transaction of the action that caused it and
    sent by the task worker (see ``outbox.py`` for the delivery guarantees)."""

    class Channel(models.TextChoices):
        TELEGRAM = "telegram", "Telegram"
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        MAX = "max", "MAX"
        VK = "vk", _("VK")
        AVITO = "avito", _("Avito")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", pgettext_lazy("message status", "Read")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        FAILED = "failed", _("Failed")

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=320)
    title = models.CharField(_("title"), max_length=200, blank=True)
    text = models.TextField(_("text"))
    # [{"text": "Принял", "action": "ack"}]; the channel turns an action into a button
    # that names this message ("ack:<id>").
    buttons = models.JSONField(_("buttons"), default=list, blank=True)
    # Files sent with the message (e-mail only; the other channels ignore them):
    # [{"name": <storage name>, "filename": <shown name>, "content_type": "application/pdf"}].
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("subject type"), on_delete=models.SET_NULL, null=True, blank=True
    )
    object_id = models.PositiveBigIntegerField(_("subject id"), null=True, blank=True)
    subject = GenericForeignKey("content_type", "object_id")

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The claim of the attempt in flight: a worker records its result only if the claim
    # is still its own (a recovered message has a new one).
    attempt_id = models.CharField(_("attempt"), max_length=32, blank=True)
    in_doubt = models.BooleanField(
        _("may be duplicated"),
        default=False,
        help_text=_("An attempt ended without an answer; the message was sent again, marked as a repeat."),
    )
    last_error = models.TextField(_("last error"), blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    external_id = models.CharField(_("id in the channel"), max_length=100, blank=True)

    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    sending_at = models.DateTimeField(_("attempt started"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # The channels to try next, in order, when this one fails for good:
    # [{"channel": "sms", "recipient": "+7…", "text": <optional text of its own>}].
    fallbacks = models.JSONField(_("fallbacks"), default=list, blank=True)
    fallback_of = models.OneToOneField(
        "self",
        verbose_name=_("instead of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fallback",
    )
    history = models.JSONField(_("history"), default=list, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["content_type", "object_id"], name="outbox_subject"),
            models.Index(fields=["channel", "status", "sent_at"], name="outbox_channel_status"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} → {self.recipient}: {self.text[:40]}"


class TelegramUpdate(models.Model):
    """Telegram updates already handled: a redelivered webhook call is a no-op."""

    update_id = models.BigIntegerField(_("update id"), unique=True)
    kind = models.CharField(_("kind"), max_length=30, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("Telegram update")
        verbose_name_plural = _("Telegram updates")

    def __str__(self):
        return f"{self.update_id} ({self.kind})"


class InboundEvent(models.Model):
    """A call from a platform already handled (MAX update, VK event, Avito delivery): a
    redelivered one is a no-op. Keyed by the channel and the platform's own id of it."""

    channel = models.CharField(_("channel"), max_length=20, choices=OutboxMessage.Channel.choices)
    event_id = models.CharField(_("event id"), max_length=200)
    kind = models.CharField(_("kind"), max_length=40, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("incoming event")
        verbose_name_plural = _("incoming events")
        constraints = [models.UniqueConstraint(fields=["channel", "event_id"], name="inbound_event_once")]

    def __str__(self):
        return f"{self.channel} {self.event_id} ({self.kind})"


class ChannelConfig(models.Model):
    """A channel's settings as the admin saved them on the channels page; they override the
    environment's (``integrations/messaging/config.py``). ``secrets`` is a JSON object of
    tokens and passwords, encrypted like 1C passwords and never shown back."""

    class Kind(models.TextChoices):
        TELEGRAM = "telegram", "Telegram"
        MAX = "max", "MAX"
        VK = "vk", _("VK")
        AVITO = "avito", _("Avito")
        SMS = "sms", _("SMS")

    kind = models.CharField(_("channel"), max_length=20, choices=Kind.choices, unique=True)
    enabled = models.BooleanField(_("on"), default=True)
    options = models.JSONField(_("settings"), default=dict, blank=True)
    secrets = EncryptedTextField(_("secrets"), blank=True, default="")
    last_test_at = models.DateTimeField(_("last test message"), null=True, blank=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["kind"]

    def __str__(self):
        return self.get_kind_display()
