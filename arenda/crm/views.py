"""Deal pages: the kanban board and the list, the deal page with its lines, totals, bookings
and timeline, the КП. Every write goes through ``arenda.crm.services``; a move the funnel
refuses comes back in words (HTMX gets the board or the section again, with the reason)."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arenda.billing.selectors import acts_of_deal, invoices_of_deal
from arenda.core.formats import format_value
from arenda.core.money import product_kopecks, rubles
from arenda.core.permissions import require
from arenda.core.roles import Action, can
from arenda.crm import services
from arenda.crm.filters import DealFilter
from arenda.crm.forms import BoardFilterForm, CommentForm, DealForm, DealLineForm, LostForm, ProposalForm
from arenda.crm.models import Deal, DealLine, LeadMessage
from arenda.crm.proposal import (
    organization_for,
    proposal_filename,
    proposal_state,
    render_proposal_pdf,
    totals,
    valid_until,
)
from arenda.crm.services import DEAL_MOVES, FunnelRefused
from arenda.flows import deals
from arenda.front import crud
from arenda.front.history import history_entries

S = Deal.Stage
BOARD_LIMIT = 50
CLOSED_DAYS = 30
TIMELINE_LIMIT = 100


PAGE = crud.Page(
    namespace="crm",
    model=Deal,
    resource="deal",
    slug="",
    form=DealForm,
    columns=["title", "counterparty", "stage", "manager", "organization", "created_at"],
    filterset=DealFilter,
    select_related=("counterparty", "manager", "organization", "contact"),
    services=(
        services.deal_create,
        deals.deal_update,
        None,
    ),
)


def _next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


# --- the list and the board -------------------------------------------------------------
@require(Action.VIEW, "deal")
def deal_list(request):
    return crud.list_view(request, PAGE, template="crm/deal_list.html")


@require(Action.ADD, "deal")
def deal_create(request):
    return crud.form_view(request, PAGE)


@require(Action.CHANGE, "deal")
def deal_update(request, pk):
    return crud.form_view(request, PAGE, pk)


def line_amount_kopecks(prefix: str = ""):
    """A line's amount in kopecks, each part rounded half-up as ``DealLine.amount`` does."""
    return ExpressionWrapper(
        product_kopecks(F(f"{prefix}ordered_hours"), F(f"{prefix}rate_per_hour"))
        + product_kopecks(F(f"{prefix}km"), F(f"{prefix}rate_per_km")),
        output_field=BigIntegerField(),
    )


def short_name(full_name: str) -> str:
    """«Смирнова Ольга Викторовна» → «Смирнова О. В.»: a card is narrow."""
    surname, *given = full_name.split() or [""]
    return " ".join([surname, *(f"{name[0]}." for name in given[:2])])


def _board_queryset(request):
    """Deals the board shows: the filters from the URL; won and lost only of the last days."""
    form = BoardFilterForm(request.GET)
    qs = Deal.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["manager"]:
            qs = qs.filter(manager=data["manager"])
        if data["counterparty"]:
            qs = qs.filter(counterparty=data["counterparty"])
        if data["created_from"]:
            qs = qs.filter(created_at__date__gte=data["created_from"])
        if data["created_to"]:
            qs = qs.filter(created_at__date__lte=data["created_to"])
    cutoff = timezone.now() - timedelta(days=CLOSED_DAYS)
    qs = qs.filter(~Q(stage__in=Deal.CLOSED_STAGES) | Q(updated_at__gte=cutoff))
    return form, qs


