"""The filters and search of the billing lists: each FilterSet serves the page
(``arenda/billing/views.py``, ``arenda/billing/statement_views.py``) and the API viewset
(``arenda/api/billing.py``, ``arenda/api/statements.py``) alike. See
``arenda/front/filters.py``."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as df

from arenda.billing.models import BankStatement, Invoice, Payment, StatementPayment
from arenda.core.search import Search
from arenda.directory.models import Counterparty
from arenda.front.filters import DateFilter, ListFilterSet, SearchFilter


class InvoiceFilter(ListFilterSet):
    """The invoice list and ``invoices/``."""

    search = SearchFilter(
        Search(text=("number", "external_number", "counterparty__name"), inns=("counterparty__inn",))
    )
    status = df.ChoiceFilter(label=_("Status"), choices=Invoice.Status.choices)
    kind = df.ChoiceFilter(label=_("Kind"), choices=Invoice.Kind.choices)
    sync_status = df.ChoiceFilter(label=_("1C sync"), choices=Invoice.SyncStatus.choices)
    counterparty = df.ModelChoiceFilter(label=_("Counterparty"), queryset=Counterparty.objects.all())
    date_after = DateFilter(field_name="date", lookup_expr="gte")
    date_before = DateFilter(field_name="date", lookup_expr="lte")
    overdue = df.BooleanFilter(method="only_overdue", label=_("overdue"))

    page_params = {
        "q": "search",
        "status": "status",
        "kind": "kind",
        "sync_status": "sync_status",
        "counterparty": "counterparty",
        "overdue": "overdue",
    }

    class Meta:
        model = Invoice
        fields = ["status", "kind", "counterparty", "deal", "booking", "organization", "sync_status"]

    def only_overdue(self, qs, name, value):
        return qs.overdue() if value else qs


class PaymentFilter(ListFilterSet):
    """The payments list and ``payments/``."""

    search = SearchFilter(
        Search(text=("reference", "payer", "invoice__number", "invoice__counterparty__name"))
    )
    source = df.ChoiceFilter(label=_("Source"), choices=Payment.Source.choices)
    date_after = DateFilter(field_name="date", lookup_expr="gte", label=_("from"))
    date_before = DateFilter(field_name="date", lookup_expr="lte", label=_("to"))

    page_params = {"q": "search", "source": "source", "from": "date_after", "to": "date_before"}

    class Meta:
        model = Payment
        fields = ["invoice", "source", "invoice__counterparty"]


class BankStatementFilter(ListFilterSet):
    """``bank-statements/`` (the statements page lists every import, newest first)."""

    search = SearchFilter(Search(text=("file_name", "account")))

    class Meta:
        model = BankStatement
        fields: list[str] = []


class StateFilter(df.BaseInFilter, df.ChoiceFilter):
    """States, comma-separated."""


class StatementPaymentFilter(ListFilterSet):
    """``statement-payments/`` and the page of the payments waiting for the accountant (its
    «waiting» and «not ours» are two sets of states)."""

    search = SearchFilter(Search(text=("number", "payer_name", "purpose"), inns=("payer_inn",)))
    state = StateFilter(
        choices=StatementPayment.State.choices,
        help_text=_("Comma-separated: matched, ambiguous, unmatched, assigned, ignored"),
    )

    class Meta:
        model = StatementPayment
        fields = ["statement", "payer_inn"]
