"""Demo jobs: deals with bookings of our units over the last weeks, done the way a manager
does them — through the services and flows: reserve, prepayment invoice and its payment,
confirm, the waybill (which completes the booking, bills any overtime and makes its draft
act), payments, closing; the oldest acts issued, the oldest of those signed by the customer.

So the reports have real numbers: trips with drivers' pay, overtime invoices some paid
(closed bookings) and some not (receivables), one multi-day booking, one prepayment that
covers more than was worked (a credit), one partly paid invoice; plus today's and
tomorrow's confirmed bookings, waiting for a waybill or to be dispatched.
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from arenda.billing import acts
from arenda.billing.models import Act, Invoice, Payment
from arenda.billing.services import BillingRefused, invoice_issue, prepayment_invoice_for_booking
from arenda.bookings import services as bookings
from arenda.bookings.models import Booking, Waybill
from arenda.bookings.services import BookingConflict
from arenda.core.models import CompanySettings, User
from arenda.crm.models import Deal, DealLine
from arenda.demo import data
from arenda.directory.models import Counterparty, Driver
from arenda.directory.selectors import qualification_gaps
from arenda.flows import deals, payments, trips

D = Decimal


@dataclass(frozen=True)
class Job:
    kind: str  # paid | unpaid | partly_paid | under_minimum | credit
    days_ago: int
    worked: tuple[str, ...]  # hours per day (a multi-day job has several)


# Oldest first, so invoice numbers grow with their dates.
PAST_JOBS = [
    Job("paid", 40, ("9",)),
    Job("under_minimum", 37, ("3",)),
    Job("paid", 34, ("8", "9")),
    Job("credit", 31, ("5",)),
    Job("paid", 28, ("11",)),
    Job("unpaid", 25, ("9.5",)),
    Job("partly_paid", 21, ("12",)),
    Job("paid", 18, ("6",)),
    Job("unpaid", 15, ("10",)),
    Job("under_minimum", 12, ("2.5",)),
    Job("unpaid", 9, ("8.5", "7")),
    Job("paid", 7, ("9",)),
    Job("paid", 4, ("10.5",)),
    Job("unpaid", 2, ("9",)),
]
# The past jobs' acts, oldest first: these many issued, the first of them signed too; the
# rest stay drafts for the accountant to check and issue.
ISSUED_ACTS = 6
SIGNED_ACTS = 3


class JobBuilder:
    def __init__(self, builder):
        self.b = builder
        self.rng = builder.rng
        self.tz = timezone.get_current_timezone()
        self.today = builder.today
        self.managers = []
        self.counts = dict.fromkeys(
            ("deals", "deal lines", "bookings", "waybills", "invoices", "payments", "acts"), 0
        )

    def build(self) -> dict[str, int]:
        self.managers = list(User.objects.filter(username__in=["manager", "manager2"]).order_by("username"))
        if not self.managers:
            return {}
        units = [u for u in self.b.own_units if u.pk]
        drivers = list(
            Driver.objects.filter(
                is_active=True, license_valid_until__gt=self.today + timedelta(days=2)
            ).order_by("pk")
        )
        customers = list(Counterparty.objects.exclude(kind=Counterparty.Kind.PERSON).order_by("pk")[:60])
        if not units or not drivers or not customers:
            return {}
        row = CompanySettings.current()
        auto_issue = row.overtime_auto_issue
        # Issue the demo's overtime invoices by hand, dated the day of the job.
        CompanySettings.objects.filter(pk=row.pk).update(overtime_auto_issue=False)
        try:
            for i, job in enumerate(PAST_JOBS):
                unit = units[i % len(units)]
                last_day = self.today - timedelta(days=job.days_ago) + timedelta(days=len(job.worked) - 1)
                self._past(
                    i,
                    job,
                    unit,
                    self._qualified(drivers, i, unit, last_day),
                    customers[(i * 7) % len(customers)],
                )
            self._acts()
            self._upcoming(units, drivers, customers)
        finally:
            CompanySettings.objects.filter(pk=row.pk).update(overtime_auto_issue=auto_issue)
        names = {
            "deals": Deal,
            "deal lines": DealLine,
            "bookings": Booking,
            "waybills": Waybill,
            "invoices": Invoice,
            "payments": Payment,
            "acts": Act,
        }
        return {str(names[k]._meta.verbose_name_plural): v for k, v in self.counts.items()}

    # --- helpers -----------------------------------------------------------------------------------
    def _qualified(self, drivers, start: int, unit, last_day):
        """The first driver from ``start`` on (in turn) holding what the unit's type requires."""
        gaps = qualification_gaps([d.pk for d in drivers], unit.equipment_type_id, last_day)
        for k in range(len(drivers)):
            driver = drivers[(start + k) % len(drivers)]
            if not gaps[driver.pk]:
                return driver
        return drivers[start % len(drivers)]  # none: the reservation says why

    def _at(self, day, hour=8, minute=0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz)

    def _booking(self, *, i, unit, customer, start, days, ordered) -> Booking:
        manager = self.managers[i % len(self.managers)]
        site = (
            f"г. Москва, {self.rng.choice(data.MOSCOW_STREETS)}, д. {self.rng.randint(1, 90)}, стройплощадка"
        )
        deal = Deal(
            title=f"{unit.equipment_type.name} на объект: {site.split(', ', 1)[1]}",
            counterparty=customer,
            organization=customer.accounting_base.organization if customer.accounting_base_id else None,
            manager=manager,
            stage=Deal.Stage.AGREED,
        )
        deal._history_user = manager
        deal.save()
        self.counts["deals"] += 1
        end = start + timedelta(days=days - 1, hours=10)
        booking = bookings.booking_create(
            deal=deal,
            by=manager,
            equipment_type=unit.equipment_type,
            min_capacity_t=unit.capacity_t,
            start=start,
            end=end,
            site_address=site,
            # a point in Moscow of its own (a separate generator: the rest of the demo stays as it was)
            site_lat=D(str(round(55.62 + 0.26 * random.Random(i).random(), 6))),
            site_lon=D(str(round(37.40 + 0.42 * random.Random(-i - 1).random(), 6))),
            site_contact_name=self.rng.choice(["Прораб ", "Мастер ", "Инженер ПТО "])
            + self.rng.choice(data.MALE_SURNAMES),
            site_contact_phone=self.b._mobile(),
            ordered_hours=D(ordered),
            min_hours=unit.min_hours,
            rate_per_hour=unit.rate_per_hour,
            rate_per_km=unit.rate_per_km,
        )
        self.counts["bookings"] += 1
        self._line(booking, manager)
        return booking

    def _line(self, booking: Booking, manager) -> DealLine:
        """The КП line the booking was agreed from — the same machine, dates, hours, rates and
        km — so the deal board shows the deal's real total and the deal page its lines."""
        line = DealLine(
            deal=booking.deal,
            position=1,
            equipment_type=booking.equipment_type,
            min_capacity_t=booking.min_capacity_t,
            start=booking.start,
            end=booking.end,
            ordered_hours=booking.ordered_hours,
            min_hours=booking.min_hours,
            rate_per_hour=booking.rate_per_hour,
            km=booking.planned_km,
            rate_per_km=booking.rate_per_km,
            site_address=booking.site_address,
        )
        line._history_user = manager
        line.save()
        self.counts["deal lines"] += 1
        return line

    def _issue(self, invoice: Invoice, day) -> Invoice:
        invoice = invoice_issue(invoice=invoice, by=invoice.deal.manager, on=min(day, self.today))
        self.counts["invoices"] += 1
        return invoice

    def _pay(self, invoice: Invoice, day, amount=None, tag="") -> None:
        amount = amount or invoice.total - invoice.paid_amount
        payments.payment_record(
            invoice=invoice,
            amount=amount,
            on=min(day, self.today),
            source=Payment.Source.BANK_STATEMENT,
            reference=f"demo-{invoice.pk}{tag}",
            payer=str(invoice.counterparty),
            purpose=invoice.purpose,
        )
        self.counts["payments"] += 1

    def _prepay(self, booking: Booking, day) -> Invoice:
        invoice = prepayment_invoice_for_booking(booking=booking, by=booking.deal.manager, issue=False)
        invoice = self._issue(invoice, day)
        self._pay(invoice, day + timedelta(days=1))
        return invoice

    def _sheet(self, booking: Booking, unit, day, worked: str, number: str) -> dict:
        rng = self.rng
        hours = D(worked)
        downtime = D(rng.choice(["0", "0", "0.5", "1"]))
        start = self._at(day, 8, rng.choice([0, 0, 15, 30]))
        finish = start + timedelta(hours=float(hours + downtime) + 1)  # a lunch hour
        sheet = {
            "number": number,
            "started_at": start,
            "finished_at": finish,
            "hours": hours,
            "downtime_hours": downtime,
        }
        if booking.rate_per_km > 0:
            odometer = D(rng.randint(20_000, 180_000))
            sheet.update(odometer_start=odometer, odometer_end=odometer + D(rng.randint(18, 95)))
        if unit.has_hour_meter:
            sheet["engine_hours"] = hours + D(rng.choice(["0", "0.3", "0.5", "0.8"]))
        return sheet

    # --- the jobs ------------------------------------------------------------------------------------
    def _past(self, i: int, job: Job, unit, driver, customer) -> None:
        first_day = self.today - timedelta(days=job.days_ago)
        days = len(job.worked)
        ordered = "8" if days == 1 else str(8 * days)
        booking = self._booking(
            i=i, unit=unit, customer=customer, start=self._at(first_day), days=days, ordered=ordered
        )
        manager = booking.deal.manager
        bookings.booking_reserve(booking=booking, unit=unit, driver=driver, by=manager)
        prepaid = job.kind == "credit" or customer.prepayment_required
        if prepaid:
            self._prepay(booking, first_day - timedelta(days=3))
        deals.booking_confirm(booking=booking, by=manager)
        overtime_invoices = []
        for day_no, worked in enumerate(job.worked):
            day = first_day + timedelta(days=day_no)
            number = f"{(i + 1) * 10 + day_no + 1:04d}"
            result = trips.waybill_record(
                booking=booking, data=self._sheet(booking, unit, day, worked, number), by=manager
            )
            self.counts["waybills"] += 1
            if result.overtime_invoice is not None:
                overtime_invoices.append(self._issue(result.overtime_invoice, day + timedelta(days=1)))
        for invoice in overtime_invoices:
            paid_on = invoice.date + timedelta(days=self.rng.randint(2, 6))
            if job.kind in ("paid", "under_minimum", "credit"):
                self._pay(invoice, paid_on)
            elif job.kind == "partly_paid":
                self._pay(invoice, paid_on, amount=(invoice.total / 2).quantize(D("1")), tag="-1")
        trips.close_if_settled(booking=booking, by=manager)

    def _acts(self) -> None:
        """The jobs' acts (drafts made after their waybills, ``billing/acts.py``): the oldest
        issued the day after the job, the oldest of those signed by the customer's person a few
        days later; the newest stay drafts."""
        accountant = User.objects.filter(username="accountant").first()
        drafts = Act.objects.filter(status=Act.Status.DRAFT).select_related("counterparty")
        for n, act in enumerate(list(drafts.order_by("period_end", "pk"))[:ISSUED_ACTS]):
            on = min(act.period_end + timedelta(days=1), self.today)
            try:
                act = acts.act_issue(act=act, by=accountant, on=on)
            except (BillingRefused, ValidationError):  # a customer without its requisites
                continue
            if n < SIGNED_ACTS:
                contact = act.counterparty.contacts.order_by("pk").first()
                acts.act_mark_signed(
                    act=act,
                    by=accountant,
                    signer=contact.full_name if contact else self.rng.choice(data.MALE_SURNAMES),
                    on=min(on + timedelta(days=self.rng.randint(2, 6)), self.today),
                )
        self.counts["acts"] = Act.objects.count()

    def _upcoming(self, units, drivers, customers) -> None:
        """Today's job (waiting for its waybill) and tomorrow's (to dispatch)."""
        for offset, when in enumerate((self.today, self.today + timedelta(days=1))):
            customer = next(c for c in customers[offset + 3 :] if not c.prepayment_required)
            for attempt in range(len(units)):
                unit = units[(offset * 5 + attempt) % len(units)]
                driver = self._qualified(drivers, offset * 5 + attempt, unit, when)
                booking = self._booking(
                    i=offset, unit=unit, customer=customer, start=self._at(when), days=1, ordered="8"
                )
                try:
                    bookings.booking_reserve(
                        booking=booking, unit=unit, driver=driver, by=booking.deal.manager
                    )
                except BookingConflict:  # that unit is in maintenance: the next one
                    deals.booking_cancel(booking=booking, reason="Демо: техника на ТО", by=None)
                    continue
                deals.booking_confirm(booking=booking, by=booking.deal.manager)
                break
