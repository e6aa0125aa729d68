"""Bookings of a unit and a driver for a time range, and supply orders.

The no-overlap rule lives in three places that agree: the database (an exclusion
constraint on PostgreSQL, migration 0002), the service (``services.booking_reserve``,
which locks and explains), and the availability selector that shows it before a click.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from arenda.core.files import EXTENSIONS
from arenda.core.models import TimeStamped
from arenda.core.money import MAX_PRICE, MAX_QUANTITY, PRICE_VALIDATORS, QUANTITY_VALIDATORS
from arenda.core.validators import check_period

MONEY = {"max_digits": 14, "decimal_places": 2}
HOURS = {"max_digits": 7, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(0)]


class BookingQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=Booking.ACTIVE_STATUSES)

    def overlapping(self, start, busy_until):
        """Active bookings whose busy range [start, busy_until) meets [start, busy_until)."""
        return self.active().filter(start__lt=busy_until, busy_until__gt=start)


class Booking(TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RESERVED = "reserved", _("Reserved")
        CONFIRMED = "confirmed", _("Confirmed")
        DISPATCHED = "dispatched", _("Dispatched")
        COMPLETED = "completed", _("Completed")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    # A unit or a driver in one of these is taken for [start, busy_until).
    ACTIVE_STATUSES = ("reserved", "confirmed", "dispatched", "completed")
    # Holding a driver whose documents still matter: flagged when one expires before the end.
    QUALIFICATION_CHECKED = ("reserved", "confirmed", "dispatched")

    deal = models.ForeignKey(
        "crm.Deal", verbose_name=_("deal"), on_delete=models.PROTECT, related_name="bookings"
    )
    equipment_type = models.ForeignKey(
        "directory.EquipmentType",
        verbose_name=_("equipment type"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    min_capacity_t = models.DecimalField(
        _("minimum capacity, t"), max_digits=7, decimal_places=2, default=0, validators=NON_NEGATIVE
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    # end + the transit buffer in force when the unit/driver were reserved.
    busy_until = models.DateTimeField(_("busy until"), null=True, blank=True, editable=False)
    site_address = models.CharField(_("site address"), max_length=500)
    # The site's coordinates (WGS 84), from a map link or entered: the telematics measure
    # the time spent near them (docs/telematics.md). No online geocoding.
    site_lat = models.DecimalField(
        _("site latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    site_lon = models.DecimalField(
        _("site longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    site_contact_name = models.CharField(_("site contact"), max_length=200, blank=True)
    site_contact_phone = models.CharField(_("site contact phone"), max_length=20, blank=True)
    ordered_hours = models.DecimalField(
        _("ordered hours"), **HOURS, default=0, validators=QUANTITY_VALIDATORS
    )
    min_hours = models.DecimalField(
        _("minimum order, hours"), **HOURS, default=0, validators=QUANTITY_VALIDATORS
    )
    rate_per_hour = models.DecimalField(_("rate per hour"), **MONEY, default=0, validators=PRICE_VALIDATORS)
    rate_per_km = models.DecimalField(_("rate per km"), **MONEY, default=0, validators=PRICE_VALIDATORS)
    # The delivery distance of the agreed КП line: the prepayment bills it with the hours.
    planned_km = models.DecimalField(
        _("planned km"), max_digits=9, decimal_places=2, default=0, validators=QUANTITY_VALIDATORS
    )
    unit = models.ForeignKey(
        "directory.Unit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
    )
    driver = models.ForeignKey(
        "directory.Driver",
        verbose_name=_("driver"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    notes = models.TextField(_("notes"), blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    # Dispatch: how many times the order went to the driver (the second and later are
    # updates), when last, and the status of that last message (the outbox mirrors it).
    dispatch_count = models.PositiveSmallIntegerField(_("times dispatched"), default=0, editable=False)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True, editable=False)
    delivery_status = models.CharField(_("order message"), max_length=20, blank=True, editable=False)
    # The trip as the driver marks it on the trip page (``bookings/trip_views.py``).
    departed_at = models.DateTimeField(_("driver left"), null=True, blank=True, editable=False)
    arrived_at = models.DateTimeField(_("driver on site"), null=True, blank=True, editable=False)
    work_finished_at = models.DateTimeField(_("work finished"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects = BookingQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "draft",
                        "reserved",
                        "confirmed",
                        "dispatched",
                        "completed",
                        "closed",
                        "cancelled",
                    ]
                ),
                name="booking_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["reserved", "confirmed", "dispatched", "completed"])
                | Q(busy_until__isnull=False),
                name="booking_active_has_busy_range",
            ),
            models.CheckConstraint(
                condition=Q(busy_until__isnull=True) | Q(busy_until__gte=F("end")),
                name="booking_busy_covers_end",
            ),
            models.CheckConstraint(
                condition=Q(ordered_hours__gte=0, min_hours__gte=0, rate_per_hour__gte=0, rate_per_km__gte=0),
                name="booking_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    ordered_hours__lte=MAX_QUANTITY,
                    min_hours__lte=MAX_QUANTITY,
                    planned_km__gte=0,
                    planned_km__lte=MAX_QUANTITY,
                    rate_per_hour__lte=MAX_PRICE,
                    rate_per_km__lte=MAX_PRICE,
                ),
                name="booking_terms_bounded",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "start"], name="booking_unit_start_idx"),
            models.Index(fields=["driver", "start"], name="booking_driver_start_idx"),
            models.Index(fields=["status", "start"], name="booking_status_start_idx"),
            models.Index(fields=["start", "end"], name="booking_start_end_idx"),
            # Overlap checks ask "this unit (driver), active, busy_until > start": these
            # partial indexes keep that to the unit's current and future bookings.
            models.Index(
                fields=["unit", "busy_until"],
                name="booking_unit_busy_idx",
                condition=Q(status__in=["reserved", "confirmed", "dispatched", "completed"]),
            ),
            models.Index(
                fields=["driver", "busy_until"],
                name="booking_driver_busy_idx",
                condition=Q(status__in=["reserved", "confirmed", "dispatched", "completed"]),
            ),
        ]

    def __str__(self):
        return _("Booking #%(id)s") % {"id": self.pk}

    def get_absolute_url(self):
        return reverse("bookings:booking_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    def clean(self):
        check_period(self.start, self.end)

    # --- what a booking in its status allows: read by the services, the pages and the API ---
    # What the job was agreed at: final once it is done (the waybills correct what happened).
    TERMS = ("start", "end", "ordered_hours", "min_hours", "rate_per_hour", "rate_per_km", "planned_km")

    def is_editable(self) -> bool:
        return self.status not in (self.Status.CLOSED, self.Status.CANCELLED)

    def terms_frozen(self) -> bool:
        """Past dispatch, its times, hours and rates are final."""
        return self.status in (self.Status.COMPLETED, self.Status.CLOSED)

    def can_reserve(self) -> bool:
        """A unit and a driver may be (re)assigned (not while a supplier's machine serves it)."""
        return self.status in (self.Status.DRAFT, self.Status.RESERVED, self.Status.CONFIRMED)

    def can_request_supply(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RESERVED)

    def can_confirm(self) -> bool:
        """Its status allows confirming (the prepayment rule is billing's: ``billing/rules.py``)."""
        return self.status == self.Status.RESERVED

    def can_dispatch(self) -> bool:
        return self.status in (self.Status.CONFIRMED, self.Status.DISPATCHED)

    def can_complete(self) -> bool:
        return self.status in (self.Status.CONFIRMED, self.Status.DISPATCHED)

    def can_cancel(self) -> bool:
        return self.status not in (self.Status.COMPLETED, self.Status.CLOSED, self.Status.CANCELLED)

    # The driver's marks on the trip page, latest first (``bookings/trip_reports.py``).
    TRIP_MARKS = (("finished", "work_finished_at"), ("arrived", "arrived_at"), ("departed", "departed_at"))

    @property
    def trip_mark(self) -> str:
        """The driver's latest mark («departed», «arrived», «finished») or ""; read from the
        row itself, so a list shows it without a query."""
        return next((name for name, field in self.TRIP_MARKS if getattr(self, field)), "")

    @property
    def trip_mark_at(self):
        return next((getattr(self, field) for _name, field in self.TRIP_MARKS if getattr(self, field)), None)

    def takes_waybills(self) -> bool:
        """The job is done (or being done) and not yet closed."""
        return self.status in (self.Status.CONFIRMED, self.Status.DISPATCHED, self.Status.COMPLETED)

    @property
    def margin_per_hour(self):
        """Our rate minus the supplier's price, when a supplier's machine serves."""
        supply = getattr(self, "supply_order", None)
        if supply is None or supply.status == SupplyOrder.Status.CANCELLED:
            return None
        return self.rate_per_hour - supply.cost_per_hour


def waybill_scan_path(instance, filename):
    """A generated name: random, with the extension of the type the content was sniffed as
    (``bookings/waybills.py``) — never the uploader's name, which could carry a misleading
    extension and is kept in ``scan_name`` only (docs/security.md, «Files»)."""
    extension = EXTENSIONS.get(getattr(instance, "scan_type", ""), "")
    return f"waybills/{instance.booking_id}/{secrets.token_hex(16)}{extension}"


class Waybill(TimeStamped):
    """The paper waybill of a trip («путевой лист»): what was really worked. A multi-day
    booking has one per day. Hours and km decide the overtime invoice (``billing.overtime``)
    and feed the payroll and plates reports."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by a manager")
        DRIVER = "driver", _("Reported by the driver")

    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.PROTECT, related_name="waybills"
    )
    number = models.CharField(_("waybill number"), max_length=50)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    hours = models.DecimalField(_("hours worked"), **HOURS, validators=NON_NEGATIVE)
    km = models.DecimalField(
        _("kilometres"), max_digits=9, decimal_places=1, default=0, validators=NON_NEGATIVE
    )
    odometer_start = models.DecimalField(
        _("odometer at start"),
        max_digits=10,
        decimal_places=1,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
    )
    odometer_end = models.DecimalField(
        _("odometer at end"), max_digits=10, decimal_places=1, null=True, blank=True, validators=NON_NEGATIVE
    )
    engine_hours = models.DecimalField(
        _("engine hours"), **HOURS, null=True, blank=True, validators=NON_NEGATIVE
    )
    downtime_hours = models.DecimalField(
        _("idle / downtime, hours"), **HOURS, default=0, validators=NON_NEGATIVE
    )
    scan = models.FileField(_("scan or photo"), upload_to=waybill_scan_path, blank=True)
    scan_name = models.CharField(
        _("scan's file name"),
        max_length=255,
        blank=True,
        help_text=_("As uploaded; shown, never used to store."),
    )
    scan_type = models.CharField(
        _("scan's content type"), max_length=50, blank=True, help_text=_("Told by the file's content.")
    )
    # Who drove and what they earned an hour on this trip (pay rates change; the payroll
    # reads this, not the driver's current rate). Empty for a supplier's machine.
    driver = models.ForeignKey(
        "directory.Driver",
        verbose_name=_("driver"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waybills",
    )
    unit = models.ForeignKey(
        "directory.Unit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waybills",
    )
    hourly_pay = models.DecimalField(_("driver's hourly pay"), **MONEY, default=0, validators=NON_NEGATIVE)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("waybill")
        verbose_name_plural = _("waybills")
        ordering = ["started_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__gt=F("started_at")), name="waybill_finish_after_start"
            ),
            models.CheckConstraint(
                condition=Q(hours__gte=0, km__gte=0, downtime_hours__gte=0, hourly_pay__gte=0),
                name="waybill_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(odometer_start__isnull=True)
                | Q(odometer_end__isnull=True)
                | Q(odometer_end__gte=F("odometer_start")),
                name="waybill_odometer_not_decreasing",
            ),
            models.UniqueConstraint(fields=["booking", "number"], name="waybill_number_unique_per_booking"),
        ]
        indexes = [
            models.Index(fields=["started_at"], name="waybill_started_idx"),
            models.Index(fields=["driver", "started_at"], name="waybill_driver_started_idx"),
            models.Index(fields=["unit", "started_at"], name="waybill_unit_started_idx"),
        ]

    def __str__(self):
        return _("Waybill № %(number)s") % {"number": self.number}

    def get_absolute_url(self):
        return self.booking.get_absolute_url() + f"#waybill-{self.pk}"


class TripEvidence(TimeStamped):
    """What the unit's tracker says of one trip (a waybill): read for the trip's window with
    margins (``bookings/telematics.py``), kept here, compared with the waybill. A figure the
    tracker could not give stays empty — shown as missing, never as zero. Where the tracker
    shows more work than the waybill, a suggestion of the difference waits for a person:
    accepted into a waybill correction (``flows/telematics.py``) or dismissed with a reason."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the tracker")
        READY = "ready", _("Received")
        FAILED = "failed", _("Could not be received")

    class Decision(models.TextChoices):
        OPEN = "", _("Waiting for a decision")
        ACCEPTED = "accepted", _("Accepted into the waybill")
        DISMISSED = "dismissed", _("Dismissed")

    waybill = models.OneToOneField(
        Waybill, verbose_name=_("waybill"), on_delete=models.CASCADE, related_name="evidence"
    )
    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="evidence"
    )
    unit = models.ForeignKey(
        "directory.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    provider = models.CharField(_("telematics platform"), max_length=10)
    tracker_id = models.CharField(_("unit's id in the platform"), max_length=64)
    window_start = models.DateTimeField(_("read from"))
    window_end = models.DateTimeField(_("read until"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    fetched_at = models.DateTimeField(_("received"), null=True, blank=True)
    samples = models.PositiveIntegerField(_("tracker messages"), null=True, blank=True)
    engine_hours = models.DecimalField(_("engine hours"), **HOURS, null=True, blank=True)
    distance_km = models.DecimalField(
        _("distance, km"), max_digits=9, decimal_places=1, null=True, blank=True
    )
    first_movement = models.DateTimeField(_("first movement"), null=True, blank=True)
    last_movement = models.DateTimeField(_("last movement"), null=True, blank=True)
    ignition_hours = models.DecimalField(_("ignition on, hours"), **HOURS, null=True, blank=True)
    hours_on_site = models.DecimalField(_("hours on site"), **HOURS, null=True, blank=True)
    # The track for the plot: at most a few hundred [lat, lon] points, thinned.
    track = models.JSONField(_("track"), default=list, blank=True)
    flagged = models.BooleanField(_("discrepancy"), default=False)
    suggested_hours = models.DecimalField(_("suggested extra hours"), **HOURS, null=True, blank=True)
    suggested_km = models.DecimalField(
        _("suggested extra km"), max_digits=9, decimal_places=1, null=True, blank=True
    )
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision.choices, default=Decision.OPEN, blank=True
    )
    decision_reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("telematics evidence")
        verbose_name_plural = _("telematics evidence")
        ordering = ["window_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "ready", "failed"]), name="trip_evidence_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(decision__in=["", "accepted", "dismissed"]), name="trip_evidence_decision_valid"
            ),
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")), name="trip_evidence_window_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="trip_evidence_due_idx", condition=Q(status="pending")
            ),
            models.Index(fields=["flagged", "window_start"], name="trip_evidence_flagged_idx"),
        ]

    def __str__(self):
        return _("Telematics of waybill № %(number)s") % {"number": self.waybill.number}

    @property
    def open_discrepancy(self) -> bool:
        return self.flagged and self.decision == self.Decision.OPEN


