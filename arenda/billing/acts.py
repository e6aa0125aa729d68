"""Closing documents (acts and УПД, docs/closing-documents.md): what closes a job on paper.

- ``act_create`` makes a draft for completed bookings of one counterparty and one legal
  entity: a line for each booking's hours (billable hours × rate: what the waybills say,
  at least the minimum order) and one for its km where the booking bills km. A booking is
  never in two acts: an ``ActBooking`` link, unique per booking while its act is not
  cancelled (a database constraint).
- ``act_issue`` gives the next number of the legal entity and year under a row lock on the
  counter (never reused, no gaps from races), a link token for the customer, and queues the
  push to 1C (``Document_РеализацияТоваровУслуг``, ``billing/onec.py``).
- ``act_mark_sent``, ``act_mark_signed`` (the accountant, or the customer through the link),
  ``act_cancel``.
- ``booking_changed``: a waybill corrected after its act — a draft act is rewritten; an
  issued one gets a correction document that names it and carries the difference, never a
  silent change.
- ``make_due_acts``: the per-booking acts a missed hook left, and after each month the
  monthly acts of counterparties that take one a month (``Counterparty.acts_period``).
"""

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from arenda.billing import onec, overtime
from arenda.billing.models import Act, ActBooking, ActCounter, ActLine, Invoice
from arenda.billing.services import (
    BillingRefused,
    accounting_base_for,
    default_organization,
    next_number,
    require_requisites,
    vat_rate_for,
)
from arenda.bookings.models import Booking
from arenda.core.money import MAX_AMOUNT, format_rub, to_money, vat_included
from arenda.core.services import locked, set_author
from arenda.directory.models import AccountingBase, Counterparty, Organization, VatRate

ZERO = Decimal("0")
# A booking whose work is done and that is not cancelled: what an act may close.
CLOSABLE_STATUSES = (Booking.Status.COMPLETED, Booking.Status.CLOSED)
# The sweep makes the per-booking acts a missed hook left for bookings that ended this
# recently; older ones (before acts existed) are made by hand, not in bulk.
SWEEP_DAYS = timedelta(days=45)


@dataclass(frozen=True)
class LineFigures:
    booking_id: int | None
    description: str
    quantity: Decimal
    unit: str
    price: Decimal

    @property
    def amount(self) -> Decimal:
        return to_money(self.quantity * self.price)


def _day(value) -> str:
    return timezone.localtime(value).strftime("%d.%m.%Y")


def _period(booking: Booking) -> str:
    first, last = _day(booking.start), _day(booking.end - timedelta(microseconds=1))
    return first if first == last else f"{first}–{last}"


def booking_lines(booking: Booking) -> list[LineFigures]:
    """What a booking's act says, in the company's language: «Услуги <machine>, гос. № <plate>,
    с экипажем, <period>, <site>» × billable hours at the hourly rate, and the km line."""
    figures = overtime.settlement(booking)
    machine = booking.unit.name if booking.unit_id else booking.equipment_type.name
    plate = booking.unit.plate if booking.unit_id else ""
    with translation.override(settings.LANGUAGE_CODE):
        if plate:
            service = _(
                "Services of %(machine)s, plate %(plate)s, with its operator, %(period)s, %(site)s"
            ) % {
                "machine": machine,
                "plate": plate,
                "period": _period(booking),
                "site": booking.site_address,
            }
        else:
            service = _("Services of %(machine)s with its operator, %(period)s, %(site)s") % {
                "machine": machine,
                "period": _period(booking),
                "site": booking.site_address,
            }
        lines = [LineFigures(booking.pk, service[:500], figures.billable_hours, "ч", booking.rate_per_hour)]
        if figures.billable_km > 0:
            lines.append(
                LineFigures(
                    booking.pk,
                    (
                        _("Mileage of %(machine)s, %(period)s")
                        % {"machine": machine, "period": _period(booking)}
                    )[:500],
                    figures.billable_km,
                    "км",
                    booking.rate_per_km,
                )
            )
    return lines


def form_for(organization: Organization, vat_rate: str) -> tuple[str, int | None]:
    """The document our legal entity closes jobs with: a УПД (status 1 with VAT, 2
    without) or an act (``Organization.closing_form``)."""
    with_vat = vat_rate != VatRate.NONE
    choice = organization.closing_form
    if choice == "upd" or (choice == "auto" and with_vat):
        return Act.Form.UPD, 1 if with_vat else 2
    return Act.Form.ACT, None


