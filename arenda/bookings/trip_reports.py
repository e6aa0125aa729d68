"""What the driver does on the trip page (``/t/<token>/``, ``bookings/trip_views.py``):

- **the status marks** — «Left for the site» → «On site» → «Finished»: each sets its time on
  the booking once (pressed again, the first time stays), in this order, only while the
  booking is confirmed or dispatched; written under the booking's row lock, so the
  booking's history (django-simple-history) keeps each one; the finish notifies the manager;
- **the waybill report** — the waybill's figures and photos of the paper waybill, checked by
  the rules of the manager's waybill form (``waybills.waybill_check``), kept as a pending
  ``DriverReport`` (source «trip») until the manager confirms it into a waybill
  (``flows/trips.py`` ``report_confirm``) or rejects it with a reason. A newer report
  replaces the one still waiting. The phone's idempotency key makes a submission sent twice
  (a lost answer, the offline queue, two requests at once) one report.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from arenda.bookings.models import Booking, DriverReport, DriverReportPhoto
from arenda.bookings.services import BookingConflict
from arenda.bookings.waybills import CONTENT_TYPES, FIELDS, original_name, scan_kind, waybill_check
from arenda.core.models import CompanySettings
from arenda.core.notify import notify
from arenda.core.services import locked

# The marks in the order the driver presses them: name → the booking's field.
MARKS = {"departed": "departed_at", "arrived": "arrived_at", "finished": "work_finished_at"}
MAX_PHOTOS = 6
PHOTO_KINDS = ("jpeg", "png", "webp", "heic")  # photos only: a PDF is not a photo
REPORT_FIELDS = tuple(name for name in FIELDS if name != "notes")


def mark_labels() -> dict:
    """The marks as the driver's buttons, the booking page, the day and the timeline name
    them (a context of their own: «Finished» is also the waybill's finish time)."""
    return {
        "departed": pgettext("trip status", "Left for the site"),
        "arrived": pgettext("trip status", "On site"),
        "finished": pgettext("trip status", "Finished"),
    }


def marks_open(booking: Booking) -> bool:
    """The driver may press the status buttons: the job is confirmed or on its way."""
    return booking.status in (Booking.Status.CONFIRMED, Booking.Status.DISPATCHED)


def next_mark(booking: Booking) -> str | None:
    """The mark the driver presses next, or None when all three are set."""
    for mark, field in MARKS.items():
        if getattr(booking, field) is None:
            return mark
    return None


def _manager(booking: Booking):
    return booking.deal.manager or booking.created_by


@transaction.atomic
def trip_mark(*, booking: Booking, mark: str) -> tuple[Booking, bool]:
    """Record ``mark`` on the booking (``(booking, True)``), or keep the time already there
    (``(booking, False)``). ``BookingConflict`` when the booking takes no marks or an
    earlier one is missing."""
    if mark not in MARKS:
        raise BookingConflict("unknown_mark", _("Unknown status."))
    locked(Booking, booking.pk)
    booking = Booking.objects.select_related("deal__manager", "created_by").get(pk=booking.pk)
    field = MARKS[mark]
    if getattr(booking, field) is not None:
        return booking, False
    if not marks_open(booking):
        raise BookingConflict(
            "wrong_status",
            _("The order is «%(status)s»: its status can no longer be changed here.")
            % {"status": booking.get_status_display()},
        )
    if mark == "arrived" and booking.departed_at is None:
        raise BookingConflict("mark_order", _("Press «Left for the site» first."))
    if mark == "finished" and booking.arrived_at is None:
        raise BookingConflict("mark_order", _("You cannot finish before arriving: press «On site» first."))
    setattr(booking, field, timezone.now())
    booking._change_reason = f"trip page: {mark}"  # the booking's history says where it came from
    booking.save()
    if mark == "finished":
        with translation.override(settings.LANGUAGE_CODE):
            driver = booking.driver.full_name if booking.driver_id else _("The driver")
            notify(
                _manager(booking),
                _("%(driver)s finished the work on booking #%(id)s.") % {"driver": driver, "id": booking.pk},
                reverse("bookings:booking_detail", args=[booking.pk]) + "#trip",
            )
    return booking, True


# --- the report ------------------------------------------------------------------------------
@dataclass
class Submitted:
    report: DriverReport
    created: bool  # False: the key was seen before, this is the report it made


def photo_kind(file) -> str:
    """A photo's kind from its content (the scan's rules; a PDF is not a photo), or a
    ValidationError on ``photos``."""
    try:
        kind = scan_kind(file)
    except ValidationError as exc:
        raise ValidationError(
            {
                "photos": [
                    _("%(name)s: %(error)s") % {"name": original_name(file), "error": m} for m in exc.messages
                ]
            }
        ) from exc
    if kind not in PHOTO_KINDS:
        raise ValidationError(
            {"photos": _("%(name)s: only photos (JPEG, PNG, WebP, HEIC).") % {"name": original_name(file)}}
        )
    return kind


def report_check(*, booking: Booking, data: dict, photos: list) -> dict:
    """Every error of a submission at once, by field; the data a waybill would keep."""
    errors: dict = {}
    checked = {}
    try:
        checked = waybill_check(booking=booking, data=data)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    # The driver sends the waybill when the shift is over (the foreman signs these figures):
    # a finish later than now, beyond the same leeway a start has, is not work done yet.
    finish = data.get("finished_at")
    ahead = timedelta(minutes=CompanySettings.current().waybill_ahead_minutes)
    if "finished_at" not in errors and finish is not None and finish > timezone.now() + ahead:
        errors["finished_at"] = [_("The work has not finished yet: send the waybill after the job.")]
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [_("At most %(n)s photos.") % {"n": MAX_PHOTOS}]
    else:
        for photo in photos:
            try:
                photo_kind(photo)
            except ValidationError as exc:
                errors.setdefault("photos", []).extend(exc.message_dict["photos"])
    if errors:
        raise ValidationError(errors)
    return checked


def seen(key: str | None, booking: Booking) -> DriverReport | None:
    if not key:
        return None
    return DriverReport.objects.filter(idempotency_key=key, booking_id=booking.pk).first()


def report_submit(*, booking: Booking, data: dict, photos: list, key: str | None = None) -> Submitted:
    """Keep the driver's waybill as a pending report (see the module's docstring). The same
    ``key`` again returns the report it made, whatever else was sent."""
    key = (key or "").strip()[:64] or None
    try:
        return _submit(booking=booking, data=data, photos=photos, key=key)
    except IntegrityError:
        # Two requests with one key at once on another booking's lock, or a race the lock
        # did not cover: the unique key stands behind it; the first one's report is the answer.
        found = seen(key, booking)
        if found is None:
            raise
        return Submitted(found, created=False)


@transaction.atomic
def _submit(*, booking: Booking, data: dict, photos: list, key: str | None) -> Submitted:
    locked(Booking, booking.pk)  # one submission of a booking at a time: the key is seen
    found = seen(key, booking)
    if found is not None:
        return Submitted(found, created=False)
    if key and DriverReport.objects.filter(idempotency_key=key).exists():
        raise BookingConflict("key_taken", _("This submission belongs to another order."))
    booking = Booking.objects.select_related("unit", "driver", "deal__manager", "created_by").get(
        pk=booking.pk
    )
    if not booking.takes_waybills():
        raise BookingConflict(
            "wrong_status",
            _("A booking in status «%(status)s» takes no waybills.")
            % {"status": booking.get_status_display()},
        )
    checked = report_check(booking=booking, data=data, photos=photos)
    report = (
        DriverReport.objects.select_for_update()
        .filter(booking=booking, status=DriverReport.Status.PENDING)
        .first()
    ) or DriverReport(booking=booking)
    old_photos = list(report.photos.all()) if report.pk else []
    report.source = DriverReport.Source.TRIP
    report.driver = booking.driver
    report.text = ""
    for name in REPORT_FIELDS:
        setattr(report, name, checked.get(name))
    report.downtime_hours = checked.get("downtime_hours") or 0
    report.idempotency_key = key
    report.full_clean(exclude=["booking", "driver", "waybill", "decided_by"], validate_unique=False)
    with transaction.atomic():  # a concurrent twin's key → IntegrityError, caught by the caller
        report.save()
    stored = []
    try:
        for photo in photos:
            content_type = CONTENT_TYPES[photo_kind(photo)]
            row = DriverReportPhoto(
                report=report, booking=booking, name=original_name(photo), content_type=content_type
            )
            row.file.save(photo.name or "photo", photo, save=False)
            stored.append(row.file.name)
            row.save()
    except Exception:
        for name in stored:
            DriverReportPhoto.file.field.storage.delete(name)
        raise
    for old in old_photos:  # the replaced report's photos go with it, after the commit
        name, storage = old.file.name, old.file.storage
        old.delete()
        transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))
    with translation.override(settings.LANGUAGE_CODE):
        driver = booking.driver.full_name if booking.driver_id else _("The driver")
        notify(
            _manager(booking),
            _("%(driver)s sent the waybill of booking #%(id)s: confirm or reject it on the booking page.")
            % {"driver": driver, "id": booking.pk},
            reverse("bookings:booking_detail", args=[booking.pk]) + "#driver-report",
        )
    return Submitted(report, created=True)


def last_report(booking: Booking) -> DriverReport | None:
    """The driver's latest report of the booking, whatever its state (the trip page shows it)."""
    return booking.driver_reports.order_by("-updated_at", "-id").first()


def photo_to_serve(photo: DriverReportPhoto):
    """``(open file, content type, name)`` or None when the file is gone. Who may read it
    is the caller's to check (docs/security.md, «Files»)."""
    try:
        handle = photo.file.open("rb")
    except FileNotFoundError:
        return None
    return handle, photo.content_type, photo.name or f"waybill-photo-{photo.pk}"
