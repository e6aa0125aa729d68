"""Pages of dispatch: sending the order from the booking page, its live status, the order
template editor, and the driver's Telegram link on the driver's page. The writes are in
``arenda.bookings.dispatch``."""

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateSyntaxError
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arenda.bookings import dispatch, driver_link, driver_reports, supplier_link, trip_links, trip_reports
from arenda.bookings.dispatch import DriverNotLinked
from arenda.bookings.models import Booking, DriverReport, DriverReportPhoto
from arenda.bookings.services import BookingConflict
from arenda.core.files import file_response
from arenda.core.models import CompanySettings
from arenda.core.permissions import require
from arenda.core.roles import Action, can
from arenda.directory.models import Driver, Supplier
from arenda.flows import trips
from arenda.integrations.messaging import config
from arenda.integrations.messaging.models import OutboxMessage

PANEL_STATUSES = ("reserved", "confirmed", "dispatched")


# --- the booking page ------------------------------------------------------------------------
def panel_context(booking: Booking, user) -> dict:
    """What ``bookings/_dispatch.html`` shows: the order's status, the send button, the
    order text with WhatsApp/SMS links, and why the bot cannot carry it, if it cannot."""
    if booking.status not in PANEL_STATUSES and not booking.dispatch_count:
        return {"show": False}
    booking = dispatch._booking(booking.pk)
    may = can(user, Action.CHANGE, "booking")
    sendable = booking.can_dispatch()
    order = dispatch.fallback(booking)
    return {
        "show": True,
        "booking": booking,
        "may_send": may and sendable,
        "may_change": may,
        "update": booking.dispatch_count > 0,
        # A dispatched booking offers «send the update» only once something changed.
        "changed": booking.status != Booking.Status.DISPATCHED
        or dispatch.order_changed(booking, order["text"]),
        "not_linked": dispatch.not_linked_reason(booking),
        "fallback": order,
        "delivery": dispatch.delivery(booking),
        "reports": list(
            booking.driver_reports.filter(status=DriverReport.Status.PENDING)
            .select_related("driver")
            .prefetch_related("photos")
        ),
        "may_confirm_report": can(user, Action.ADD, "waybill"),
        "trip": trip_context(booking, may),
    }


def trip_context(booking: Booking, may_change: bool) -> dict:
    """The «Trip page» part of the panel: the driver's marks, and the link (with copy and
    «make a new one») to those who may change the booking — it is a key to the page."""
    link = trip_links.current(booking) if may_change else None
    labels = trip_reports.mark_labels()
    return {
        "marks": [
            {"name": name, "label": labels[name], "at": getattr(booking, field)}
            for name, field in trip_reports.MARKS.items()
        ],
        "link": link,
        "url": trip_links.url(link) if link else "",
        "may_change": may_change and booking.is_editable(),
    }


def _back(booking_pk: int):
    return redirect(reverse("bookings:booking_detail", args=[booking_pk]) + "#dispatch")


@require(Action.CHANGE, "booking")
@require_POST
def booking_dispatch(request, pk):
    booking = get_object_or_404(Booking.objects.only("pk"), pk=pk)
    manual = request.POST.get("manual") in ("1", "true", "on")
    try:
        result = dispatch.dispatch(booking=booking, by=request.user, manual=manual)
    except DriverNotLinked as exc:
        messages.warning(request, exc.detail)
    except BookingConflict as exc:
        messages.error(request, exc.detail)
    else:
        if manual:
            messages.success(request, _("The order is marked as sent by hand."))
        elif result.repeated:
            messages.info(request, _("Nothing has changed since the last order: it was not sent again."))
        elif result.update:
            messages.success(request, _("The update of the order is on its way to the driver."))
        else:
            messages.success(request, _("The order is on its way to the driver."))
    return _back(pk)


@require(Action.VIEW, "booking")
def booking_dispatch_status(request, pk):
    """The status badge alone (HTMX polls it while the order is on its way)."""
    booking = get_object_or_404(
        Booking.objects.only("pk", "status", "delivery_status", "dispatch_count"), pk=pk
    )
    context = {
        "booking": booking,
        "delivery": dispatch.delivery(booking),
        "may_change": can(request.user, Action.CHANGE, "booking"),
    }
    return render(request, "bookings/_dispatch_status.html", context)


@require(Action.CHANGE, "booking")
@require_POST
def booking_dispatch_retry(request, pk):
    booking = get_object_or_404(Booking.objects.only("pk"), pk=pk)
    message = dispatch.retry(booking=booking, by=request.user)
    if message is not None and message.status == "queued":
        messages.success(request, _("The order will be sent again."))
    if request.htmx:
        return booking_dispatch_status(request, pk)
    return _back(pk)