def _basis(bookings: list[Booking], invoices: list[Invoice]) -> str:
    """«Счёт № 12 от 01.12.2026, № 14 от 05.12.2026», else the deals: what the act is based on."""
    with translation.override(settings.LANGUAGE_CODE):
        numbered = [i for i in invoices if i.number and i.date]
        if numbered:
            return ngettext("Invoice %(numbers)s", "Invoices %(numbers)s", len(numbered)) % {
                "numbers": ", ".join(
                    _("№ %(number)s of %(date)s") % {"number": i.number, "date": i.date.strftime("%d.%m.%Y")}
                    for i in numbered
                )
            }
        deals = sorted({b.deal_id for b in bookings})
        return _("Deals %(numbers)s") % {"numbers": ", ".join(f"№ {pk}" for pk in deals)}


def _write_lines(act: Act, lines: list[LineFigures], before: dict | None = None) -> None:
    """The lines and the totals (VAT inside the prices, as on invoices). ``before``: a
    correction's figures of the corrected act, by (booking, unit)."""
    rows = []
    for position, line in enumerate(lines, start=1):
        amount = line.amount
        row = ActLine(
            act=act,
            booking_id=line.booking_id,
            position=position,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            price=line.price,
            amount=amount,
            vat_amount=vat_included(amount, act.vat_rate) or Decimal("0.00"),
        )
        if before is not None:
            old = before.get((line.booking_id, line.unit))
            row.quantity_before = old.quantity if old else ZERO
            row.price_before = old.price if old else line.price
            row.amount_before = old.amount if old else Decimal("0.00")
        rows.append(row)
    if before is not None:  # a line the correction drops (km no longer billed) goes to zero
        kept = {(line.booking_id, line.unit) for line in lines}
        for key, old in before.items():
            if key not in kept:
                rows.append(
                    ActLine(
                        act=act,
                        booking_id=old.booking_id,
                        position=len(rows) + 1,
                        description=old.description,
                        quantity=ZERO,
                        unit=old.unit,
                        price=old.price,
                        amount=Decimal("0.00"),
                        quantity_before=old.quantity,
                        price_before=old.price,
                        amount_before=old.amount,
                    )
                )
    act.lines.all().delete()
    ActLine.objects.bulk_create(rows)
    total = sum((row.amount for row in rows), Decimal("0.00"))
    if before is not None:
        total -= sum((row.amount_before for row in rows), Decimal("0.00"))
    if abs(total) > MAX_AMOUNT:
        raise ValidationError(
            {
                "bookings": _("A closing document's total is at most %(max)s.")
                % {"max": format_rub(MAX_AMOUNT)}
            }
        )
    act.total = total
    vat = vat_included(abs(total), act.vat_rate) or Decimal("0.00")
    act.vat_amount = vat if total >= 0 else -vat


def _refuse_not_done(booking: Booking) -> None:
    raise BillingRefused(
        "work_not_done",
        _("Booking #%(id)s has no waybills for its work yet: its act follows them.") % {"id": booking.pk},
        {"booking": booking.pk},
    )


def _check_closable(booking: Booking) -> None:
    if booking.status not in CLOSABLE_STATUSES or not overtime.work_done(booking, late=True):
        _refuse_not_done(booking)


def _already_closed(booking: Booking) -> None:
    link = ActBooking.objects.filter(booking=booking, active=True).select_related("act").first()
    if link is not None:
        raise BillingRefused(
            "already_in_act",
            _("Booking #%(id)s is already closed by %(act)s.") % {"id": booking.pk, "act": link.act},
            {"booking": booking.pk, "act": link.act_id},
        )


