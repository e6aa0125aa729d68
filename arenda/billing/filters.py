"""The filters and search of the billing lists: each FilterSet serves the page
(``arenda/billing/views.py``, ``arenda/billing/statement_views.py``) and the API viewset
(``arenda/api/billing.py``, ``arenda/api/statements.py``) alike. See
``arenda/front/filters.py``."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as df
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from arenda.billing.models import Act, BankStatement, Invoice, Payment, StatementPayment
from arenda.bookings.models import Booking
from arenda.core.search import Search
from arenda.directory.models import Counterparty, Organization
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
    page_lookups = {"counterparty": "counterparty"}

    class Meta:
        model = Invoice
        fields = ["status", "kind", "counterparty", "deal", "booking", "organization", "sync_status"]

    def only_overdue(self, qs, name, value):
        return qs.overdue() if value else qs


@extend_schema_field(OpenApiTypes.INT)
class BookingIdFilter(df.ModelChoiceFilter):
    """A booking by its id (an unknown one: 400 naming the parameter)."""


class ActFilter(ListFilterSet):
    """The closing documents' list and ``acts/`` (``arenda/billing/act_views.py``,
    ``arenda/api/acts.py``)."""

    search = SearchFilter(
        Search(text=("number", "external_number", "counterparty__name"), inns=("counterparty__inn",))
    )
    status = df.ChoiceFilter(label=_("Status"), choices=Act.Status.choices)
    form = df.ChoiceFilter(label=_("Form"), choices=Act.Form.choices)
    sync_status = df.ChoiceFilter(label=_("1C sync"), choices=Act.SyncStatus.choices)
    counterparty = df.ModelChoiceFilter(label=_("Counterparty"), queryset=Counterparty.objects.all())
    organization = df.ModelChoiceFilter(label=_("Our legal entity"), queryset=Organization.objects.all())
    booking = BookingIdFilter(
        queryset=Booking.objects.all(), method="closing_booking", label=_("Closes or corrects the booking")
    )
    date_after = DateFilter(field_name="date", lookup_expr="gte", label=_("dated from"))
    date_before = DateFilter(field_name="date", lookup_expr="lte", label=_("dated to"))
    # The service period overlaps [period_from, period_to] (drafts have no date yet).
    period_from = DateFilter(field_name="period_end", lookup_expr="gte", label=_("period from"))
    period_to = DateFilter(field_name="period_start", lookup_expr="lte", label=_("period to"))
    not_signed = df.BooleanFilter(method="only_not_signed", label=_("issued, not signed yet"))

    page_params = {
        "q": "search",
        "status": "status",
        "form": "form",
        "counterparty": "counterparty",
        "organization": "organization",
        "sync_status": "sync_status",
        "from": "period_from",
        "to": "period_to",
        "not_signed": "not_signed",
    }
    page_lookups = {"counterparty": "counterparty"}

    class Meta:
        model = Act
        fields = ["status", "form", "counterparty", "organization", "deal", "sync_status"]

    def closing_booking(self, qs, name, value):
        if value is None:
            return qs
        return qs.filter(Q(booking_links__booking=value) | Q(lines__booking=value)).distinct()

    def only_not_signed(self, qs, name, value):
        if value is None:
            return qs
        waiting = Q(status__in=[Act.Status.ISSUED, Act.Status.SENT])
        return qs.filter(waiting) if value else qs.exclude(waiting)


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
