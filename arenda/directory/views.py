"""Reference-data pages: each resource is described once as a ``crud.Page``; the generic
views in ``front.crud`` serve its list, detail, form and delete pages. Maintenance windows
live on the unit's page."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from arenda.billing.act_views import counterparty_acts_context
from arenda.billing.selectors import counterparty_debt, open_invoices
from arenda.bookings.dispatch_views import driver_telegram_context, supplier_telegram_context
from arenda.core.files import file_response, stored_scan
from arenda.core.permissions import require
from arenda.core.roles import Action, Role, can, can_change_pay, can_see_pay, hidden_pay_fields, role_of
from arenda.directory import filters, forms
from arenda.directory import models as m
from arenda.directory.selectors import EXPIRY_NOTICE_DAYS
from arenda.directory.services import SERVICES, driver_pay_rate_add, equipment_type_set_requirements
from arenda.front import crud
from arenda.front.forms import validate_field_response
from arenda.integrations.telematics import providers as telematics_providers
from arenda.integrations.telematics.base import TelematicsError


def _page(model, form, **kwargs) -> crud.Page:
    return crud.Page(model=model, form=form, services=SERVICES[model], namespace="directory", **kwargs)


def _maintenance_context(request, unit, form=None) -> dict:
    tracker = {"tracker_unit": unit, "tracker_may_test": role_of(request.user) == Role.ADMIN}
    if not can(request.user, Action.VIEW, "maintenance"):
        return tracker
    if form is None and can(request.user, Action.ADD, "maintenance"):
        form = forms.MaintenanceWindowForm(
            user=request.user, validate_url=reverse("directory:maintenance_create", args=[unit.pk])
        )
    return {
        "maintenance": unit.maintenance.order_by("-start")[:50],
        "maintenance_form": form,
        "maintenance_can_delete": can(request.user, Action.DELETE, "maintenance"),
        "now": timezone.now(),
        **tracker,
    }


def _debt_context(request, counterparty) -> dict:
    """What the counterparty owes today, as the receivables report counts it."""
    if not can(request.user, Action.VIEW, "invoice"):
        return {}
    today = timezone.localdate()
    url = reconciliation_url = None
    if can(request.user, Action.VIEW, "report"):
        url = f"{reverse('reports:receivables')}?as_of={today:%Y-%m-%d}&counterparty={counterparty.pk}"
        reconciliation_url = reverse("billing:reconciliation", args=[counterparty.pk])
    owed = counterparty_debt(counterparty, today)
    may_apply = owed.credit > 0 and can(request.user, Action.ADD, "payment")
    return {
        "debt": {
            "owed": owed,
            "today": today,
            "url": url,
            # «Акт сверки»: the statement of the last full quarter (billing/reconciliation_views.py)
            "reconciliation_url": reconciliation_url,
            # the credit goes to one of its open invoices, oldest first
            "open_invoices": list(open_invoices(counterparty)) if may_apply else [],
            "missing": counterparty.missing_requisites(),
        }
    }


def _counterparty_context(request, counterparty) -> dict:
    return {**_debt_context(request, counterparty), **counterparty_acts_context(request, counterparty)}


def _documents_context(request, driver, form=None) -> dict:
    """The driver's documents with their state on today: expired, expiring (within
    EXPIRY_NOTICE_DAYS) or valid."""
    if not can(request.user, Action.VIEW, "driver_document"):
        return {}
    today = timezone.localdate()
    soon = today + timedelta(days=EXPIRY_NOTICE_DAYS)
    rows = []
    for document in driver.documents.all():
        state = ""
        if document.valid_until is not None and document.valid_until < today:
            state = "expired"
        elif document.valid_until is not None and document.valid_until <= soon:
            state = "expiring"
        rows.append({"document": document, "state": state})
    if form is None and can(request.user, Action.ADD, "driver_document"):
        form = forms.DriverDocumentForm(user=request.user)
    return {
        "documents": rows,
        "document_form": form,
        "documents_can_change": can(request.user, Action.CHANGE, "driver_document"),
        "documents_can_delete": can(request.user, Action.DELETE, "driver_document"),
    }


def _pay_rates_context(request, driver, form=None) -> dict:
    """The driver's dated rates (general and per machine): for who may see pay; the form to
    add a machine's rate for who may change it (docs/permissions.md, «Drivers' pay»)."""
    if not can_see_pay(request.user):
        return {}
    if form is None and can_change_pay(request.user):
        form = forms.PayRateForm()
    rates = driver.pay_rates.select_related("equipment_type").order_by("-valid_from", "-id")[:50]
    return {"pay_rates": list(rates), "pay_rate_form": form}


def _driver_context(request, driver) -> dict:
    return {
        **driver_telegram_context(request, driver),
        **_documents_context(request, driver),
        **_pay_rates_context(request, driver),
    }


def _requirements_context(request, equipment_type, form=None) -> dict:
    may_change = can(request.user, Action.CHANGE, "equipment_type")
    if form is None and may_change:
        form = forms.RequirementForm(user=request.user)
    return {
        "requirements": list(equipment_type.requirements.all()),
        "requirement_form": form,
        "requirements_can_change": may_change,
    }


PAGES = [
    _page(
        m.Organization,
        forms.OrganizationForm,
        filterset=filters.OrganizationFilter,
        resource="organization",
        slug="organizations",
        columns=["name", "inn", "kpp", "vat_rate", "default_accounting_base", "is_active"],
        select_related=("default_accounting_base",),
        related=[
            crud.Related(
                gettext_lazy("1C bases"), "accounting_bases", "accounting_base", ("kind", "is_active")
            )
        ],
    ),
    _page(
        m.AccountingBase,
        forms.AccountingBaseForm,
        filterset=filters.AccountingBaseFilter,
        resource="accounting_base",
        slug="accounting-bases",
        columns=["name", "organization", "kind", "odata_url", "is_active"],
        select_related=("organization",),
    ),
    _page(
        m.Counterparty,
        forms.CounterpartyForm,
        filterset=filters.CounterpartyFilter,
        resource="counterparty",
        slug="counterparties",
        columns=["name", "kind", "inn", "kpp", "phone", "accounting_base", "prepayment_required"],
        select_related=("accounting_base",),
        detail_extra="directory/counterparty_debt.html",
        detail_context=_counterparty_context,
        list_actions="directory/import_actions.html",
        related=[
            crud.Related(
                gettext_lazy("Contacts"),
                "contacts",
                "contact",
                ("position", "phone"),
                parent_field="counterparty",
            )
        ],
    ),
    _page(
        m.Contact,
        forms.ContactForm,
        filterset=filters.ContactFilter,
        resource="contact",
        slug="contacts",
        columns=["full_name", "counterparty", "position", "phone", "email"],
        select_related=("counterparty",),
    ),
    _page(
        m.Supplier,
        forms.SupplierForm,
        filterset=filters.SupplierFilter,
        resource="supplier",
        slug="suppliers",
        columns=["name", "inn", "contact_person", "phone", "is_active"],
        detail_extra="directory/telegram_card.html",
        detail_context=supplier_telegram_context,
        related=[crud.Related(gettext_lazy("Units"), "units", "unit", ("equipment_type", "capacity_t"))],
    ),
    _page(
        m.EquipmentType,
        forms.EquipmentTypeForm,
        filterset=filters.EquipmentTypeFilter,
        resource="equipment_type",
        slug="equipment-types",
        columns=["name", "description"],
        related=[crud.Related(gettext_lazy("Units"), "units", "unit", ("capacity_t", "owner"))],
        detail_extra="directory/equipment_type_requirements.html",
        detail_context=_requirements_context,
    ),
    _page(
        m.Unit,
        forms.UnitForm,
        filterset=filters.UnitFilter,
        resource="unit",
        slug="units",
        columns=[
            "plate",
            "name",
            "equipment_type",
            "capacity_t",
            "owner",
            "supplier",
            "rate_per_hour",
            "is_active",
        ],
        select_related=("equipment_type", "supplier"),
        detail_extra="directory/unit_maintenance.html",
        detail_context=_maintenance_context,
        list_actions="directory/import_actions.html",
    ),
    _page(
        m.Driver,
        forms.DriverForm,
        filterset=filters.DriverFilter,
        resource="driver",
        slug="drivers",
        columns=["full_name", "phone", "employment", "hourly_pay", "license_valid_until", "is_active"],
        detail_extra="directory/driver_extra.html",
        detail_context=_driver_context,
        hidden_fields=hidden_pay_fields,
        list_actions="directory/import_actions.html",
    ),
]
UNIT_PAGE = next(page for page in PAGES if page.model is m.Unit)


def _get_unit_for_user(request, pk) -> m.Unit:
    return get_object_or_404(UNIT_PAGE.queryset(), pk=pk)


@require(Action.ADD, "maintenance")
@require_POST
def maintenance_create(request, pk):
    unit = _get_unit_for_user(request, pk)
    form = forms.MaintenanceWindowForm(request.POST, user=request.user, validate_url=request.path)
    if (validated := validate_field_response(request, form)) is not None:
        return validated
    if form.is_valid():
        create = SERVICES[m.MaintenanceWindow][0]
        try:
            create(by=request.user, unit=unit, **form.service_data())
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Maintenance window added."))
            return redirect(unit.get_absolute_url())
    return crud.detail_view(request, UNIT_PAGE, unit.pk, extra=_maintenance_context(request, unit, form))


@require(Action.DELETE, "maintenance")
@require_POST
def maintenance_delete(request, pk):
    window = get_object_or_404(m.MaintenanceWindow.objects.select_related("unit"), pk=pk)
    SERVICES[m.MaintenanceWindow][2](instance=window, by=request.user)
    messages.success(request, _("Maintenance window deleted."))
    return redirect(window.unit.get_absolute_url())


# --- drivers' documents ---------------------------------------------------------------------------
DRIVER_PAGE = next(page for page in PAGES if page.model is m.Driver)
TYPE_PAGE = next(page for page in PAGES if page.model is m.EquipmentType)


@require(Action.ADD, "driver_document")
@require_POST
def driver_document_create(request, pk):
    driver = get_object_or_404(m.Driver, pk=pk)
    form = forms.DriverDocumentForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        try:
            SERVICES[m.DriverDocument][0](driver=driver, by=request.user, **form.service_data())
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Document added."))
            return redirect(driver.get_absolute_url() + "#documents")
    return crud.detail_view(request, DRIVER_PAGE, driver.pk, extra=_documents_context(request, driver, form))


@require(Action.CHANGE, "driver_document")
def driver_document_edit(request, pk):
    document = get_object_or_404(m.DriverDocument.objects.select_related("driver"), pk=pk)
    if request.method == "POST":
        form = forms.DriverDocumentForm(request.POST, request.FILES, instance=document, user=request.user)
        if form.is_valid():
            try:
                SERVICES[m.DriverDocument][1](instance=document, by=request.user, **form.service_data())
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("Document saved."))
                return redirect(document.get_absolute_url())
    else:
        form = forms.DriverDocumentForm(instance=document, user=request.user)
    return render(request, "directory/driver_document_form.html", {"form": form, "document": document})


@require(Action.DELETE, "driver_document")
@require_POST
def driver_document_delete(request, pk):
    document = get_object_or_404(m.DriverDocument.objects.select_related("driver"), pk=pk)
    SERVICES[m.DriverDocument][2](instance=document, by=request.user)
    messages.success(request, _("Document deleted."))
    return redirect(document.driver.get_absolute_url() + "#documents")


@require(Action.VIEW, "driver_document")
def driver_document_scan(request, pk):
    """The scan, to whoever may read drivers' documents (docs/security.md, «Files»)."""
    document = get_object_or_404(m.DriverDocument, pk=pk)
    found = stored_scan(
        document.scan, document.scan_type, document.scan_name, fallback=f"document-{document.pk}"
    )
    if found is None:
        raise Http404
    handle, content_type, filename = found
    return file_response(handle, content_type=content_type, filename=filename)


