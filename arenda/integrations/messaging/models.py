from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One outgoing message, written in the transaction of the action that caused it and
    sent by the task worker (see ``outbox.py`` for the delivery guarantees)."""

    class Channel(models.TextChoices):
        TELEGRAM = "telegram", "Telegram"
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
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
    history = models.JSONField(_("history"), default=list, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["content_type", "object_id"], name="outbox_subject"),
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