def _board_context(request, refusal: dict | None = None) -> dict:
    form, qs = _board_queryset(request)
    sums = {
        row["stage"]: row
        for row in qs.order_by()
        .values("stage")
        .annotate(n=Count("pk", distinct=True), kop=Coalesce(Sum(line_amount_kopecks("lines__")), 0))
    }
    can_change = can(request.user, Action.CHANGE, "deal")
    columns = []
    for stage in S:
        cards = list(
            qs.filter(stage=stage)
            .select_related("counterparty", "manager")
            .annotate(kop=Coalesce(Sum(line_amount_kopecks("lines__")), 0), n_lines=Count("lines"))
            .order_by("-updated_at", "-pk")[:BOARD_LIMIT]
        )
        for deal in cards:
            deal.total = rubles(deal.kop)
            deal.age = timesince(deal.created_at, depth=1)
            deal.manager_name = short_name(deal.manager.get_full_name()) if deal.manager else ""
            deal.moves = [s for s in S if s in DEAL_MOVES[deal.stage]] if can_change else []
        row = sums.get(stage.value, {})
        columns.append(
            {
                "stage": stage.value,
                "label": stage.label,
                "cards": cards,
                "count": row.get("n", 0),
                "total": rubles(row.get("kop")),
                "closed": stage in Deal.CLOSED_STAGES,
            }
        )
    query = request.GET.urlencode()
    return {
        "columns": columns,
        "filter_form": form,
        "filtered": any(request.GET.get(name) for name in form.fields),
        "query": f"?{query}" if query else "",
        "can_change": can_change,
        "can_add": can(request.user, Action.ADD, "deal"),
        "limit": BOARD_LIMIT,
        "closed_days": CLOSED_DAYS,
        "refusal": refusal,
    }


@require(Action.VIEW, "deal")
def deal_board(request):
    template = "crm/deal_board.html"
    if request.htmx and not request.htmx.boosted:
        template += "#board"
    return render(request, template, _board_context(request))


@require(Action.CHANGE, "deal")
@require_POST
def deal_move(request, pk):
    """One move, from the board (drag-and-drop or the card's select) or the deal page."""
    deal = get_object_or_404(Deal, pk=pk)
    stage, reason = request.POST.get("stage", ""), request.POST.get("reason", "")
    refusal = None
    try:
        deals.deal_move(deal=deal, stage=stage, by=request.user, reason=reason)
    except FunnelRefused as exc:
        refusal = {"detail": exc.detail}
    except ValidationError as exc:
        refusal = {"detail": " ".join(exc.messages)}
        if "lost_reason" in getattr(exc, "error_dict", {}):
            refusal.update(need_reason=True, form=LostForm(), stage=stage)
    if refusal is not None:
        refusal["deal"] = deal
    if request.htmx and request.POST.get("from") == "board":
        return render(request, "crm/deal_board.html#board", _board_context(request, refusal))
    if refusal is not None:
        messages.error(request, refusal["detail"])
    else:
        deal.refresh_from_db()
        messages.success(
            request,
            _("«%(deal)s» is now at «%(stage)s».") % {"deal": deal, "stage": deal.get_stage_display()},
        )
    return redirect(_next(request, deal.get_absolute_url()))


# --- the deal page ----------------------------------------------------------------------
def _line_history(deal: Deal) -> list[dict]:
    """Every change of the deal's lines (deleted ones too), as the deal's history shows them."""
    records = list(
        DealLine.history.filter(deal_id=deal.pk)
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")[: TIMELINE_LIMIT * 2]
    )
    type_ids = {r.equipment_type_id for r in records}
    type_field = DealLine._meta.get_field("equipment_type")
    names = {pk: str(o) for pk, o in type_field.related_model.objects.in_bulk(type_ids).items()}
    entries, previous = [], None
    for record in records:
        older = previous if previous is not None and previous.id == record.id else None
        changes = []
        if record.history_type == "~" and older is not None:
            delta = record.diff_against(older, excluded_fields=["created_at", "updated_at", "deal"])
            for change in delta.changes:
                model_field = DealLine._meta.get_field(change.field)
                lookup = names if model_field.is_relation else None
                changes.append(
                    {
                        "label": model_field.verbose_name,
                        "old": format_value(model_field, change.old, lookup),
                        "new": format_value(model_field, change.new, lookup),
                    }
                )
        previous = record
        if record.history_type == "~" and not changes:
            continue
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "kind": record.history_type,
                "kind_label": record.get_history_type_display(),
                "subject": _("line %(n)s: %(what)s")
                % {"n": record.position, "what": names.get(record.equipment_type_id, "")},
                "changes": changes,
            }
        )
    return entries