@require(Action.ADD, "waybill")
@require_POST
def driver_report_decide(request, pk, decision):
    """Confirm a driver's hours into a waybill, or reject them."""
    if decision not in ("confirm", "reject"):
        raise Http404
    report = get_object_or_404(DriverReport, pk=pk)
    try:
        if decision == "confirm":
            recorded = trips.report_confirm(report=report, by=request.user)
            messages.success(
                request,
                _("The waybill %(number)s is recorded from the driver's report.")
                % {"number": recorded.waybill.number},
            )
        else:
            driver_reports.report_reject(
                report=report, by=request.user, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("The driver's report is rejected."))
    except BookingConflict as exc:
        messages.error(request, exc.detail)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(reverse("bookings:booking_detail", args=[report.booking_id]) + "#dispatch")


@require(Action.VIEW, "booking")
def driver_report_photo(request, pk):
    """A photo of a driver's paper waybill, to those who may see bookings
    (docs/security.md, «Files»)."""
    photo = get_object_or_404(DriverReportPhoto, pk=pk)
    served = trip_reports.photo_to_serve(photo)
    if served is None:
        raise Http404
    handle, content_type, name = served
    return file_response(handle, content_type=content_type, filename=name)


@require(Action.CHANGE, "booking")
@require_POST
def booking_trip_link(request, pk):
    """«Make a new one»: the driver's trip link is revoked and replaced (the old address stops
    working at once); ``revoke`` cuts it off without a new one."""
    booking = get_object_or_404(Booking, pk=pk)
    if not booking.is_editable():
        messages.error(request, _("A closed or cancelled booking has no trip page."))
    elif request.POST.get("action") == "revoke":
        trip_links.revoke(booking=booking)
        messages.success(request, _("The trip link is revoked: it no longer opens."))
    else:
        trip_links.issue(booking=booking, by=request.user, regenerate=True)
        messages.success(
            request, _("A new trip link is made; the old one no longer works. Send the order again.")
        )
    return redirect(reverse("bookings:booking_detail", args=[pk]) + "#trip")


# --- the order template --------------------------------------------------------------------
def _preview_booking(raw: str | None) -> Booking | None:
    qs = Booking.objects.filter(status__in=["confirmed", "dispatched", "completed"])
    if raw and raw.isdigit():
        return Booking.objects.filter(pk=int(raw)).first()
    return qs.order_by("-start", "-pk").first()


@require(Action.CHANGE, "company_settings")
@require_http_methods(["GET", "POST"])
def dispatch_template(request):
    row = CompanySettings.current()
    source = row.dispatch_template
    error, preview = None, ""
    booking = _preview_booking(request.POST.get("booking") or request.GET.get("booking"))
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "reset":
            dispatch.dispatch_template_set(source="", by=request.user)
            messages.success(request, _("The built-in order template is in use again."))
            return redirect("bookings:dispatch_template")
        source = request.POST.get("source", "")
        try:
            dispatch.compile_template(source or dispatch.BUILTIN_TEMPLATE)
        except TemplateSyntaxError as exc:
            error = _("Line %(line)s: %(error)s") % {"line": exc.line or "?", "error": exc}
        else:
            if action == "save":
                dispatch.dispatch_template_set(source=source, by=request.user)
                messages.success(request, _("The order template is saved."))
                return redirect("bookings:dispatch_template")
    if error is None:
        try:
            context = (
                dispatch.order_context(dispatch._booking(booking.pk))
                if booking
                else dispatch.sample_context()
            )
            preview = dispatch.render_text(source, context)
        except Exception as exc:  # a template that compiles may still fail on rendering
            error = _("The template cannot be rendered: %(error)s") % {"error": exc}
    return render(
        request,
        "bookings/dispatch_template.html",
        {
            "source": source or dispatch.BUILTIN_TEMPLATE,
            "is_builtin": not row.dispatch_template,
            "error": error,
            "preview": preview,
            "preview_booking": booking,
            "variables": dispatch.VARIABLES.items(),
        },
        status=400 if error and request.method == "POST" else 200,
    )


# --- the driver's Telegram ------------------------------------------------------------------
def _qr(link: str):
    return (
        mark_safe(segno.make(link, error="m", micro=False).svg_inline(scale=4, dark="#1f2933"))
        if link
        else ""
    )