class SupplyOrder(TimeStamped):
    """A machine hired from a supplier to serve a booking («техника обеспечения»)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined by the supplier")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    booking = models.OneToOneField(
        Booking, verbose_name=_("booking"), on_delete=models.PROTECT, related_name="supply_order"
    )
    supplier = models.ForeignKey(
        "directory.Supplier",
        verbose_name=_("supplier"),
        on_delete=models.PROTECT,
        related_name="supply_orders",
    )
    unit_plate = models.CharField(_("supplier's plate"), max_length=12, blank=True)
    driver_name = models.CharField(_("supplier's driver"), max_length=200, blank=True)
    driver_phone = models.CharField(_("driver's phone"), max_length=20, blank=True)
    cost_per_hour = models.DecimalField(
        _("purchase price per hour"), **MONEY, default=0, validators=PRICE_VALIDATORS
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REQUESTED)
    notes = models.TextField(_("notes"), blank=True)

    # Where a supply order may go from each status (the others are final).
    NEXT_STATUSES = {
        Status.REQUESTED: (Status.CONFIRMED, Status.DECLINED, Status.CANCELLED),
        Status.CONFIRMED: (Status.COMPLETED, Status.CANCELLED),
        # A declined request may be sent again after a change (docs/supplier-request.md).
        Status.DECLINED: (Status.REQUESTED, Status.CANCELLED),
    }

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supply order")
        verbose_name_plural = _("supply orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(cost_per_hour__gte=0), name="supply_cost_non_negative"),
            models.CheckConstraint(condition=Q(cost_per_hour__lte=MAX_PRICE), name="supply_cost_bounded"),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "confirmed", "declined", "completed", "cancelled"]),
                name="supply_status_valid",
            ),
        ]

    def __str__(self):
        return _("Supply order #%(id)s") % {"id": self.pk}

    def get_absolute_url(self):
        return reverse("bookings:supply_order_detail", args=[self.pk])

    def next_statuses(self) -> tuple[str, ...]:
        return self.NEXT_STATUSES.get(self.status, ())


class TripLedger(models.Model):
    """One row per waybill with every figure the reports sum (docs/trip-ledger.md): the
    hours billed (the booking's top-up to its minimum order on its last waybill), revenue
    by hours and by km, the supplier's cost and the driver's pay, in whole kopecks, with the
    keys the reports filter and group by. Written by ``bookings/ledger.py`` in the same
    transaction as the waybill, its correction or its booking's change; ``manage.py
    rebuild_trip_ledger --check`` recomputes it from the waybills and says where it differs.

    Names (plates, counterparties, suppliers) are not copied: they are read through the
    keys, so renaming a unit or a customer needs no ledger write."""

    waybill = models.OneToOneField(
        Waybill, on_delete=models.CASCADE, primary_key=True, related_name="ledger", verbose_name=_("waybill")
    )
    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="+", verbose_name=_("booking")
    )
    deal = models.ForeignKey("crm.Deal", on_delete=models.CASCADE, related_name="+", verbose_name=_("deal"))
    equipment_type = models.ForeignKey(
        "directory.EquipmentType",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("equipment type"),
    )
    unit = models.ForeignKey(
        "directory.Unit", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("unit")
    )
    driver = models.ForeignKey(
        "directory.Driver", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("driver")
    )
    supply_order = models.ForeignKey(
        SupplyOrder, on_delete=models.CASCADE, null=True, related_name="+", verbose_name=_("supply order")
    )
    started_at = models.DateTimeField(_("started"))
    hours = models.DecimalField(_("hours worked"), **HOURS)
    billed_hours = models.DecimalField(_("hours billed"), **HOURS)
    km = models.DecimalField(_("kilometres"), max_digits=9, decimal_places=1)
    rate_per_hour = models.DecimalField(_("rate per hour"), **MONEY)
    rate_per_km = models.DecimalField(_("rate per km"), **MONEY)
    revenue_hours_k = models.BigIntegerField(_("revenue by hours, kopecks"))
    revenue_km_k = models.BigIntegerField(_("revenue by km, kopecks"))
    revenue_k = models.BigIntegerField(_("revenue, kopecks"))
    # a supplier's machine (the waybill names no unit of ours): its price per hour and cost
    cost_per_hour = models.DecimalField(_("purchase price per hour"), **MONEY, null=True)
    cost_k = models.BigIntegerField(_("purchase cost, kopecks"), null=True)
    hourly_pay = models.DecimalField(_("driver's hourly pay"), **MONEY)
    pay_k = models.BigIntegerField(_("driver's pay, kopecks"))

    class Meta:
        verbose_name = _("trip ledger row")
        verbose_name_plural = _("trip ledger")
        indexes = [
            models.Index(fields=["started_at"], name="ledger_started_idx"),
            models.Index(fields=["unit", "started_at"], name="ledger_unit_started_idx"),
            models.Index(fields=["driver", "started_at"], name="ledger_driver_started_idx"),
        ]

    def __str__(self):
        return f"{self.waybill_id}"


class SupplyRequest(models.Model):
    """One sent version of «Заявка поставщику» of a supply order (``bookings/supply_requests.py``,
    docs/supplier-request.md): the supplier's link ``/s/<token>/`` answers it. Sending again
    after a change makes a new version and supersedes the old one (its link says so)."""

    class Answer(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")

    supply_order = models.ForeignKey(
        SupplyOrder, verbose_name=_("supply order"), on_delete=models.CASCADE, related_name="requests"
    )
    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    fingerprint = models.CharField(_("content fingerprint"), max_length=64, editable=False)
    recipient = models.CharField(_("sent to"), max_length=254, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=12, choices=Answer.choices, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.CharField(_("answered by"), max_length=200, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("supplier's request")
        verbose_name_plural = _("supplier's requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answer__in=["", "confirmed", "declined"]), name="supply_request_answer_valid"
            ),
        ]

    def __str__(self):
        return _("Request of supply order #%(id)s") % {"id": self.supply_order_id}


class TripLink(models.Model):
    """The driver's personal link to the trip page of one booking (``/t/<token>/``,
    ``bookings/trip_links.py``): no login, the unguessable token is the key. It opens the
    page while it is not revoked and the booking is not closed or cancelled; a new link for
    the booking revokes the old one."""

    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="trip_links"
    )
    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("made by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("driver's trip link")
        verbose_name_plural = _("drivers' trip links")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One link opens the page at a time: making a new one revokes the old.
            models.UniqueConstraint(
                fields=["booking"], condition=Q(revoked_at__isnull=True), name="trip_link_one_open"
            ),
        ]

    def __str__(self):
        return _("Trip link of booking #%(id)s") % {"id": self.booking_id}


class CalendarFeed(TimeStamped):
    """An iCalendar feed (RFC 5545) behind an unguessable token that a phone or
    Google/Yandex/Outlook calendar subscribes to. Regenerating the token cuts off every
    old subscriber."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Whole company")
        MANAGER = "manager", _("Manager")
        DRIVER = "driver", _("Driver")
        UNIT = "unit", _("Unit")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("manager"), on_delete=models.CASCADE, null=True, blank=True
    )
    driver = models.ForeignKey(
        "directory.Driver", verbose_name=_("driver"), on_delete=models.CASCADE, null=True, blank=True
    )
    unit = models.ForeignKey(
        "directory.Unit", verbose_name=_("unit"), on_delete=models.CASCADE, null=True, blank=True
    )
    token = models.CharField(_("token"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="company", user__isnull=True, driver__isnull=True, unit__isnull=True)
                    | Q(kind="manager", user__isnull=False, driver__isnull=True, unit__isnull=True)
                    | Q(kind="driver", driver__isnull=False, user__isnull=True, unit__isnull=True)
                    | Q(kind="unit", unit__isnull=False, user__isnull=True, driver__isnull=True)
                ),
                name="calendar_feed_subject_matches_kind",
            ),
            # One feed per subject (partial constraints: SQLite has no NULLS NOT DISTINCT).
            models.UniqueConstraint(
                fields=["kind"], condition=Q(kind="company"), name="calendar_feed_one_company"
            ),
            models.UniqueConstraint(
                fields=["user"], condition=Q(kind="manager"), name="calendar_feed_one_per_user"
            ),
            models.UniqueConstraint(
                fields=["driver"], condition=Q(kind="driver"), name="calendar_feed_one_per_driver"
            ),
            models.UniqueConstraint(
                fields=["unit"], condition=Q(kind="unit"), name="calendar_feed_one_per_unit"
            ),
        ]

    def __str__(self):
        subject = self.user or self.driver or self.unit or _("company")
        return f"{self.get_kind_display()}: {subject}"


