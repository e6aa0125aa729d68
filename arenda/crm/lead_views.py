"""Lead pages: the board that refreshes itself, the list, the lead with its conversation
and the funnel buttons, manual entry, and the admin's intake tokens. Every write goes
through ``arenda.crm.services`` (tokens through ``arenda.crm.tokens``)."""

import hashlib
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arenda.core.permissions import require
from arenda.core.roles import Action, can
from arenda.crm import services, tokens
from arenda.crm.filters import LeadBoardFilter, LeadFilter
from arenda.crm.lead_forms import (
    AssignForm,
    IntakeTokenForm,
    LeadEntryForm,
    QualifyForm,
    RejectForm,
    ReplyForm,
    active_managers,
)
from arenda.crm.models import CHAT_FIELDS, OPEN_LEAD_STATUSES, IntakeToken, Lead
from arenda.front.history import history_entries
from arenda.front.paginator import CappedPaginator
from arenda.integrations.messaging.models import OutboxMessage

BOARD_LIMIT = 50
CLOSED_DAYS = 30
PAGE_SIZE = 50
# How fast a lead must be answered: green up to the first, amber up to the second.
RESPONSE_OK = timedelta(minutes=15)
RESPONSE_LATE = timedelta(hours=1)
BOARD_COLUMNS = [Lead.Status.NEW, Lead.Status.IN_WORK, Lead.Status.QUALIFIED, Lead.Status.JUNK]


def duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return _("%(m)s min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(d)s d") % {"d": hours // 24}


def response_badge(lead: Lead, now) -> dict | None:
    """How fast the lead was answered — or, while nobody has, how long it has waited."""
    if lead.first_response_at:
        delta = lead.first_response_at - lead.created_at
        label = _("answered in %(t)s") % {"t": duration(delta)}
    elif lead.is_open:
        delta = now - lead.created_at
        label = _("waiting %(t)s") % {"t": duration(delta)}
    else:
        return None
    level = "ok" if delta <= RESPONSE_OK else "warn" if delta <= RESPONSE_LATE else "late"
    return {"label": label, "level": level}


# --- filters shared by the board and the list -----------------------------------------------
def _filtered(request, qs, filterset_class):
    """The leads the toolbar asks for (``arenda/crm/filters.py``), and the toolbar's state."""
    filterset = filterset_class.for_page(request.GET, queryset=qs)
    state = filterset.selected()
    state["filtered"] = any(state.values())
    return filterset.qs, state


def _toolbar_context(state) -> dict:
    return {
        "f": state,
        "sources": Lead.Source.choices,
        "statuses": Lead.Status.choices,
        "managers": [(str(u.pk), u.get_full_name()) for u in active_managers()],
    }


def _render(request, template, context, status=200):
    """A lead page: the sub-navigation shows what the role may open."""
    user = request.user
    context |= {
        "can_add": can(user, Action.ADD, "lead"),
        "can_tokens": can(user, Action.VIEW, "intake_token"),
    }
    return render(request, template, context, status=status)


def _decorate(leads, now):
    for lead in leads:
        lead.badge = response_badge(lead, now)
        lead.age = duration(now - lead.created_at) if now - lead.created_at >= timedelta(minutes=1) else ""
    return leads


# --- the board and the list -------------------------------------------------------------------
def _board_stamp() -> str:
    """Changes whenever a lead is made, saved or gets a message."""
    seen = Lead.objects.aggregate(n=Count("pk"), saved=Max("updated_at"), message=Max("last_message_at"))
    return hashlib.sha256(repr(sorted(seen.items())).encode()).hexdigest()[:16]


@require(Action.VIEW, "lead")
def lead_board(request):
    """Four columns; qualified and junk show the last 30 days. An open board asks every
    second whether anything changed (one aggregate query) and reloads its columns when it
    did — and every 15 s anyway, to keep the ages and waiting times current."""
    now = timezone.now()
    recent = Q(status__in=OPEN_LEAD_STATUSES) | Q(updated_at__gte=now - timedelta(days=CLOSED_DAYS))
    qs, state = _filtered(request, Lead.objects.filter(recent), LeadBoardFilter)
    counts = dict(qs.order_by().values_list("status").annotate(n=Count("pk")))
    order = {
        Lead.Status.NEW: ("-created_at", "-pk"),
        Lead.Status.IN_WORK: ("-last_message_at", "-pk"),
        Lead.Status.QUALIFIED: ("-updated_at", "-pk"),
        Lead.Status.JUNK: ("-updated_at", "-pk"),
    }
    columns = [
        {
            "status": status,
            "label": Lead.Status(status).label,
            "count": counts.get(status, 0),
            "closed": status not in OPEN_LEAD_STATUSES,
            "cards": _decorate(
                list(
                    qs.filter(status=status).select_related("manager").order_by(*order[status])[:BOARD_LIMIT]
                ),
                now,
            ),
        }
        for status in BOARD_COLUMNS
    ]
    context = {
        "columns": columns,
        "limit": BOARD_LIMIT,
        "closed_days": CLOSED_DAYS,
        "stamp": _board_stamp(),
        **_toolbar_context(state),
    }
    template = "crm/lead_board.html"
    if request.htmx and not request.htmx.boosted:
        template += "#columns"
    return _render(request, template, context)


@require(Action.VIEW, "lead")
def lead_board_changes(request):
    """204 while nothing changed since the board's stamp; otherwise a poller with the new
    stamp and the ``leads-changed`` event, on which the columns reload."""
    stamp = _board_stamp()
    if request.GET.get("since") == stamp:
        return HttpResponse(status=204)
    response = render(request, "crm/lead_board.html#poll", {"stamp": stamp})
    response["HX-Trigger"] = "leads-changed"
    return response


@require(Action.VIEW, "lead")
def lead_list(request):
    qs, state = _filtered(
        request,
        Lead.objects.select_related("manager", "counterparty").order_by("-created_at", "-pk"),
        LeadFilter,
    )
    page_obj = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    _decorate(page_obj.object_list, timezone.now())
    context = {"page_obj": page_obj, **_toolbar_context(state)}
    template = "crm/lead_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return _render(request, template, context)


# --- one lead ---------------------------------------------------------------------------------


def _render_detail(request, pk, *, forms=None, refused: str = "", status: int = 200):
    lead = get_object_or_404(Lead.objects.select_related("manager", "counterparty", "contact", "deal"), pk=pk)
    user = request.user
    may_change = can(user, Action.CHANGE, "lead") and lead.is_open
    delivery_labels = dict(OutboxMessage.Status.choices)
    conversation = list(lead.messages.select_related("author").order_by("created_at", "pk"))
    for entry in conversation:
        entry.delivery_label = delivery_labels.get(entry.delivery_status, entry.delivery_status)
    forms = forms or {}
    context = {
        "lead": lead,
        "conversation": conversation,
        "badge": response_badge(lead, timezone.now()),
        "response_time": duration(lead.response_time) if lead.response_time is not None else "",
        "refused": refused,
        "actions": {
            "take": may_change and (lead.status == Lead.Status.NEW or lead.manager_id is None),
            "reply": may_change,
            "assign": may_change,
            "qualify": may_change and can(user, Action.ADD, "deal"),
            "reject": may_change,
        },
        "reply_form": forms.get("reply") or ReplyForm(channels=services.reply_channels(lead)),
        "chats": [
            {"channel": channel, "label": Lead.Source(channel).label, "id": getattr(lead, field)}
            for channel, field in CHAT_FIELDS.items()
            if getattr(lead, field)
        ],
        "reject_form": forms.get("reject") or RejectForm(),
        "assign_form": forms.get("assign") or AssignForm(initial={"manager": lead.manager_id}),
        "qualify_form": forms.get("qualify") or QualifyForm(initial={"counterparty": lead.counterparty_id}),
        "history": history_entries(lead),
    }
    return _render(request, "crm/lead_detail.html", context, status=status)


@require(Action.VIEW, "lead")
def lead_detail(request, pk):
    return _render_detail(request, pk)


def _act(request, pk, form_name, form, call, done):
    """Run a funnel action from a lead page form: errors go back onto the page (400), a
    move the funnel refuses is explained (409), success returns to where it leads."""
    lead = get_object_or_404(Lead, pk=pk)
    if form is not None and not form.is_valid():
        return _render_detail(request, pk, forms={form_name: form}, status=400)
    try:
        target = call(lead, form.cleaned_data if form is not None else {})
    except ValidationError as exc:
        if form is None:
            return _render_detail(request, pk, refused=" ".join(exc.messages), status=400)
        form.add_service_error(exc)
        return _render_detail(request, pk, forms={form_name: form}, status=400)
    except services.FunnelRefused as exc:
        return _render_detail(request, pk, refused=exc.detail, status=409)
    messages.success(request, done(target) if callable(done) else done)
    return redirect(target.get_absolute_url() if hasattr(target, "get_absolute_url") else lead)


@require(Action.CHANGE, "lead")
@require_POST
def lead_take(request, pk):
    return _act(
        request,
        pk,
        None,
        None,
        lambda lead, _data: services.lead_take(lead=lead, by=request.user),
        _("The lead is in work."),
    )


@require(Action.CHANGE, "lead")
@require_POST
def lead_assign(request, pk):
    def call(lead, data):
        return services.lead_assign(lead=lead, manager=data["manager"], by=request.user)

    return _act(
        request,
        pk,
        "assign",
        AssignForm(request.POST),
        call,
        lambda lead: (
            _("The lead is assigned to %(name)s.") % {"name": lead.manager.get_full_name()}
            if lead.manager
            else _("The lead has no manager now.")
        ),
    )


@require(Action.CHANGE, "lead")
@require_POST
def lead_reply(request, pk):
    def call(lead, data):
        services.lead_reply(lead=lead, text=data["text"], by=request.user, channel=data.get("channel") or "")
        return lead

    lead = get_object_or_404(Lead, pk=pk)
    form = ReplyForm(request.POST, channels=services.reply_channels(lead))
    return _act(request, pk, "reply", form, call, _("The reply is recorded."))


@require(Action.CHANGE, "lead")
@require_POST
def lead_reject(request, pk):
    def call(lead, data):
        return services.lead_reject(lead=lead, reason=data["reason"], by=request.user)

    return _act(request, pk, "reject", RejectForm(request.POST), call, _("The lead is marked as junk."))


@require(Action.CHANGE, "lead")
@require_POST
def lead_qualify(request, pk):
    if not can(request.user, Action.ADD, "deal"):
        raise PermissionDenied

    def call(lead, data):
        result = services.lead_qualify(
            lead=lead, by=request.user, counterparty=data["counterparty"], title=data["title"]
        )
        return result.deal

    return _act(
        request,
        pk,
        "qualify",
        QualifyForm(request.POST),
        call,
        lambda deal: _("The lead is qualified: the deal «%(deal)s».") % {"deal": deal},
    )


# --- manual entry -----------------------------------------------------------------------------
@require(Action.ADD, "lead")
@require_http_methods(["GET", "POST"])
def lead_create(request):
    form = LeadEntryForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            intake = services.intake_receive(**form.cleaned_data, by=request.user)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            if intake.created:
                messages.success(request, _("Lead %(lead)s created.") % {"lead": intake.lead})
            else:
                messages.warning(
                    request,
                    _("This contact already has an open lead — the request is added to it."),
                )
            return redirect(intake.lead)
    return _render(request, "crm/lead_form.html", {"form": form})


# --- intake tokens ----------------------------------------------------------------------------
@require(Action.VIEW, "intake_token")
@require_http_methods(["GET", "POST"])
def intake_tokens(request):
    """The secrets websites and PBXs send. A new token is shown in the answer to the POST
    that made it — once: only its hash is kept."""
    form = IntakeTokenForm(request.POST if request.method == "POST" else None)
    plain = created = None
    if request.method == "POST":
        if not can(request.user, Action.ADD, "intake_token"):
            raise PermissionDenied
        if form.is_valid():
            created, plain = tokens.intake_token_create(
                name=form.cleaned_data["name"], source=form.cleaned_data["source"], by=request.user
            )
            form = IntakeTokenForm()
    context = {
        "form": form,
        "tokens": IntakeToken.objects.order_by("-is_active", "-created_at"),
        "plain": plain,
        "created": created,
        "sources": Lead.Source.values,
        "can_change": can(request.user, Action.CHANGE, "intake_token"),
    }
    return _render(request, "crm/intake_tokens.html", context)


@require(Action.CHANGE, "intake_token")
@require_POST
def intake_token_revoke(request, pk):
    token = get_object_or_404(IntakeToken, pk=pk)
    tokens.intake_token_revoke(token=token, by=request.user)
    messages.success(
        request, _("The token %(name)s is revoked: requests with it are refused.") % {"name": token}
    )
    return redirect("crm:intake_tokens")
