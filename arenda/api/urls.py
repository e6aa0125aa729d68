from django.urls import include, path
from rest_framework.routers import DefaultRouter

from arenda.api import (
    act_documents,
    acts,
    billing,
    bookings,
    crm,
    documents,
    reconciliation,
    reports,
    search,
    statements,
    views,
    waybills,
)
from arenda.bookings.feeds import calendar_feed


class Router(DefaultRouter):
    """Ids are integers: anything else in an id's place answers 404 on every route of a
    viewset, its custom actions included (they would otherwise look the id up and fail)."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        lookup_field = getattr(viewset, "lookup_field", "pk")
        lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
        lookup_value = getattr(viewset, "lookup_value_regex", "[0-9]+")
        return f"(?P<{lookup_prefix}{lookup_url_kwarg}>{lookup_value})"


router = Router()
router.register("users", views.UserViewSet, basename="user")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("accounting-bases", views.AccountingBaseViewSet, basename="accounting-base")
router.register("counterparties", views.CounterpartyViewSet, basename="counterparty")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("equipment-types", views.EquipmentTypeViewSet, basename="equipment-type")
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("units", views.UnitViewSet, basename="unit")
router.register("drivers", views.DriverViewSet, basename="driver")
router.register("leads", crm.LeadViewSet, basename="lead")
router.register("deals", crm.DealViewSet, basename="deal")
router.register("intake-tokens", crm.IntakeTokenViewSet, basename="intake-token")
router.register("bookings", bookings.BookingViewSet, basename="booking")
router.register("calendar-feeds", bookings.CalendarFeedViewSet, basename="calendar-feeds")
router.register("supply-orders", bookings.SupplyOrderViewSet, basename="supply-order")
router.register("waybills", waybills.WaybillViewSet, basename="waybill")
router.register("invoices", billing.InvoiceViewSet, basename="invoice")
router.register("payments", billing.PaymentViewSet, basename="payment")
router.register("acts", acts.ActViewSet, basename="act")
router.register("bank-statements", statements.BankStatementViewSet, basename="bank-statement")
router.register("statement-payments", statements.StatementPaymentViewSet, basename="statement-payment")

# The router has no nesting; maintenance windows live under their unit.
maintenance_list = views.MaintenanceWindowViewSet.as_view({"get": "list", "post": "create"})
maintenance_detail = views.MaintenanceWindowViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
driver_documents = documents.DriverDocumentViewSet.as_view({"get": "list", "post": "create"})
driver_document = documents.DriverDocumentViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)
driver_document_scan = documents.DriverDocumentViewSet.as_view({"get": "scan"})
deal_lines = crm.DealLineViewSet.as_view({"get": "list", "post": "create"})
deal_line = crm.DealLineViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

app_name = "api"
urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("me/", views.MeView.as_view(), name="me"),
    path("calendar/<str:token>.ics", calendar_feed, name="calendar-feed"),
    path("availability/", bookings.AvailabilityView.as_view(), name="availability"),
    path("search/", search.SearchView.as_view(), name="search"),
    path("units/<int:unit_id>/maintenance/", maintenance_list, name="maintenance-list"),
    path("units/<int:unit_id>/maintenance/<int:pk>/", maintenance_detail, name="maintenance-detail"),
    path("drivers/<int:driver_id>/documents/", driver_documents, name="driver-document-list"),
    path("drivers/<int:driver_id>/documents/<int:pk>/", driver_document, name="driver-document-detail"),
    path(
        "drivers/<int:driver_id>/documents/<int:pk>/scan/", driver_document_scan, name="driver-document-scan"
    ),
    path("intake/<str:source>/", crm.IntakeView.as_view(), name="intake"),
    path("deals/<int:deal_id>/lines/", deal_lines, name="deal-line-list"),
    path("deals/<int:deal_id>/lines/<int:pk>/", deal_line, name="deal-line-detail"),
    path("deals/<int:pk>/proposal.pdf", crm.DealProposalView.as_view(), name="deal-proposal"),
    path(
        "supply-orders/<int:pk>/request.pdf",
        bookings.SupplyRequestPdfView.as_view(),
        name="supply-order-request-pdf",
    ),
    # Before the acts viewset's routes (arenda/api/acts.py), which would otherwise claim it.
    path("acts/<int:pk>/pdf/", act_documents.ActPdfView.as_view(), name="act-pdf"),
    path("reports/driver-payroll/", reports.DriverPayrollView.as_view(), name="report-driver-payroll"),
    path("reports/plates/", reports.PlatesView.as_view(), name="report-plates"),
    path("reports/receivables/", reports.ReceivablesView.as_view(), name="report-receivables"),
    path("reports/fleet/", reports.FleetView.as_view(), name="report-fleet"),
    path(
        "counterparties/<int:pk>/reconciliation/",
        reconciliation.ReconciliationView.as_view(),
        name="counterparty-reconciliation",
    ),
    path("bookings/<int:id>/act/", acts.BookingActView.as_view(), name="booking-act"),
    path("", include(router.urls)),
]