class DriverReport(TimeStamped):
    """Hours (and km) a driver reported through the bot for a booking. A manager confirms
    it in one click, which records a waybill (source «driver»), or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the manager")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    class Source(models.TextChoices):
        BOT = "bot", _("Messenger reply")
        TRIP = "trip", _("Trip page")

    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="driver_reports"
    )
    driver = models.ForeignKey(
        "directory.Driver", verbose_name=_("driver"), on_delete=models.SET_NULL, null=True, blank=True
    )
    hours = models.DecimalField(_("hours worked"), **HOURS, validators=NON_NEGATIVE)
    km = models.DecimalField(
        _("kilometres"), max_digits=9, decimal_places=1, null=True, blank=True, validators=NON_NEGATIVE
    )
    text = models.CharField(_("the driver's message"), max_length=200, blank=True)
    # A report from the trip page carries the whole waybill; one from the bot, hours and km.
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.BOT, editable=False
    )
    number = models.CharField(_("waybill number"), max_length=50, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    odometer_start = models.DecimalField(
        _("odometer at start"),
        max_digits=10,
        decimal_places=1,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
    )
    odometer_end = models.DecimalField(
        _("odometer at end"), max_digits=10, decimal_places=1, null=True, blank=True, validators=NON_NEGATIVE
    )
    engine_hours = models.DecimalField(
        _("engine hours"), **HOURS, null=True, blank=True, validators=NON_NEGATIVE
    )
    downtime_hours = models.DecimalField(
        _("idle / downtime, hours"), **HOURS, default=0, validators=NON_NEGATIVE
    )
    # The phone's key for one submission: sent again after a lost answer, it finds the
    # report already made instead of making a second.
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=64, null=True, blank=True, unique=True
    )
    reject_reason = models.TextField(_("reason rejected"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    waybill = models.ForeignKey(
        Waybill, verbose_name=_("waybill"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("driver's report")
        verbose_name_plural = _("drivers' reports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "confirmed", "rejected"]),
                name="driver_report_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(hours__gte=0) & (Q(km__isnull=True) | Q(km__gte=0)),
                name="driver_report_non_negative",
            ),
            # One report waits per booking: a newer message replaces it.
            models.UniqueConstraint(
                fields=["booking"], condition=Q(status="pending"), name="driver_report_one_pending"
            ),
        ]

    def __str__(self):
        return f"#{self.booking_id}: {self.hours} h"


def report_photo_path(instance, filename):
    """A generated name with the extension of the sniffed type, like a waybill's scan
    (docs/security.md, «Files»): never the phone's name."""
    extension = EXTENSIONS.get(getattr(instance, "content_type", ""), "")
    return f"trip/{instance.booking_id}/{secrets.token_hex(16)}{extension}"


