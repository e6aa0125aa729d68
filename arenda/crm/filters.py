"""The filters and search of the CRM lists: each FilterSet serves the page and the API
viewset (``arenda/api/crm.py``) alike. See ``arenda/front/filters.py``."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as df
from drf_spectacular.utils import extend_schema_field

from arenda.core.models import User
from arenda.core.search import Search
from arenda.crm.models import Deal, IntakeToken, Lead
from arenda.directory.models import Counterparty
from arenda.front.filters import DateFilter, ListFilterSet, SearchFilter


class DealFilter(ListFilterSet):
    """The deal list (``arenda/crm/views.py``, a CRUD page) and ``deals/``."""

    search = SearchFilter(Search(text=("title", "counterparty__name"), inns=("counterparty__inn",)))
    stage = df.ChoiceFilter(label=_("Stage"), choices=Deal.Stage.choices)
    counterparty = df.ModelChoiceFilter(
        label=_("Counterparty"), queryset=Counterparty.objects.order_by("name")
    )

    page_params = {"q": "search", "stage": "stage", "counterparty": "counterparty"}
    page_lookups = {"counterparty": "counterparty"}

    class Meta:
        model = Deal
        fields = ["stage", "counterparty", "manager", "organization"]


@extend_schema_field(
    {"type": "string", "description": _("A manager's id, or none: the leads nobody has taken.")}
)
class ManagerFilter(df.ModelChoiceFilter):
    """A manager by id, or ``none``: nobody's."""


class LeadFilter(ListFilterSet):
    """The lead list (``arenda/crm/lead_views.py``) and ``leads/``."""

    search = SearchFilter(
        Search(text=("name", "company", "email", "message"), phones=("phone",), inns=("inn",))
    )
    status = df.ChoiceFilter(label=_("Status"), choices=Lead.Status.choices)
    source = df.ChoiceFilter(label=_("Source"), choices=Lead.Source.choices)
    manager = ManagerFilter(
        label=_("Manager"),
        queryset=User.objects.all(),
        null_value="none",
        null_label=_("Nobody's"),
    )
    created_after = DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("from"))
    created_before = DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("to"))

    page_params = {
        "q": "search",
        "source": "source",
        "manager": "manager",
        "status": "status",
        "start": "created_after",
        "end": "created_before",
    }

    class Meta:
        model = Lead
        fields = ["status", "source", "manager", "counterparty"]


class LeadBoardFilter(LeadFilter):
    """The lead board: the list's filters but the status (its columns) and the dates."""

    page_params = {"q": "search", "source": "source", "manager": "manager"}


class IntakeTokenFilter(ListFilterSet):
    """``intake-tokens/`` (the tokens page lists every token, unfiltered)."""

    search = SearchFilter(Search(text=("name", "prefix")))

    class Meta:
        model = IntakeToken
        fields = ["source", "is_active"]