@transaction.atomic
def act_create(*, bookings: list[Booking], by, organization: Organization | None = None) -> Act:
    """A draft closing document for completed bookings of one counterparty (and one of our
    legal entities). Refuses ``work_not_done`` before a booking's waybills, ``already_in_act``
    for a booking another act closes, ``mixed`` for bookings of different customers."""
    if not bookings:
        raise ValidationError({"bookings": _("Choose at least one booking.")})
    ids = sorted({b.pk for b in bookings})
    # Locked in one order, so two acts made at once for the same bookings wait for each other.
    locked_rows = list(Booking.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    rows = list(
        Booking.objects.filter(pk__in=[b.pk for b in locked_rows])
        .select_related("deal__counterparty", "deal__organization", "unit", "equipment_type")
        .order_by("start", "pk")
    )
    if len(rows) != len(ids):
        raise ValidationError({"bookings": _("A booking was not found.")})
    counterparties = {b.deal.counterparty_id for b in rows}
    if len(counterparties) > 1:
        raise BillingRefused(
            "mixed", _("One closing document is for one customer: the bookings are of several.")
        )
    organizations = {(b.deal.organization_id or None) for b in rows}
    if organization is None:
        if len(organizations) > 1:
            raise BillingRefused("mixed", _("The bookings are sold by different legal entities of ours."))
        organization = default_organization(rows[0].deal)
    for booking in rows:
        _check_closable(booking)
        _already_closed(booking)
    counterparty = rows[0].deal.counterparty
    today = timezone.localdate()
    vat_rate = vat_rate_for(organization, today)
    form, upd_status = form_for(organization, vat_rate)
    deals = {b.deal_id for b in rows}
    invoices = list(
        Invoice.objects.filter(booking__in=rows)
        .exclude(status__in=[Invoice.Status.DRAFT, Invoice.Status.CANCELLED])
        .order_by("date", "sequence")
    )
    act = Act(
        form=form,
        upd_status=upd_status,
        organization=organization,
        counterparty=counterparty,
        deal_id=next(iter(deals)) if len(deals) == 1 else None,
        period_start=min(timezone.localtime(b.start).date() for b in rows),
        period_end=max(timezone.localtime(b.end - timedelta(microseconds=1)).date() for b in rows),
        basis=_basis(rows, invoices)[:300],
        vat_rate=vat_rate,
    )
    set_author(act, by)
    act.save()
    lines = [line for booking in rows for line in booking_lines(booking)]
    _write_lines(act, lines)
    act.save(update_fields=["total", "vat_amount", "updated_at"])
    act.invoices.set(invoices)
    try:
        with transaction.atomic():
            ActBooking.objects.bulk_create([ActBooking(act=act, booking=b) for b in rows])
    except IntegrityError:  # another act took one of them meanwhile (SQLite: cannot happen)
        for booking in rows:
            _already_closed(booking)
        raise
    return act


@transaction.atomic
def act_for_month(*, counterparty: Counterparty, month: date, by) -> list[Act]:
    """The month's acts of a counterparty: its completed bookings that ended in that month
    and no act closes yet, one act per legal entity of ours. Refuses ``nothing_to_close``."""
    first = month.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    candidates = list(
        _closable(Booking.objects.filter(deal__counterparty=counterparty))
        .select_related("deal__organization")
        .order_by("start", "pk")
    )
    chosen = [
        b
        for b in candidates
        if first <= timezone.localtime(b.end - timedelta(microseconds=1)).date() < after
        and overtime.work_done(b, late=True)
    ]
    if not chosen:
        raise BillingRefused(
            "nothing_to_close",
            _("%(counterparty)s has no completed bookings in %(month)s that an act does not close yet.")
            % {"counterparty": counterparty, "month": first.strftime("%m.%Y")},
        )
    by_organization: dict[int, list[Booking]] = {}
    for booking in chosen:
        organization = default_organization(booking.deal)
        by_organization.setdefault(organization.pk, []).append(booking)
    return [
        act_create(bookings=group, by=by, organization=Organization.objects.get(pk=pk))
        for pk, group in sorted(by_organization.items())
    ]


def _closable(bookings):
    """Completed or closed bookings no act closes yet."""
    return bookings.filter(status__in=CLOSABLE_STATUSES).exclude(act_links__active=True)


def schedule_push(act: Act) -> None:
    """Queue the act's push to 1C after commit, when its base takes pushes."""
    onec.schedule_act_push(act.pk)


@transaction.atomic
def act_issue(*, act: Act, by, on: date | None = None) -> Act:
    """Number and issue a draft: the next number of its legal entity and year, today's date
    (or ``on``), the customer's link, and the push to 1C queued."""
    act = locked(Act, act.pk)
    if act.status != Act.Status.DRAFT:
        raise BillingRefused("not_draft", _("Only a draft closing document can be issued."))
    if not act.lines.exists():
        raise ValidationError({"lines": _("A closing document needs at least one line.")})
    require_requisites(act.counterparty)
    on = on or timezone.localdate()
    sequence = next_number(act.organization, on.year, ActCounter)
    act.year, act.sequence, act.number, act.date = on.year, sequence, str(sequence), on
    act.status = Act.Status.ISSUED
    act.issued_at = timezone.now()
    act.issued_by = by if getattr(by, "is_authenticated", False) else None
    act.accept_token = act.accept_token or secrets.token_urlsafe(24)
    base = accounting_base_for(act.counterparty, act.organization)
    act.accounting_base = base
    needs_push = base is not None and base.kind == AccountingBase.Kind.ODATA
    act.sync_status = Act.SyncStatus.PENDING if needs_push else Act.SyncStatus.NOT_NEEDED
    set_author(act, by)
    act.save()
    if needs_push:
        schedule_push(act)
    return act


@transaction.atomic
def act_mark_sent(*, act: Act, to: str, by) -> Act:
    """The act went to the customer (the e-mail is queued by the caller, in this transaction)."""
    act = locked(Act, act.pk)
    if act.status not in (Act.Status.ISSUED, Act.Status.SENT, Act.Status.SIGNED):
        raise BillingRefused("not_issued", _("Issue the closing document before sending it."))
    if act.status == Act.Status.ISSUED:
        act.status = Act.Status.SENT
    act.sent_at, act.sent_to = timezone.now(), (to or "")[:254]
    set_author(act, by)
    act.save()
    return act


@transaction.atomic
def act_mark_signed(
    *, act: Act, by, signer: str = "", on: date | None = None, scan=None, via: str = Act.SignedVia.ACCOUNTANT
) -> Act:
    """The customer signed: the accountant marks it (with the signed scan, if any) or the
    customer accepts it through the link. Marking a signed act again only adds the scan."""
    act = locked(Act, act.pk)
    if act.status not in (Act.Status.ISSUED, Act.Status.SENT, Act.Status.SIGNED):
        raise BillingRefused("not_issued", _("Only an issued closing document can be signed."))
    on = on or timezone.localdate()
    if act.date and on < act.date:
        raise ValidationError(
            {
                "signed_on": _("It cannot be signed before its date, %(date)s.")
                % {"date": act.date.strftime("%d.%m.%Y")}
            }
        )
    if on > timezone.localdate():
        raise ValidationError({"signed_on": _("The date of signing cannot be in the future.")})
    if act.status != Act.Status.SIGNED:
        act.status = Act.Status.SIGNED
        act.signed_at, act.signed_on, act.signed_via = timezone.now(), on, via
        act.signed_by_name = (signer or "").strip()[:200]
    if scan is not None:
        act.signed_scan.save(scan.name, scan, save=False)
    set_author(act, by)
    act.save()
    return act


@transaction.atomic
def act_cancel(*, act: Act, reason: str, by) -> Act:
    """The accountant's: a cancelled act keeps its number and frees its bookings for another
    act; a draft is deleted instead. An act with live corrections is cancelled after them."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the closing document is cancelled.")})
    act = locked(Act, act.pk)
    if act.status == Act.Status.DRAFT:
        raise BillingRefused("cannot_cancel", _("A draft is not cancelled: delete it instead."))
    if act.status == Act.Status.CANCELLED:
        raise BillingRefused("cannot_cancel", _("The closing document is already cancelled."))
    if act.corrections.exclude(status=Act.Status.CANCELLED).exists():
        raise BillingRefused("has_corrections", _("Cancel its corrections first."))
    act.status = Act.Status.CANCELLED
    act.cancel_reason = reason
    set_author(act, by)
    act.save()
    act.booking_links.update(active=False)
    return act


@transaction.atomic
def act_delete_draft(*, act: Act, by) -> None:
    act = locked(Act, act.pk)
    if act.status != Act.Status.DRAFT:
        raise BillingRefused("not_draft", _("Only a draft is deleted; cancel an issued closing document."))
    act.delete()


# --- after a waybill is corrected -----------------------------------------------------------
def _effective_lines(act: Act, booking_ids: set[int]) -> dict:
    """The figures an issued act and its counted corrections say now, by (booking, unit)."""
    acts = [act, *act.corrections.filter(status__in=Act.COUNTED_STATUSES).order_by("pk")]
    current: dict = {}
    for document in acts:
        for line in document.lines.all():
            if line.booking_id in booking_ids:
                current[(line.booking_id, line.unit)] = line
    return current


@transaction.atomic
def booking_changed(*, booking: Booking, by) -> Act | None:
    """A waybill of ``booking`` was corrected. Its draft act is rewritten; an issued one gets
    a correction (a draft to issue) when the figures differ. Returns that document."""
    link = ActBooking.objects.filter(booking=booking, active=True).select_related("act").first()
    if link is None:
        return None
    act = locked(Act, link.act_id)
    booking = Booking.objects.select_related("unit", "equipment_type").get(pk=booking.pk)
    fresh = booking_lines(booking)
    if act.status == Act.Status.DRAFT:
        others = [
            LineFigures(line.booking_id, line.description, line.quantity, line.unit, line.price)
            for line in act.lines.exclude(booking=booking)
        ]
        _write_lines(act, sorted(others + fresh, key=lambda line: line.booking_id or 0))
        set_author(act, by)
        act.save()
        return act
    current = _effective_lines(act, {booking.pk})
    if {(line.unit, line.quantity, line.price) for line in fresh} == {
        (old.unit, old.quantity, old.price) for old in current.values() if old.quantity > 0
    }:
        return None
    pending = act.corrections.filter(status=Act.Status.DRAFT, lines__booking=booking).distinct().first()
    correction = pending or Act(
        form=act.form,
        upd_status=act.upd_status,
        organization=act.organization,
        counterparty=act.counterparty,
        deal=act.deal,
        corrects=act,
        period_start=act.period_start,
        period_end=act.period_end,
        basis=act.basis,
        vat_rate=act.vat_rate,
    )
    set_author(correction, by)
    correction.save()
    _write_lines(correction, fresh, before=current)
    correction.save()
    ActBooking.objects.get_or_create(act=correction, booking=booking, defaults={"active": False})
    return correction


# --- automatic acts ---------------------------------------------------------------------------
def booking_done(*, booking: Booking, by, late: bool = False) -> Act | None:
    """After a waybill: a counterparty billed per booking gets the booking's draft act as
    soon as its work is done (one waybill per day). Nothing for monthly customers (the
    month's act comes after the month), nor twice."""
    booking = Booking.objects.select_related("deal__counterparty").get(pk=booking.pk)
    if booking.deal.counterparty.acts_period != Counterparty.ActsPeriod.BOOKING:
        return None
    if booking.status not in CLOSABLE_STATUSES or not overtime.work_done(booking, late=late):
        return None
    if ActBooking.objects.filter(booking=booking, active=True).exists():
        return None
    try:
        return act_create(bookings=[booking], by=by)
    except (BillingRefused, ValidationError):
        return None


@dataclass
class Made:
    acts: list[Act] = field(default_factory=list)
    skipped: int = 0


def make_due_acts(*, today: date | None = None, limit: int = 500) -> Made:
    """The sweep (daily): per-booking acts a missed hook left, and — from the first of a
    month — the previous month's acts of monthly customers. Never makes an act twice (the
    ``ActBooking`` constraint) and makes nothing for a booking still being worked."""
    today = today or timezone.localdate()
    made = Made()
    per_booking = (
        _closable(Booking.objects.filter(deal__counterparty__acts_period=Counterparty.ActsPeriod.BOOKING))
        .filter(end__gte=_midnight(today - SWEEP_DAYS))
        .order_by("pk")[:limit]
    )
    for booking in per_booking:
        act = booking_done(booking=booking, by=None, late=True)
        if act is None:
            made.skipped += 1
        else:
            made.acts.append(act)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    before = today.replace(day=1)
    monthly = (
        _closable(Booking.objects.filter(deal__counterparty__acts_period=Counterparty.ActsPeriod.MONTH))
        .filter(end__lte=_midnight(before), end__gt=_midnight(last_month))
        .values_list("deal__counterparty", flat=True)
        .distinct()
    )
    for counterparty_id in sorted(set(monthly)):
        try:
            made.acts += act_for_month(
                counterparty=Counterparty.objects.get(pk=counterparty_id), month=last_month, by=None
            )
        except (BillingRefused, ValidationError):
            made.skipped += 1
    return made


def _midnight(day: date):
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day))


@task()
def make_due_acts_task() -> int:
    """Daily (``PERIODIC_JOBS``)."""
    return len(make_due_acts().acts)