class DriverReportPhoto(models.Model):
    """A photo of the paper waybill sent with a driver's report from the trip page
    (``bookings/trip_reports.py``). Served only to signed-in users who may see the booking
    (``bookings/dispatch_views.py`` ``driver_report_photo``)."""

    report = models.ForeignKey(
        DriverReport, verbose_name=_("driver's report"), on_delete=models.CASCADE, related_name="photos"
    )
    # Denormalised for the storage path (the report may be replaced, the booking stays).
    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="+"
    )
    file = models.FileField(_("photo"), upload_to=report_photo_path, max_length=200)
    name = models.CharField(_("file name"), max_length=255, blank=True)
    content_type = models.CharField(_("type"), max_length=50)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("waybill photo")
        verbose_name_plural = _("waybill photos")
        ordering = ["id"]

    def __str__(self):
        return self.name or self.file.name


def shift_report_file_path(instance, filename):
    """A generated name for a shift report's files (the signature PNG, the PDF): random,
    with the extension of what it is (docs/security.md, «Files»)."""
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in (".png", ".pdf"):
        extension = ""
    return f"shift-reports/{instance.booking_id}/{secrets.token_hex(16)}{extension}"


class ShiftReport(TimeStamped):
    """«Справка о работе машины (механизма)» (ЭСМ-7 in spirit): the hours of a shift signed
    on the driver's phone by the customer's person on site (``bookings/shift_reports.py``).

    What was signed is frozen in ``snapshot``; ``content_sha256`` is the SHA-256 of the
    canonical signed content (the snapshot, the signer, the signature image's SHA-256 and
    whether a code confirmed the phone), printed on the PDF (docs/shift-report.md)."""

    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.PROTECT, related_name="shift_reports"
    )
    driver_report = models.ForeignKey(
        DriverReport,
        verbose_name=_("driver's report"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shift_reports",
    )
    waybill = models.ForeignKey(
        Waybill, verbose_name=_("waybill"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The figures as signed: customer, site, machine, plate, driver, date, times, hours, km,
    # downtime, waybill number; all text, so the canonical JSON never changes with a type.
    snapshot = models.JSONField(_("what was signed"), default=dict, editable=False)
    signer_name = models.CharField(_("signed by"), max_length=200)
    signer_position = models.CharField(_("signer's position"), max_length=200)
    signer_phone = models.CharField(_("signer's phone"), max_length=20, blank=True)
    signature = models.FileField(_("signature"), upload_to=shift_report_file_path, editable=False)
    signature_sha256 = models.CharField(_("signature SHA-256"), max_length=64, editable=False)
    code_confirmed = models.BooleanField(_("confirmed by a code"), default=False, editable=False)
    signed_at = models.DateTimeField(_("signed"), editable=False)
    content_sha256 = models.CharField(_("SHA-256 of the signed content"), max_length=64, editable=False)
    pdf = models.FileField(_("PDF"), upload_to=shift_report_file_path, blank=True, editable=False)
    # The page's key for one submission: sent again, it finds the report already made.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True, editable=False)
    email_message = models.ForeignKey(
        "messaging.OutboxMessage",
        verbose_name=_("e-mail to the customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("shift report")
        verbose_name_plural = _("shift reports")
        ordering = ["-signed_at", "-id"]

    def __str__(self):
        return _("Shift report #%(id)s") % {"id": self.pk}

    def get_absolute_url(self):
        return self.booking.get_absolute_url() + f"#shift-report-{self.pk}"

    @property
    def hash_short(self) -> str:
        return self.content_sha256[:12]


class SignCode(models.Model):
    """A one-time code sent to the site contact's phone; read out to the driver, it shows
    that the person signing holds that phone. Only a keyed hash of it is kept."""

    class Channel(models.TextChoices):
        TELEGRAM = "telegram", "Telegram"
        SMS = "sms", _("SMS")

    booking = models.ForeignKey(
        Booking, verbose_name=_("booking"), on_delete=models.CASCADE, related_name="sign_codes"
    )
    phone = models.CharField(_("phone"), max_length=20)
    salt = models.CharField(_("salt"), max_length=32, editable=False)
    code_hash = models.CharField(_("code hash"), max_length=64, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    message = models.ForeignKey(
        "messaging.OutboxMessage",
        verbose_name=_("message"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("sent"), db_index=True)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing code")
        verbose_name_plural = _("signing codes")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"#{self.booking_id} → {self.phone}"