def driver_telegram_context(request, driver: Driver) -> dict:
    """The «Telegram» section of the driver's page: whether the chat is bound, when and by
    whose invite; the current invite link (to those who may change the driver)."""
    # The link is a key to the driver's orders: only those who may change the driver see it.
    may_change = can(request.user, Action.CHANGE, "driver")
    invite = driver_link.current_invite(driver) if may_change else None
    link = driver_link.invite_link(driver) if invite else ""
    return {
        "telegram": {
            "linked": bool(driver.telegram_chat_id),
            "bound_at": driver.messenger_bound_at if driver.telegram_chat_id else None,
            "bound_by": driver.messenger_bound_by,
            "link": link,
            "expires_at": driver_link.expires_at(invite) if invite else None,
            "qr": _qr(link),
            "bot_configured": bool(config.get("telegram").bot_username),
            "may_change": may_change,
            "linked_text": _("Orders go to the driver's Telegram chat with the bot."),
            "unlinked_text": _(
                "The driver opens the invite link (or scans the code) and presses «Start»: orders "
                "will then come to their Telegram."
            ),
            "invite_url": reverse("bookings:driver_telegram_invite", args=[driver.pk]),
            "unlink_url": reverse("bookings:driver_telegram_unlink", args=[driver.pk]),
            "max": {
                "linked": bool(driver.max_user_id),
                "link": driver_link.max_invite_link(driver) if invite else "",
            },
            "routes": [
                {"channel": channel, "label": OutboxMessage.Channel(channel).label}
                for channel, _recipient in dispatch.driver_routes(driver)
            ],
            "preferred": driver.get_preferred_channel_display(),
        }
    }


def supplier_telegram_context(request, supplier: Supplier) -> dict:
    """The «Telegram» section of the supplier's page (``bookings/supplier_link.py``)."""
    may_change = can(request.user, Action.CHANGE, "supplier")
    link = supplier_link.invite_link(supplier) if may_change else ""
    return {
        "telegram": {
            "linked": bool(supplier.telegram_chat_id),
            "bound_at": supplier.messenger_bound_at,
            "link": link,
            "expires_at": supplier_link.expires_at(supplier) if link else None,
            "qr": _qr(link),
            "bot_configured": bool(config.get("telegram").bot_username),
            "may_change": may_change,
            "linked_text": _("Requests for machinery can go to the supplier's Telegram chat with the bot."),
            "unlinked_text": _(
                "The supplier opens the invite link (or scans the code) and presses «Start»: requests "
                "can then be sent to their Telegram."
            ),
            "invite_url": reverse("bookings:supplier_telegram_invite", args=[supplier.pk]),
            "unlink_url": reverse("bookings:supplier_telegram_unlink", args=[supplier.pk]),
        }
    }


@require(Action.CHANGE, "supplier")
@require_POST
def supplier_telegram_invite(request, pk):
    supplier = get_object_or_404(Supplier, pk=pk)
    regenerate = request.POST.get("regenerate") == "1"
    supplier_link.supplier_invite(supplier=supplier, by=request.user, regenerate=regenerate)
    if regenerate:
        messages.success(request, _("A new invite link is made; the old one no longer works."))
    return redirect(supplier.get_absolute_url() + "#telegram")


@require(Action.CHANGE, "supplier")
@require_POST
def supplier_telegram_unlink(request, pk):
    supplier = get_object_or_404(Supplier, pk=pk)
    if supplier.telegram_chat_id:
        supplier_link.supplier_unlink(supplier=supplier, by=request.user)
        messages.success(request, _("Requests no longer go to this supplier's Telegram."))
    return redirect(supplier.get_absolute_url() + "#telegram")


@require(Action.CHANGE, "driver")
@require_POST
def driver_telegram_invite(request, pk):
    driver = get_object_or_404(Driver, pk=pk)
    regenerate = request.POST.get("regenerate") == "1"
    driver_link.driver_invite(driver=driver, by=request.user, regenerate=regenerate)
    if regenerate:
        messages.success(request, _("A new invite link is made; the old one no longer works."))
    return redirect(driver.get_absolute_url() + "#telegram")


@require(Action.CHANGE, "driver")
@require_POST
def driver_telegram_unlink(request, pk):
    driver = get_object_or_404(Driver, pk=pk)
    if driver.telegram_chat_id:
        driver_link.driver_unlink(driver=driver, by=request.user)
        messages.success(request, _("Orders no longer go to this driver's Telegram."))
    return redirect(driver.get_absolute_url() + "#telegram")
