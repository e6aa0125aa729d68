"""Deal pages — the simplest honest form until the deal funnel (issue 4): list, detail
with the deal's bookings, create and edit. Writes go through the record services."""

from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from arenda.core import ui
from arenda.core.permissions import require
from arenda.core.roles import Action, can
from arenda.core.services import record_create, record_delete, record_update
from arenda.crm.forms import DealForm
from arenda.crm.models import Deal
from arenda.directory.models import Counterparty


class DealPage(ui.Page):
    def url(self, kind: str, *args) -> str:
        return reverse(f"crm:{self.resource}_{kind}", args=args)


PAGE = DealPage(
    model=Deal,
    resource="deal",
    slug="",
    form=DealForm,
    columns=["title", "counterparty", "stage", "manager", "organization", "created_at"],
    search=["title", "counterparty__name", "counterparty__inn"],
    filters=[
        ui.Filter("stage", gettext_lazy("Stage"), "stage", ui.field_choices(Deal, "stage")),
        ui.Filter(
            "counterparty",
            gettext_lazy("Counterparty"),
            "counterparty_id",
            ui.model_choices(lambda: Counterparty.objects.order_by("name")),
        ),
    ],
    select_related=("counterparty", "manager", "organization", "contact"),
    services=(
        lambda *, by, **data: record_create(Deal, data=data, by=by),
        lambda *, instance, by, **data: record_update(instance, data=data, by=by),
        lambda *, instance, by: record_delete(instance, by=by),
    ),
)


@require(Action.VIEW, "deal")
def deal_list(request):
    return ui.list_view(request, PAGE)


@require(Action.ADD, "deal")
def deal_create(request):
    return ui.form_view(request, PAGE)


@require(Action.CHANGE, "deal")
def deal_update(request, pk):
    return ui.form_view(request, PAGE, pk)


@require(Action.VIEW, "deal")
def deal_detail(request, pk):
    deal = get_object_or_404(PAGE.queryset(), pk=pk)
    bookings = None
    if can(request.user, Action.VIEW, "booking"):
        bookings = list(
            deal.bookings.select_related(
                "equipment_type", "unit", "driver", "supply_order__supplier"
            ).order_by("start", "pk")
        )
    return render(
        request,
        "crm/deal_detail.html",
        {
            "obj": deal,
            "page": PAGE,
            "fields": ui.detail_fields(deal, DealForm),
            "history": ui.history_entries(deal),
            "bookings": bookings,
            "can_change": can(request.user, Action.CHANGE, "deal"),
            "can_add_booking": can(request.user, Action.ADD, "booking"),
        },
    )