# --- equipment types' requirements ----------------------------------------------------------------
def _current_requirements(equipment_type) -> list[dict]:
    return [{"kind": r.kind, "category": r.category} for r in equipment_type.requirements.all()]


@require(Action.CHANGE, "equipment_type")
@require_POST
def requirement_add(request, pk):
    equipment_type = get_object_or_404(m.EquipmentType, pk=pk)
    form = forms.RequirementForm(request.POST, user=request.user)
    if form.is_valid():
        wanted = [*_current_requirements(equipment_type), form.service_data()]
        try:
            equipment_type_set_requirements(
                equipment_type=equipment_type, requirements=wanted, by=request.user
            )
        except ValidationError:
            form.add_error("kind", _("This document is already required."))
        else:
            messages.success(request, _("Requirement added."))
            return redirect(equipment_type.get_absolute_url() + "#requirements")
    extra = _requirements_context(request, equipment_type, form)
    return crud.detail_view(request, TYPE_PAGE, equipment_type.pk, extra=extra)


@require(Action.CHANGE, "equipment_type")
@require_POST
def requirement_delete(request, pk):
    requirement = get_object_or_404(
        m.EquipmentTypeRequirement.objects.select_related("equipment_type"), pk=pk
    )
    equipment_type = requirement.equipment_type
    wanted = [
        r
        for r in _current_requirements(equipment_type)
        if (r["kind"], r["category"]) != (requirement.kind, requirement.category)
    ]
    equipment_type_set_requirements(equipment_type=equipment_type, requirements=wanted, by=request.user)
    messages.success(request, _("Requirement removed."))
    return redirect(equipment_type.get_absolute_url() + "#requirements")


