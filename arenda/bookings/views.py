"""Booking pages: the list, a booking with its status actions, the availability picker,
the timeline board, the day view, the status board and supply orders. Every write goes
through ``arenda.bookings.services`` (or ``arenda.flows.deals`` where the deal follows); a ``BookingConflict`` is shown in words with links
to what blocks the booking."""

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from arenda.billing.acts import CLOSABLE_STATUSES
from arenda.billing.selectors import act_of_booking, invoices_of_booking
from arenda.bookings import selectors, services, supply_requests
from arenda.bookings.calendar import feed_for, feed_regenerate
from arenda.bookings.dayboard import build_day_board
from arenda.bookings.dispatch_views import panel_context
from arenda.bookings.filters import BookingFilter, SupplyOrderFilter, day_start
from arenda.bookings.forms import (
    AvailabilityForm,
    BookingForm,
    CancelForm,
    MoveForm,
    ReserveForm,
    SupplyOrderForm,
)
from arenda.bookings.models import Booking, CalendarFeed, SupplyOrder
from arenda.bookings.services import BookingConflict
from arenda.bookings.sign_panel import shift_reports_panel
from arenda.bookings.timeline import build_timeline
from arenda.bookings.waybill_views import waybills_panel
from arenda.core.permissions import require
from arenda.core.roles import Action, can
from arenda.crm.models import Deal
from arenda.directory.selectors import gaps_of_assignments
from arenda.flows import deals
from arenda.front.forms import validate_field_response
from arenda.front.history import history_entries
from arenda.front.lookup import KINDS as LOOKUP_KINDS
from arenda.front.lookup import FilterLookup
from arenda.front.paginator import CappedPaginator

PAGE_SIZE = 50
BOARD_LIMIT = 200
BOARD_STATUSES = ["draft", "reserved", "confirmed", "dispatched", "completed"]
SUPPLY_STATUSES = ["requested", "confirmed", "declined", "completed", "cancelled"]


def _bookings():
    return Booking.objects.select_related(
        "deal__counterparty", "equipment_type", "unit", "driver", "supply_order__supplier"
    )


