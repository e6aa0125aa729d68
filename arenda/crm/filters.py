"""The filters and search of the CRM lists: each FilterSet serves the page and the API
viewset (``arenda/api/crm.py``) alike. See ``arenda/front/filters.py``."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as df

from arenda.core.search import Search
from arenda.crm.models import Deal
from arenda.directory.models import Counterparty
from arenda.front.filters import ListFilterSet, SearchFilter


class DealFilter(ListFilterSet):
    """The deal list (``arenda/crm/views.py``, a CRUD page) and ``deals/``."""

    search = SearchFilter(Search(text=("title", "counterparty__name"), inns=("counterparty__inn",)))
    stage = df.ChoiceFilter(label=_("Stage"), choices=Deal.Stage.choices)
    counterparty = df.ModelChoiceFilter(
        label=_("Counterparty"), queryset=Counterparty.objects.order_by("name")
    )

    page_params = {"q": "search", "stage": "stage", "counterparty": "counterparty"}

    class Meta:
        model = Deal
        fields = ["stage", "counterparty", "manager", "organization"]
