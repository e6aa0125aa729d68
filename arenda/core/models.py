from datetime import time
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from arenda.core.roles import Role, role_of
from arenda.core.validators import validate_phone


class User(AbstractUser):
    """A person who logs in. Drivers and customers are not users."""

    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MANAGER)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    may_see_driver_pay = models.BooleanField(
        _("may see drivers' pay"),
        default=False,
        help_text=_("Managers see reports without the drivers' pay columns unless this is set."),
    )

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"
            )
        ]

    def __str__(self):
        return self.full_name or self.username

    @property
    def effective_role(self) -> str | None:
        return role_of(self)

    def get_full_name(self):
        return self.full_name or super().get_full_name() or self.username


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


def default_working_week() -> list:
    """Monday to Sunday: ``["HH:MM", "HH:MM"]`` (start, end) or ``None`` (a day off)."""
    return [["08:00", "20:00"]] * 5 + [["09:00", "18:00"], None]


def validate_working_week(value) -> None:
    """Seven entries, each ``None`` or a start and an end (``HH:MM``), the end after the start."""
    if not isinstance(value, list) or len(value) != 7:
        raise ValidationError(_("Seven entries are needed, Monday to Sunday."), code="invalid")
    for entry in value:
        if entry is None:
            continue
        if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, str) for x in entry)):
            raise ValidationError(_('Each day is null or a start and an end, e.g. ["08:00", "20:00"].'))
        try:
            start, end = (time.fromisoformat(x) for x in entry)
        except ValueError:
            raise ValidationError(_("A time is written as HH:MM.")) from None
        if end <= start:
            raise ValidationError(_("The end of the working day must be after its start."))


class CompanySettings(models.Model):
    """Company-wide settings the admin changes in the UI (one row)."""

    transit_buffer_minutes = models.PositiveIntegerField(
        _("transit buffer between jobs, minutes"),
        default=0,
        help_text=_("A unit or a driver stays busy this long after a booking ends, to reach the next site."),
    )
    dispatch_template = models.TextField(
        _("order template for drivers"),
        blank=True,
        help_text=_(
            "The message a driver receives on dispatch, in Django template language. "
            "Empty: the built-in template."
        ),
    )
    waybill_tolerance_minutes = models.PositiveIntegerField(
        _("waybill hours tolerance, minutes"),
        default=30,
        help_text=_("Hours worked may exceed the waybill's start-to-finish span by this much."),
    )
    waybill_ahead_minutes = models.PositiveIntegerField(
        _("waybill start ahead of now, minutes"),
        default=60,
        validators=[MaxValueValidator(24 * 60)],
        help_text=_(
            "A waybill is for work that happened: its start may be at most this much later than now."
        ),
    )
    overtime_auto_issue = models.BooleanField(
        _("issue overtime invoices at once"),
        default=True,
        help_text=_("Otherwise an overtime invoice stays a draft until a manager issues it."),
    )
    working_week = models.JSONField(
        _("working hours per weekday"),
        default=default_working_week,
        validators=[validate_working_week],
        help_text=_(
            'Monday to Sunday: a start and an end ("HH:MM") or null for a day off. Public holidays '
            "and transferred working days come from the Russian production calendar (docs/working-calendar.md)."
        ),
    )

    # Telematics (docs/telematics.md): how far a waybill may be from what the tracker shows.
    telematics_tolerance_hours = models.DecimalField(
        _("telematics tolerance, hours"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.5"),
        validators=[MinValueValidator(0), MaxValueValidator(24)],
        help_text=_(
            "A waybill whose hours differ from the tracker's engine hours (or, without them, the time "
            "on site) by more than this is flagged."
        ),
    )
    telematics_tolerance_km = models.DecimalField(
        _("telematics tolerance, km"),
        max_digits=7,
        decimal_places=1,
        default=Decimal("10"),
        validators=[MinValueValidator(0), MaxValueValidator(10000)],
        help_text=_("For bookings billed by the kilometre: the waybill's km against the tracker's distance."),
    )
    telematics_margin_minutes = models.PositiveIntegerField(
        _("telematics window margin, minutes"),
        default=120,
        validators=[MaxValueValidator(12 * 60)],
        help_text=_("The tracker is read this long before and after the trip's window."),
    )
    telematics_site_radius_m = models.PositiveIntegerField(
        _("site radius, metres"),
        default=300,
        validators=[MinValueValidator(20), MaxValueValidator(20000)],
        help_text=_("Time within this distance of the site's coordinates counts as time on site."),
    )
    telematics_on_paper = models.BooleanField(
        _("telematics appendix on paper"),
        default=True,
        help_text=_("The overtime invoice and the shift report carry the tracker's figures and the track."),
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("company settings")
        verbose_name_plural = _("company settings")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="company_settings_single_row")]

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> "CompanySettings":
        settings_row, _created = cls.objects.get_or_create(pk=1)
        return settings_row


