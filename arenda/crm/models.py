"""Leads from every channel, rental deals with their lines, comments and the commercial
proposal. Bookings hang off a deal (arenda.bookings)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from arenda.core.models import TimeStamped
from arenda.core.money import MAX_PRICE, MAX_QUANTITY, PRICE_VALIDATORS, QUANTITY_VALIDATORS, to_money
from arenda.core.roles import Action, can
from arenda.core.validators import check_period


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

    CLOSED_STAGES = (Stage.WON, Stage.LOST)

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
    # The commercial proposal (КП): its public link and the customer's acceptance.
    proposal_token = models.CharField(
        _("proposal link token"), max_length=64, unique=True, null=True, blank=True
    )
    proposal_valid_until = models.DateField(_("proposal valid until"), null=True, blank=True)
    # When the link was made: without a date of its own, the КП is valid VALID_DAYS from
    # then (crm/proposal.py valid_until), not from whatever day the customer opens it.
    proposal_sent_at = models.DateTimeField(_("proposal link made"), null=True, blank=True)
    agreed_at = models.DateTimeField(_("proposal agreed at"), null=True, blank=True)
    agreed_by_customer = models.BooleanField(_("agreed by the customer's link"), default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(stage="lost") | ~Q(lost_reason=""), name="deal_lost_has_reason"
            ),
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
        # the list's order, and its stage and manager filters in that order (docs/large-lists.md)
        indexes = [
            models.Index(fields=["created_at", "id"], name="deal_created_idx"),
            models.Index(fields=["stage", "created_at", "id"], name="deal_stage_created_idx"),
            models.Index(fields=["manager", "created_at", "id"], name="deal_manager_created_idx"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("crm:deal_detail", args=[self.pk])

    def clean(self):
        """Its contact is one of its counterparty's; its manager is an active user who may
        manage deals."""
        errors = {}
        if self.contact_id and self.counterparty_id and self.contact.counterparty_id != self.counterparty_id:
            errors["contact"] = ValidationError(
                _("The contact belongs to another counterparty."), code="other_counterparty"
            )
        if self.manager_id and not (self.manager.is_active and can(self.manager, Action.CHANGE, "deal")):
            errors["manager"] = ValidationError(
                _("Choose an active user who manages deals."), code="not_a_manager"
            )
        if errors:
            raise ValidationError(errors)

    @property
    def is_closed(self) -> bool:
        """Won or lost: nothing moves it any more (but a manager's reopening of a lost one)."""
        return self.stage in self.CLOSED_STAGES

    def is_editable(self) -> bool:
        """Its lines (the КП) may change, and it may be agreed: not agreed yet, not closed."""
        return self.agreed_at is None and not self.is_closed


class DealLine(TimeStamped):
    """What the customer asks for: one machine, its dates and tariff. Agreeing the КП makes
    one booking per line."""

    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(pgettext_lazy("line order", "position"), default=1)
    equipment_type = models.ForeignKey(
        "directory.EquipmentType",
        verbose_name=_("equipment type"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    min_capacity_t = models.DecimalField(
        _("minimum capacity, t"), max_digits=7, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    ordered_hours = models.DecimalField(
        _("ordered hours"), max_digits=7, decimal_places=2, default=0, validators=QUANTITY_VALIDATORS
    )
    min_hours = models.DecimalField(
        _("minimum order, hours"),
        max_digits=7,
        decimal_places=2,
        default=0,
        validators=QUANTITY_VALIDATORS,
    )
    rate_per_hour = models.DecimalField(
        _("rate per hour"), max_digits=14, decimal_places=2, default=0, validators=PRICE_VALIDATORS
    )
    km = models.DecimalField(
        _("delivery distance, km"),
        max_digits=9,
        decimal_places=2,
        default=0,
        validators=QUANTITY_VALIDATORS,
    )
    rate_per_km = models.DecimalField(
        _("rate per km"), max_digits=14, decimal_places=2, default=0, validators=PRICE_VALIDATORS
    )
    site_address = models.CharField(_("site address"), max_length=500)
    notes = models.CharField(_("notes"), max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")
        ordering = ["deal", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="deal_line_end_after_start"),
            models.CheckConstraint(
                condition=Q(
                    ordered_hours__gte=0,
                    rate_per_hour__gte=0,
                    km__gte=0,
                    rate_per_km__gte=0,
                    min_hours__gte=0,
                ),
                name="deal_line_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    ordered_hours__lte=MAX_QUANTITY,
                    min_hours__lte=MAX_QUANTITY,
                    km__lte=MAX_QUANTITY,
                    rate_per_hour__lte=MAX_PRICE,
                    rate_per_km__lte=MAX_PRICE,
                ),
                name="deal_line_bounded",
            ),
        ]

    def __str__(self):
        return f"{self.equipment_type} · {self.site_address}"

    @property
    def hours_amount(self) -> Decimal:
        return to_money(self.ordered_hours * self.rate_per_hour)

    @property
    def km_amount(self) -> Decimal:
        return to_money(self.km * self.rate_per_km)

    @property
    def amount(self) -> Decimal:
        return self.hours_amount + self.km_amount

    def clean(self):
        check_period(self.start, self.end)


class DealComment(TimeStamped):
    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    text = models.TextField(_("comment"))

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.text[:60]


class ProposalResponse(TimeStamped):
    """What the customer said through the КП link besides accepting: declined it (with the
    reason), asked a question, or asked for a new one after it expired. ``version`` is the
    КП they saw (crm/proposal.py proposal_version). Written once, never changed."""

    class Kind(models.TextChoices):
        DECLINED = "declined", _("Declined the proposal")
        QUESTION = "question", _("Question")
        RENEWAL = "renewal", _("Asked for a new proposal")

    TEXT_LIMIT = 2000

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="proposal_responses"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text = models.TextField(_("text"), blank=True)
    version = models.CharField(_("proposal version"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("customer's response to the proposal")
        verbose_name_plural = _("customers' responses to proposals")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["declined", "question", "renewal"]), name="proposal_response_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind="declined") | ~Q(text=""), name="proposal_response_decline_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(kind="question") | ~Q(text=""), name="proposal_response_question_has_text"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:60]}"


OPEN_LEAD_STATUSES = ("new", "in_work")


class LeadQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_LEAD_STATUSES)


class Lead(TimeStamped):
    """A request from any channel. One open lead per phone (and per Telegram chat): a repeat
    request joins it — the database refuses a second one."""

    class Source(models.TextChoices):
        PHONE = "phone", _("Phone call")
        WEBSITE = "website", _("Website")
        TELEGRAM = "telegram", "Telegram"
        WHATSAPP = "whatsapp", "WhatsApp"
        MAX = "max", "MAX"
        VK = "vk", _("VK")
        AVITO = "avito", _("Avito")
        EMAIL = "email", _("E-mail")
        MANUAL = "manual", _("Typed in")

    class Status(models.TextChoices):
        NEW = "new", pgettext_lazy("lead status", "New")
        IN_WORK = "in_work", _("In work")
        QUALIFIED = "qualified", _("Qualified")
        JUNK = "junk", _("Junk")

    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    name = models.CharField(_("name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    company = models.CharField(pgettext_lazy("organisation", "company"), max_length=300, blank=True)
    message = models.TextField(_("request"), blank=True)
    telegram_chat_id = models.CharField(_("Telegram chat id"), max_length=32, blank=True)
    # The customer's chat in each messenger (``CHAT_FIELDS``): the manager's reply goes back
    # there. Like the phone, a chat belongs to one open lead at a time.
    max_chat_id = models.CharField(_("MAX user id"), max_length=32, blank=True)
    vk_peer_id = models.CharField(_("VK peer id"), max_length=32, blank=True)
    avito_chat_id = models.CharField(_("Avito chat id"), max_length=100, blank=True)
    # The ad the customer wrote about (Avito): which machine they asked about.
    ad_title = models.CharField(_("ad"), max_length=300, blank=True)
    ad_url = models.URLField(_("ad link"), max_length=500, blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
    )
    counterparty = models.ForeignKey(
        "directory.Counterparty",
        verbose_name=_("counterparty"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="leads",
    )
    contact = models.ForeignKey(
        "directory.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    deal = models.OneToOneField(
        Deal, verbose_name=_("deal"), on_delete=models.SET_NULL, null=True, blank=True, related_name="lead"
    )
    junk_reason = models.TextField(_("reason rejected"), blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)

    objects = LeadQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["new", "in_work", "qualified", "junk"]), name="lead_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="junk") | ~Q(junk_reason=""), name="lead_junk_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status="qualified") | Q(deal__isnull=False), name="lead_qualified_has_deal"
            ),
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(status__in=["new", "in_work"]) & ~Q(phone=""),
                name="lead_one_open_per_phone",
            ),
            models.UniqueConstraint(
                fields=["telegram_chat_id"],
                condition=Q(status__in=["new", "in_work"]) & ~Q(telegram_chat_id=""),
                name="lead_one_open_per_telegram_chat",
            ),
            *(
                models.UniqueConstraint(
                    fields=[field],
                    condition=Q(status__in=["new", "in_work"]) & ~Q(**{field: ""}),
                    name=f"lead_one_open_per_{field}",
                )
                for field in ("max_chat_id", "vk_peer_id", "avito_chat_id")
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="lead_status_created_idx"),
            models.Index(fields=["phone"], name="lead_phone_idx"),
        ]

    def __str__(self):
        return self.name or self.phone or self.email or _("Lead #%(id)s") % {"id": self.pk}

    def get_absolute_url(self):
        return reverse("crm:lead_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_LEAD_STATUSES

    @property
    def response_time(self):
        return (self.first_response_at - self.created_at) if self.first_response_at else None


# The messengers a lead can be written to, by channel: the lead's field holding its chat.
CHAT_FIELDS = {
    Lead.Source.TELEGRAM: "telegram_chat_id",
    Lead.Source.MAX: "max_chat_id",
    Lead.Source.VK: "vk_peer_id",
    Lead.Source.AVITO: "avito_chat_id",
}


class LeadMessage(TimeStamped):
    """One entry of a lead's conversation: an incoming request, call or e-mail, or a
    manager's reply. ``external_id`` (call id, Telegram update, Message-ID) makes a
    redelivered webhook a no-op."""

    class Direction(models.TextChoices):
        IN = "in", _("Incoming")
        OUT = "out", _("Outgoing")

    lead = models.ForeignKey(Lead, verbose_name=_("lead"), on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.IN
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Lead.Source.choices)
    text = models.TextField(_("text"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    recording_url = models.URLField(_("call recording"), max_length=500, blank=True)
    delivery_status = models.CharField(_("delivery"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("lead message")
        verbose_name_plural = _("lead messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="lead_message_external_unique",
            ),
        ]

    def __str__(self):
        return self.text[:60]


class IntakeToken(TimeStamped):
    """A secret that a website form, a PBX or another system sends in ``X-Intake-Token``.
    Only its hash is kept; the token itself is shown once, when made."""

    source = models.CharField(
        _("source"), max_length=10, choices=Lead.Source.choices, blank=True, help_text=_("Empty: any source.")
    )
    name = models.CharField(_("name"), max_length=200)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("starts with"), max_length=8, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        verbose_name = _("intake token")
        verbose_name_plural = _("intake tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