def _timeline(deal: Deal) -> list[dict]:
    items = [
        {"kind": "comment", "when": c.created_at, "who": c.author, "text": c.text}
        for c in deal.comments.select_related("author").order_by("-created_at")[:TIMELINE_LIMIT]
    ]
    items += [
        {**entry, "subject": _("deal")}
        for entry in history_entries(deal)
        if entry["changes"] or entry["kind"] != "~"
    ]
    items += [
        {"kind": "customer", "when": r.created_at, "who": None, "label": r.get_kind_display(), "text": r.text}
        for r in deal.proposal_responses.order_by("-created_at", "-id")[:TIMELINE_LIMIT]
    ]
    items += [
        {
            "kind": "customer" if m.direction == LeadMessage.Direction.IN else "reply",
            "when": m.created_at,
            "who": m.author,
            "label": m.get_channel_display(),
            "text": m.text,
        }
        for m in LeadMessage.objects.filter(lead__deal=deal)
        .select_related("author")
        .order_by("-created_at", "-pk")[:TIMELINE_LIMIT]
    ]
    items += _line_history(deal)
    items.sort(key=lambda item: item["when"], reverse=True)
    return items[:TIMELINE_LIMIT]


def _lines_context(request, deal: Deal, form=None, editing=None, error: str = "") -> dict:
    lines = list(deal.lines.select_related("equipment_type"))
    organization, guessed = organization_for(deal)
    can_change = can(request.user, Action.CHANGE, "deal")
    if can_change and deal.is_editable() and form is None:
        form = DealLineForm(instance=editing, user=request.user)
        if editing is None and lines:
            last = lines[-1]
            form.initial.update(site_address=last.site_address, start=last.start, end=last.end)
    return {
        "deal": deal,
        "lines": lines,
        "totals": totals(lines, organization.vat_rate if organization else None),
        "org": organization,
        "org_guessed": guessed,
        "line_form": form if can_change and deal.is_editable() else None,
        "editing": editing,
        "lines_editable": can_change and deal.is_editable(),
        "lines_error": error,
    }


def _deal(pk):
    return get_object_or_404(PAGE.queryset(), pk=pk)


def _detail_context(request, deal: Deal, **extra) -> dict:
    can_change = can(request.user, Action.CHANGE, "deal")
    bookings = None
    if can(request.user, Action.VIEW, "booking"):
        bookings = list(
            deal.bookings.select_related(
                "equipment_type", "unit", "driver", "supply_order__supplier"
            ).order_by("start", "pk")
        )
    invoices = invoices_of_deal(deal) if can(request.user, Action.VIEW, "invoice") else None
    # its acts and their signatures: the deal closes on paper too
    acts = acts_of_deal(deal) if can(request.user, Action.VIEW, "invoice") else None
    moves = [s for s in S if s in DEAL_MOVES[deal.stage] and s not in (S.AGREED, S.LOST)]
    token_url = (
        request.build_absolute_uri(reverse("proposal:page", args=[deal.proposal_token]))
        if deal.proposal_token
        else ""
    )
    context = {
        "obj": deal,
        "deal": deal,
        "page": PAGE,
        "bookings": bookings,
        "invoices": invoices,
        "acts": acts,
        "can_add_invoice": can(request.user, Action.ADD, "invoice"),
        "can_change": can_change,
        "can_add_booking": can(request.user, Action.ADD, "booking"),
        "moves": moves if can_change else [],
        "can_lose": can_change and S.LOST in DEAL_MOVES[deal.stage],
        "can_agree": can_change and deal.is_editable(),
        "lost_form": LostForm(),
        "timeline": _timeline(deal),
        "comment_form": CommentForm() if can_change else None,
        "proposal_form": ProposalForm(initial={"proposal_valid_until": valid_until(deal)}),
        "valid_until": valid_until(deal),
        "public_url": token_url,
        "proposal_state": proposal_state(deal),
        **_lines_context(request, deal),
    }
    context.update(extra)
    return context


@require(Action.VIEW, "deal")
def deal_detail(request, pk):
    deal = _deal(pk)
    return render(request, "crm/deal_detail.html", _detail_context(request, deal))


def _lines_response(request, deal: Deal, **kwargs):
    context = _lines_context(request, deal, **kwargs)
    if request.htmx:
        # the «Mark as agreed» button in the page head goes along, out of band (crm/_deal_agree.html)
        context["agree_oob"] = True
        context["can_agree"] = can(request.user, Action.CHANGE, "deal") and deal.is_editable()
        return render(request, "crm/_deal_lines.html", context)
    extra = {key: value for key, value in context.items() if key != "deal"}
    return render(request, "crm/deal_detail.html", _detail_context(request, deal, **extra))