class Notification(models.Model):
    """Something a user should see: a new lead assigned, a customer's reply, an accepted
    proposal. Shown in the header until read."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.CharField(_("text"), max_length=500)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread_idx")]

    def __str__(self):
        return self.text


class PeriodicJob(models.Model):
    """The last period a periodic job was enqueued for. Schedulers on any number of
    machines race to move ``last_period`` forward with one conditional UPDATE; the one
    that moves it enqueues the job — so each job runs once per period."""

    name = models.CharField(max_length=100, unique=True)
    last_period = models.BigIntegerField(default=-1)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("periodic job")
        verbose_name_plural = _("periodic jobs")

    def __str__(self):
        return self.name


class AuditEvent(models.Model):
    """One access or security event: who did what, when, from which address (``core/audit.py``
    writes them; nothing changes one after — the admin reads and filters them, and they are
    purged after ``AUDIT_RETENTION_DAYS``)."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        SIGN_OUT = "sign_out", _("Signed out")
        API_TOKEN_ISSUED = "api_token_issued", _("API token issued")
        API_TOKEN_REVOKED = "api_token_revoked", _("API token revoked")
        USER_CREATED = "user_created", _("User created")
        USER_ACCESS_CHANGED = "user_access_changed", _("User's role or rights changed")
        USER_DELETED = "user_deleted", _("User deleted")
        ACCOUNTING_BASE_CHANGED = "accounting_base_changed", _("1C base changed")
        INTAKE_TOKEN_CREATED = "intake_token_created", _("Intake token created")
        INTAKE_TOKEN_REVOKED = "intake_token_revoked", _("Intake token revoked")
        PAY_CHANGED = "pay_changed", _("Driver's pay changed")
        REPORT_EXPORTED = "report_exported", _("Report with pay exported")
        MESSENGER_INVITE_ISSUED = "messenger_invite_issued", _("Driver's messenger invite issued")
        MESSENGER_BOUND = "messenger_bound", _("Driver's messenger bound")
        MESSENGER_UNLINKED = "messenger_unlinked", _("Driver's messenger unlinked")
        CHANNEL_CHANGED = "channel_changed", _("Messaging channel settings changed")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices, db_index=True)
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who it was for a failed sign-in (no user), or the user's name as it was then.
    username = models.CharField(_("user name"), max_length=150, blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    target = models.CharField(_("object"), max_length=200, blank=True)
    summary = models.CharField(_("what"), max_length=500, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.username}"


class Heartbeat(models.Model):
    """The last sign of life of a background process: the scheduler beats on every tick
    (``core/scheduler.py``), the task worker when it runs the ``core.worker_heartbeat`` job
    (``core/health.py``). ``/health/`` and the admin's health page read them."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    beat_at = models.DateTimeField(_("last beat"))
    detail = models.CharField(_("detail"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return self.name


class CalendarDay(models.Model):
    """The admin's word on one date, above the weekday hours and the production calendar:
    a day off, or a working day with its hours (docs/working-calendar.md)."""

    date = models.DateField(_("date"), unique=True)
    is_working = models.BooleanField(_("working day"), default=False)
    start = models.TimeField(_("start"), null=True, blank=True)
    end = models.TimeField(_("end"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_working=False, start__isnull=True, end__isnull=True)
                | models.Q(
                    is_working=True, start__isnull=False, end__isnull=False, end__gt=models.F("start")
                ),
                name="calendar_day_hours_valid",
            )
        ]

    def __str__(self):
        return f"{self.date:%d.%m.%Y}"

    def clean(self):
        super().clean()
        if not self.is_working:
            self.start = self.end = None
            return
        errors = {}
        if self.start is None:
            errors["start"] = _("A working day needs its start.")
        if self.end is None:
            errors["end"] = _("A working day needs its end.")
        if not errors and self.end <= self.start:
            errors["end"] = _("The end must be after the start.")
        if errors:
            raise ValidationError(errors)