# --- pay by machine ------------------------------------------------------------------------------
@require(Action.VIEW, "driver")
@require_POST
def driver_pay_rate_add_view(request, pk):
    if not can_change_pay(request.user):
        raise PermissionDenied
    driver = get_object_or_404(m.Driver, pk=pk)
    form = forms.PayRateForm(request.POST)
    if form.is_valid():
        try:
            driver_pay_rate_add(driver=driver, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("Pay rate added."))
            return redirect(driver.get_absolute_url() + "#pay-rates")
    return crud.detail_view(request, DRIVER_PAGE, driver.pk, extra=_pay_rates_context(request, driver, form))


@require(Action.CHANGE, "unit")
@require_POST
def unit_tracker_test(request, pk):
    """«Test the link»: the unit's tracker asked now for its last position and counters (the
    admin's; bounded by TELEMATICS_TIMEOUT). Answers the panel's fragment."""
    if role_of(request.user) != Role.ADMIN:
        raise PermissionDenied
    unit = get_object_or_404(m.Unit, pk=pk)
    result = {"tracker_unit": unit, "tracker_may_test": True, "tested": True}
    if not (unit.tracker_provider and unit.tracker_id):
        result["test_error"] = _("The unit is not linked to a tracker.")
    else:
        try:
            snapshot = telematics_providers.provider(unit.tracker_provider).snapshot(unit.tracker_id)
        except TelematicsError as exc:
            result["test_error"] = exc.message
        else:
            result["snapshot"] = snapshot
    if not request.htmx:  # a plain form post: the answer as a message on the unit's page
        if "test_error" in result:
            messages.error(
                request, _("The tracker did not answer: %(error)s") % {"error": result["test_error"]}
            )
        else:
            messages.success(request, _("The link works."))
        return redirect(unit.get_absolute_url() + "#tracker")
    return render(request, "directory/unit_tracker.html", result)