@require(Action.CHANGE, "deal")
@require_POST
def deal_line_add(request, pk):
    deal = _deal(pk)
    form = DealLineForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.deal_line_add(deal=deal, by=request.user, **form.service_data())
        except FunnelRefused as exc:
            return _lines_response(request, deal, error=exc.detail)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            if not request.htmx:
                return redirect(f"{deal.get_absolute_url()}#lines")
            return _lines_response(request, deal)
    return _lines_response(request, deal, form=form)


@require(Action.CHANGE, "deal")
@require_http_methods(["GET", "POST"])
def deal_line_edit(request, pk, line_pk):
    deal = _deal(pk)
    line = get_object_or_404(DealLine, pk=line_pk, deal=deal)
    if request.method == "GET":
        return _lines_response(request, deal, editing=line)
    form = DealLineForm(request.POST, instance=line, user=request.user)
    if form.is_valid():
        try:
            services.deal_line_update(
                line=DealLine.objects.get(pk=line.pk), by=request.user, **form.service_data()
            )
        except FunnelRefused as exc:
            return _lines_response(request, deal, error=exc.detail)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            if not request.htmx:
                return redirect(f"{deal.get_absolute_url()}#lines")
            return _lines_response(request, deal)
    return _lines_response(request, deal, form=form, editing=line)


@require(Action.CHANGE, "deal")
@require_POST
def deal_line_delete(request, pk, line_pk):
    deal = _deal(pk)
    line = get_object_or_404(DealLine, pk=line_pk, deal=deal)
    try:
        services.deal_line_delete(line=line, by=request.user)
    except FunnelRefused as exc:
        return _lines_response(request, deal, error=exc.detail)
    if not request.htmx:
        return redirect(f"{deal.get_absolute_url()}#lines")
    return _lines_response(request, deal)


@require(Action.CHANGE, "deal")
@require_POST
def deal_comment(request, pk):
    deal = _deal(pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        services.deal_comment_add(deal=deal, text=form.cleaned_data["text"], by=request.user)
        form = CommentForm()
    context = {"deal": deal, "timeline": _timeline(deal), "comment_form": form}
    if request.htmx:
        return render(request, "crm/_deal_timeline.html", context)
    if form.is_bound:  # the comment was refused: the page again, with its error
        extra = {key: value for key, value in context.items() if key != "deal"}
        return render(request, "crm/deal_detail.html", _detail_context(request, deal, **extra), status=400)
    return redirect(f"{deal.get_absolute_url()}#timeline")


@require(Action.CHANGE, "deal")
@require_POST
def deal_agree(request, pk):
    """The manager marks the КП agreed: draft bookings, one per line."""
    deal = _deal(pk)
    try:
        deal = deals.deal_agree(deal=deal, by=request.user)
    except FunnelRefused as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            _("The proposal is agreed: %(n)s draft bookings are in the deal.") % {"n": deal.bookings.count()},
        )
    return redirect(deal.get_absolute_url())


# --- the КП -----------------------------------------------------------------------------
@require(Action.VIEW, "deal")
def deal_proposal_pdf(request, pk):
    deal = _deal(pk)
    response = HttpResponse(render_proposal_pdf(deal), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{proposal_filename(deal)}"'
    return response


@require(Action.CHANGE, "deal")
@require_POST
def deal_proposal(request, pk):
    """The КП's validity date and the customer's link (made on first use)."""
    deal = _deal(pk)
    if "valid" in request.POST:
        form = ProposalForm(request.POST)
        if form.is_valid():
            deals.deal_update(
                instance=deal, by=request.user, proposal_valid_until=form.cleaned_data["proposal_valid_until"]
            )
            messages.success(request, _("The proposal's validity date is saved."))
        else:
            messages.error(request, " ".join(form.errors.get("proposal_valid_until", [])))
    else:
        services.proposal_token_for(deal)
        messages.success(request, _("The customer's link is ready: copy it and send it."))
    return redirect(f"{deal.get_absolute_url()}#proposal")
