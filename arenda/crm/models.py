"""Rental deals. The lead funnel and the deal board grow here (issue 4); bookings hang
off a deal."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from arenda.core.models import TimeStamped


class Deal(TimeStamped):
    class Stage(models.TextChoices):
        NEW = "new", _("New")
        SELECTION = "selection", _("Selecting equipment")
        PROPOSAL = "proposal", _("Proposal sent")
        AGREED = "agreed", _("Proposal agreed")
        INVOICING = "invoicing", _("Invoicing")
        IN_PROGRESS = "in_progress", _("In progress")
        CLOSING = "closing", _("Closing")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    title = models.CharField(_("title"), max_length=300)
    counterparty = models.ForeignKey(
        "directory.Counterparty",
        verbose_name=_("counterparty"),
        on_delete=models.PROTECT,
        related_name="deals",
    )
    contact = models.ForeignKey(
        "directory.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    organization = models.ForeignKey(
        "directory.Organization",
        verbose_name=_("our legal entity"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deals",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deals",
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.NEW)
    lost_reason = models.TextField(_("reason lost"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    stage__in=[
                        "new",
                        "selection",
                        "proposal",
                        "agreed",
                        "invoicing",
                        "in_progress",
                        "closing",
                        "won",
                        "lost",
                    ]
                ),
                name="deal_stage_valid",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("crm:deal_detail", args=[self.pk])