def _parse_date(raw: str | None, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _active_supply(booking):
    supply = getattr(booking, "supply_order", None)
    return supply if supply is not None and supply.status != SupplyOrder.Status.CANCELLED else None


def _conflict(exc: BookingConflict) -> dict:
    """A refusal in words: the message, the bookings in the way (linked), maintenance."""
    ids = [row["booking"] for row in exc.conflicts if "booking" in row]
    help_text = ""
    if exc.code == "prepayment_missing":
        help_text = _(
            "Issue the prepayment invoice and confirm once it is paid. If this customer may pay after "
            "the job, the accountant can clear «prepayment required» on the counterparty."
        )
    elif exc.code in ("unit_busy", "driver_busy", "unit_maintenance", "license_expired"):
        help_text = _("Choose another unit or driver, move the booking, or hire a supplier's machine.")
    elif exc.code == "driver_not_qualified":
        help_text = _("Choose a qualified driver, or add the driver's documents on the driver's page.")
    return {
        "code": exc.code,
        "detail": exc.detail,
        "bookings": list(_bookings().filter(pk__in=ids).order_by("start")) if ids else [],
        "maintenance": [row for row in exc.conflicts if "maintenance" in row],
        "missing": [
            {**m, "valid_until": date.fromisoformat(m["valid_until"]) if m["valid_until"] else None}
            for m in exc.missing or []
        ],
        "help": help_text,
    }


# --- the list -------------------------------------------------------------------------------
@require(Action.VIEW, "booking")
def booking_list(request):
    params = request.GET
    filterset = BookingFilter.for_page(params, queryset=_bookings())
    qs, selected = filterset.qs, filterset.selected()
    page_obj = CappedPaginator(qs.order_by("-start", "-pk"), PAGE_SIZE).get_page(params.get("page"))
    context = {
        "page_obj": page_obj,
        "bookings": page_obj.object_list,
        "q": params.get("q", "").strip(),
        "statuses": Booking.Status.choices,
        "lookups": filterset.lookups(),
        "selected": selected,
        "filtered": any(selected.values()),
    }
    template = "bookings/booking_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


# --- one booking ----------------------------------------------------------------------------
def _actions(booking: Booking, user) -> dict:
    if not can(user, Action.CHANGE, "booking"):
        return {}
    supplied = _active_supply(booking) is not None
    return {
        "edit": booking.is_editable(),
        "reserve": booking.can_reserve() and not supplied,
        "supply": booking.can_request_supply() and not supplied and can(user, Action.ADD, "supply_order"),
        "confirm": booking.can_confirm(),
        "complete": booking.can_complete(),
        "cancel": booking.can_cancel(),
    }


def _invoices(booking: Booking, user) -> tuple[list | None, bool]:
    """The booking's invoices, and whether the user may ask for its prepayment invoice."""
    if not can(user, Action.VIEW, "invoice"):
        return None, False
    invoices = invoices_of_booking(booking)
    has_prepayment = any(i.kind == "prepayment" and i.status != "cancelled" for i in invoices)
    may = can(user, Action.CHANGE, "booking") and can(user, Action.ADD, "invoice")
    return invoices, may and not has_prepayment and booking.status in (
        "draft",
        "reserved",
        "confirmed",
        "dispatched",
    )


def _act(booking: Booking, user) -> dict | None:
    """The act that closes the booking, and whether the user may make one now (a completed
    booking no act closes; the act itself refuses before the waybills)."""
    if not can(user, Action.VIEW, "invoice"):
        return None
    act = act_of_booking(booking)
    may = act is None and booking.status in CLOSABLE_STATUSES and can(user, Action.ADD, "invoice")
    return {"act": act, "can_make": may}


def _unqualified(booking: Booking) -> list:
    """What the reserved driver lacks for this machine by the booking's end (a document that
    expires before it, or a requirement added after reserving)."""
    if booking.status not in Booking.QUALIFICATION_CHECKED or not booking.driver_id:
        return []
    key = (booking.pk, booking.driver_id, booking.equipment_type_id, timezone.localdate(booking.end))
    return gaps_of_assignments([key]).get(booking.pk, [])


def _render_detail(request, booking: Booking, *, conflict=None, cancel_form=None, status=200):
    booking = _bookings().get(pk=booking.pk)
    supply = _active_supply(booking)
    invoices, can_prepay = _invoices(booking, request.user)
    context = {
        "invoices": invoices,
        "can_prepay": can_prepay,
        "act_panel": _act(booking, request.user),
        "booking": booking,
        "deal": booking.deal,
        "supply": supply,
        "margin": booking.margin_per_hour if supply else None,
        "actions": _actions(booking, request.user),
        "conflict": conflict,
        "cancel_form": cancel_form or CancelForm(),
        "history": history_entries(booking),
        "dispatch_panel": panel_context(booking, request.user),
        "waybills_panel": waybills_panel(booking, request.user),
        "shift_reports_panel": shift_reports_panel(booking, request.user),
        "unqualified": _unqualified(booking),
    }
    return render(request, "bookings/booking_detail.html", context, status=status)


@require(Action.VIEW, "booking")
def booking_detail(request, pk):
    return _render_detail(request, get_object_or_404(Booking, pk=pk))


def _booking_form(request, *, deal: Deal, booking: Booking | None):
    form = BookingForm(
        request.POST if request.method == "POST" else None,
        instance=booking,
        user=request.user,
        validate_url=request.path,
    )
    if (validated := validate_field_response(request, form)) is not None:
        return validated
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            if booking is None:
                saved = services.booking_create(deal=deal, by=request.user, **form.service_data())
                messages.success(
                    request, _("%(name)s created. Now reserve a unit and a driver.") % {"name": saved}
                )
                return redirect("bookings:booking_reserve", saved.pk)
            fresh = Booking.objects.get(pk=booking.pk)
            saved = services.booking_update(booking=fresh, by=request.user, **form.service_data())
            messages.success(request, _("Changes to %(name)s saved.") % {"name": saved})
            return redirect(saved.get_absolute_url())
        except ValidationError as exc:
            form.add_service_error(exc)
        except BookingConflict as exc:
            conflict = _conflict(exc)
    return render(
        request,
        "bookings/booking_form.html",
        {"form": form, "deal": deal, "booking": booking, "conflict": conflict},
        status=409 if conflict else 200,
    )


@require(Action.ADD, "booking")
@require_http_methods(["GET", "POST"])
def booking_create(request, deal_pk):
    return _booking_form(request, deal=get_object_or_404(Deal, pk=deal_pk), booking=None)


@require(Action.CHANGE, "booking")
@require_http_methods(["GET", "POST"])
def booking_update(request, pk):
    booking = get_object_or_404(Booking.objects.select_related("deal"), pk=pk)
    return _booking_form(request, deal=booking.deal, booking=booking)


def _status_action(request, pk, service, done_message):
    booking = get_object_or_404(Booking, pk=pk)
    try:
        service(booking=booking, by=request.user)
    except BookingConflict as exc:
        return _render_detail(request, booking, conflict=_conflict(exc), status=409)
    messages.success(request, done_message % {"name": booking})
    return redirect(booking.get_absolute_url())


@require(Action.CHANGE, "booking")
@require_POST
def booking_confirm(request, pk):
    return _status_action(request, pk, deals.booking_confirm, _("%(name)s confirmed."))


@require(Action.CHANGE, "booking")
@require_POST
def booking_complete(request, pk):
    return _status_action(request, pk, deals.booking_complete, _("%(name)s completed."))


@require(Action.CHANGE, "booking")
@require_POST
def booking_cancel(request, pk):
    booking = get_object_or_404(Booking, pk=pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            deals.booking_cancel(booking=booking, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            form.add_service_error(exc)
        except BookingConflict as exc:
            return _render_detail(request, booking, conflict=_conflict(exc), status=409)
        else:
            messages.success(
                request, _("%(name)s cancelled; the unit and driver are free.") % {"name": booking}
            )
            return redirect(booking.get_absolute_url())
    return _render_detail(request, booking, cancel_form=form, status=400)


@require(Action.CHANGE, "booking")
@require_http_methods(["GET", "POST"])
def booking_request_supply(request, pk):
    booking = get_object_or_404(_bookings(), pk=pk)
    if not can(request.user, Action.ADD, "supply_order"):
        raise PermissionDenied
    form = SupplyOrderForm(request.POST if request.method == "POST" else None, user=request.user)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        try:
            order = services.booking_request_supply(
                booking=booking, supplier=data.pop("supplier"), by=request.user, **data
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        except BookingConflict as exc:
            conflict = _conflict(exc)
        else:
            messages.success(
                request,
                _("%(name)s requested from %(supplier)s.") % {"name": order, "supplier": order.supplier},
            )
            return redirect(booking.get_absolute_url())
    return render(
        request,
        "bookings/supply_request.html",
        {"booking": booking, "form": form, "conflict": conflict},
        status=409 if conflict else 200,
    )


# --- availability ---------------------------------------------------------------------------
@require(Action.CHANGE, "booking")
@require_http_methods(["GET", "POST"])
def booking_reserve(request, pk):
    """The picker: free units and drivers for this booking's type, capacity and time; one
    click reserves both. A lost race re-renders the picker with the refusal."""
    booking = get_object_or_404(_bookings(), pk=pk)
    conflict, errors = None, []
    chosen = {"unit": str(booking.unit_id or ""), "driver": str(booking.driver_id or "")}
    if request.method == "POST":
        form = ReserveForm(request.POST)
        chosen = {name: request.POST.get(name, "") for name in chosen}
        if form.is_valid():
            try:
                services.booking_reserve(
                    booking=booking,
                    unit=form.cleaned_data["unit"],
                    driver=form.cleaned_data["driver"],
                    by=request.user,
                )
            except BookingConflict as exc:
                conflict = _conflict(exc)
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(request, _("%(name)s reserved.") % {"name": booking})
                url = booking.get_absolute_url()
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        else:
            errors = [_("Choose one unit and one driver.")]
    units, drivers = selectors.availability(
        equipment_type_id=booking.equipment_type_id,
        min_capacity_t=booking.min_capacity_t,
        start=booking.start,
        end=booking.end,
        exclude_booking=booking.pk,
    )
    context = {
        "booking": booking,
        "units": units,
        "drivers": drivers,
        "chosen": chosen,
        "conflict": conflict,
        "errors": errors,
        "free_units": sum(row.free for row in units),
        "free_drivers": sum(row.free for row in drivers),
        "supplied": _active_supply(booking) is not None,
        "can_supply": can(request.user, Action.ADD, "supply_order"),
    }
    template = "bookings/picker.html"
    if request.htmx:
        return render(request, template + "#picker", context)
    return render(request, template, context, status=409 if conflict else 200)


@require(Action.VIEW, "booking")
def availability(request):
    form = AvailabilityForm(request.GET or None)
    units = drivers = None
    if form.is_valid():
        data = form.cleaned_data
        units, drivers = selectors.availability(
            equipment_type_id=data["equipment_type"].pk if data["equipment_type"] else None,
            min_capacity_t=data["min_capacity_t"],
            start=data["start"],
            end=data["end"],
        )
    return render(request, "bookings/availability.html", {"form": form, "units": units, "drivers": drivers})


# --- the timeline board ---------------------------------------------------------------------
@require(Action.VIEW, "booking")
def timeline(request):
    """Rows are units grouped by type (or drivers), columns are days (``bookings/timeline.py``)."""
    today = timezone.localdate()
    start = _parse_date(request.GET.get("start"), today - timedelta(days=today.weekday()))
    days = 31 if request.GET.get("days") == "31" else 14
    by = "driver" if request.GET.get("by") == "driver" else "unit"
    board = build_timeline(start=start, days=days, by=by, today=today, now=timezone.now())
    return render(request, "bookings/timeline.html", board)


# --- the day view and the status board --------------------------------------------------------
@require(Action.VIEW, "booking")
def day(request):
    today = timezone.localdate()
    chosen = _parse_date(request.GET.get("date"), today)
    qs = _bookings().filter(start__lt=day_start(chosen + timedelta(days=1)), end__gt=day_start(chosen))
    show_cancelled = request.GET.get("cancelled") == "1"
    if not show_cancelled:
        qs = qs.exclude(status=Booking.Status.CANCELLED)
    return render(
        request,
        "bookings/day.html",
        {
            "day": chosen,
            "bookings": list(qs.order_by("start", "pk")),
            "prev": chosen - timedelta(days=1),
            "next": chosen + timedelta(days=1),
            "today": today,
            "show_cancelled": show_cancelled,
        },
    )


def _day_board_params(data) -> dict:
    today = timezone.localdate()
    return {
        "day": _parse_date(data.get("day"), today),
        "days": 3 if data.get("days") == "3" else 1,
        "by": "driver" if data.get("by") == "driver" else "unit",
    }


@require(Action.VIEW, "booking")
def day_board(request):
    """Units (or drivers) × hours of one day or three, blocks draggable
    (``bookings/dayboard.py``, ``docs/day-board.md``)."""
    board = build_day_board(**_day_board_params(request.GET), now=timezone.now())
    board["can_move"] = can(request.user, Action.CHANGE, "booking")
    return render(request, "bookings/day_board.html", board)


@require(Action.CHANGE, "booking")
@require_POST
def day_board_move(request):
    """A drop on the day board: the same ``booking_update`` as every change (through
    ``services.booking_move``). Accepted: the board re-rendered; refused: 409 with the
    code and the reason; bad input: 400 naming the field."""
    form = MoveForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    data = form.cleaned_data
    try:
        services.booking_move(
            booking=data["booking"],
            unit=data["unit"],
            driver=data["driver"],
            start=data["start"],
            end=data["end"],
            version=data["version"],
            by=request.user,
        )
    except BookingConflict as exc:
        body = {"code": exc.code, "detail": str(exc.detail), "conflicts": _conflict_names(exc)}
        if exc.missing is not None:
            body["missing"] = exc.missing
        return JsonResponse(body, status=409)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return JsonResponse(
            {"code": "invalid", "detail": " ".join(exc.messages), "errors": errors}, status=409
        )
    board = build_day_board(**_day_board_params(request.POST), now=timezone.now())
    board["can_move"] = True
    return render(request, "bookings/_day_board.html", board)


def _conflict_names(exc: BookingConflict) -> list[str]:
    """The bookings in the way, named: «#12 ООО «Мостострой» 08:00–17:00»."""
    ids = [row["booking"] for row in exc.conflicts if "booking" in row]
    rows = Booking.objects.filter(pk__in=ids).select_related("deal__counterparty").order_by("start")
    return [
        f"#{b.pk} {b.deal.counterparty.name} "
        f"{timezone.localtime(b.start):%d.%m %H:%M}–{timezone.localtime(b.end):%H:%M}"
        for b in rows
    ]


@require(Action.VIEW, "booking")
def board(request):
    today = timezone.localdate()
    start = _parse_date(request.GET.get("start"), today)
    end = max(_parse_date(request.GET.get("end"), start + timedelta(days=13)), start)
    qs = _bookings().filter(
        status__in=BOARD_STATUSES, start__lt=day_start(end + timedelta(days=1)), end__gt=day_start(start)
    )
    columns = {
        status: {"status": status, "label": Booking.Status(status).label, "cards": [], "count": 0}
        for status in BOARD_STATUSES
    }
    for b in qs.order_by("start", "pk"):
        column = columns[b.status]
        if len(column["cards"]) < BOARD_LIMIT:
            column["cards"].append(b)
        column["count"] += 1
    return render(
        request,
        "bookings/board.html",
        {"columns": columns.values(), "start": start, "end": end, "limit": BOARD_LIMIT},
    )


# --- supply orders ----------------------------------------------------------------------------
def _supply_orders():
    return SupplyOrder.objects.select_related(
        "booking__deal__counterparty", "booking__equipment_type", "supplier"
    )


@require(Action.VIEW, "supply_order")
def supply_order_list(request):
    filterset = SupplyOrderFilter.for_page(request.GET, queryset=_supply_orders())
    qs, selected = filterset.qs, filterset.selected()
    view = "board" if request.GET.get("view") == "board" else "list"
    context = {
        "status": selected["status"],
        "statuses": SupplyOrder.Status.choices,
        "lookups": filterset.lookups(),
        "supplier": selected["supplier"],
        "view": view,
        "filtered": any(selected.values()),
    }
    if view == "board":
        columns = {
            s: {"status": s, "label": SupplyOrder.Status(s).label, "cards": []} for s in SUPPLY_STATUSES
        }
        for order in qs.order_by("booking__start")[: BOARD_LIMIT * len(SUPPLY_STATUSES)]:
            columns[order.status]["cards"].append(order)
        context["columns"] = columns.values()
    else:
        context["page_obj"] = CappedPaginator(qs.order_by("-booking__start", "-pk"), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    return render(request, "bookings/supply_order_list.html", context)


def _render_supply(
    request,
    order: SupplyOrder,
    *,
    conflict=None,
    status=200,
    send_errors=None,
    send_to=None,
    send_channel=None,
):
    allowed = can(request.user, Action.CHANGE, "supply_order")
    supplier_request = supply_requests.current(order)
    return render(
        request,
        "bookings/supply_order_detail.html",
        {
            "order": order,
            "booking": order.booking,
            "margin": order.booking.rate_per_hour - order.cost_per_hour,
            "next_statuses": [(s, SupplyOrder.Status(s).label) for s in order.next_statuses()]
            if allowed
            else [],
            "conflict": conflict,
            "history": history_entries(order),
            "can_send": allowed and order.status not in supply_requests.CLOSED_STATUSES,
            "supplier_request": supplier_request,
            "request_link": supply_requests.link(supplier_request) if supplier_request else "",
            "answers": [r for r in order.requests.all() if r.answer],
            "send_to": order.supplier.email if send_to is None else send_to,
            # Telegram first when the supplier has connected it and no e-mail was being typed
            "send_channel": send_channel
            or (supply_requests.TELEGRAM if order.supplier.telegram_chat_id else supply_requests.EMAIL),
            "supplier_telegram": bool(order.supplier.telegram_chat_id),
            "send_key": supply_requests.new_key(),
            "send_errors": send_errors or {},
        },
        status=status,
    )


@require(Action.VIEW, "supply_order")
def supply_order_detail(request, pk):
    return _render_supply(request, get_object_or_404(_supply_orders(), pk=pk))


@require(Action.CHANGE, "supply_order")
@require_POST
def supply_order_status(request, pk):
    order = get_object_or_404(_supply_orders(), pk=pk)
    try:
        order = services.supply_order_set_status(
            supply_order=order, status=request.POST.get("status", ""), by=request.user
        )
    except (BookingConflict, ValueError) as exc:
        if not isinstance(exc, BookingConflict):
            exc = BookingConflict("wrong_status", _("Unknown status."))
        return _render_supply(
            request, get_object_or_404(_supply_orders(), pk=pk), conflict=_conflict(exc), status=409
        )
    messages.success(
        request, _("%(name)s: %(status)s.") % {"name": order, "status": order.get_status_display()}
    )
    return redirect(order.get_absolute_url())


@require(Action.CHANGE, "supply_order")
@require_POST
def supply_order_send_request(request, pk):
    """«Отправить заявку поставщику»: by e-mail (the PDF attached) or to the supplier's
    Telegram, with the supplier's link."""
    order = get_object_or_404(_supply_orders(), pk=pk)
    to, channel = request.POST.get("to", ""), request.POST.get("channel", supply_requests.EMAIL)
    try:
        supply_requests.send(
            order=order, to=to, channel=channel, by=request.user, key=request.POST.get("key", "")
        )
    except BookingConflict as exc:
        return _render_supply(request, order, conflict=_conflict(exc), status=409)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"to": exc.messages}
        return _render_supply(
            request, order, status=400, send_errors=errors, send_to=to, send_channel=channel
        )
    if channel == supply_requests.TELEGRAM:
        messages.success(request, _("The request is queued for the supplier's Telegram."))
    else:
        messages.success(request, _("The request is queued for %(to)s.") % {"to": to.strip()})
    return redirect(order.get_absolute_url())


@require(Action.VIEW, "supply_order")
def supply_order_request_pdf(request, pk):
    order = get_object_or_404(_supply_orders(), pk=pk)
    response = HttpResponse(supply_requests.render_request_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{supply_requests.request_filename(order)}"'
    return response


@require(Action.VIEW, "booking")
@require_http_methods(["GET", "POST"])
def calendar_feeds(request):
    """Subscription links for phone and web calendars: the company, the manager's own
    deals, a driver, a unit. "New link" regenerates a token, cutting off old subscribers."""
    if request.method == "POST":
        if not can(request.user, Action.CHANGE, "booking"):
            raise PermissionDenied
        feed = get_object_or_404(CalendarFeed, pk=request.POST.get("feed"))
        if feed.user_id not in (None, request.user.pk):
            raise PermissionDenied
        feed_regenerate(feed=feed)
        messages.success(request, _("A new link is made; the old one no longer works."))
        return redirect(f"{reverse('bookings:calendar_feeds')}?{request.GET.urlencode()}")

    feeds = [
        feed_for(kind=CalendarFeed.Kind.COMPANY),
        feed_for(kind=CalendarFeed.Kind.MANAGER, user=request.user),
    ]
    # typed, or picked from the suggestions (docs/autocomplete.md)
    lookups = {
        "driver": FilterLookup.read(request.GET, "driver", LOOKUP_KINDS["driver"], label=_("Driver")),
        "unit": FilterLookup.read(request.GET, "unit", LOOKUP_KINDS["unit"], label=_("Unit")),
    }
    driver, unit = lookups["driver"].chosen, lookups["unit"].chosen
    if driver:
        feeds.append(feed_for(kind=CalendarFeed.Kind.DRIVER, driver=driver))
    if unit:
        feeds.append(feed_for(kind=CalendarFeed.Kind.UNIT, unit=unit))
    rows = [
        {"feed": feed, "url": request.build_absolute_uri(reverse("api:calendar-feed", args=[feed.token]))}
        for feed in feeds
    ]
    return render(
        request,
        "bookings/calendar_feeds.html",
        {
            "rows": rows,
            "lookups": lookups,
            "driver": driver,
            "unit": unit,
            "can_regenerate": can(request.user, Action.CHANGE, "booking"),
        },
    )
