"""The navigation of every page: each area of the product, hidden when the role may not
see it."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from arenda.core.roles import Action, Role, can, role_of


def _directory(resource: str, label) -> tuple[str, dict]:
    return resource, {"label": label, "url": reverse(f"directory:{resource}_list")}


def _area(user, resource: str, label, url_name: str) -> list[dict]:
    """A built area, shown to the roles that may read it."""
    return [{"label": label, "url": reverse(url_name)}] if can(user, Action.VIEW, resource) else []


def _navigation(user) -> list[dict]:
    reference = [
        _directory("organization", _("Legal entities")),
        _directory("accounting_base", _("1C bases")),
        _directory("counterparty", _("Counterparties")),
        _directory("contact", _("Contacts")),
        _directory("supplier", _("Suppliers")),
        _directory("equipment_type", _("Equipment types")),
        _directory("unit", _("Units")),
        _directory("driver", _("Drivers")),
    ]
    groups = [
        (None, [{"label": _("Dashboard"), "url": reverse("dashboard")}]),
        (
            _("Sales"),
            [
                *_area(user, "lead", _("Leads"), "crm:lead_board"),
                *_area(user, "deal", _("Deals"), "crm:deal_board"),
            ],
        ),
        (
            _("Operations"),
            [
                *_area(user, "booking", _("Bookings"), "bookings:booking_list"),
                *_area(user, "booking", _("Availability"), "bookings:availability"),
                *_area(user, "booking", _("Timeline"), "bookings:timeline"),
                *_area(user, "supply_order", _("Supply orders"), "bookings:supply_order_list"),
            ],
        ),
        (
            _("Finance"),
            [
                *_area(user, "invoice", _("Invoices"), "billing:invoice_list"),
                *_area(user, "invoice", _("Acts"), "billing:act_list"),
                *_area(user, "payment", _("Payments"), "billing:payment_list"),
                *_area(user, "bank_statement", _("Bank statements"), "billing:statement_list"),
                *_area(user, "accounting_base", _("1C sync"), "billing:sync"),
            ],
        ),
        (_("Analytics"), _area(user, "report", _("Reports"), "reports:index")),
        (_("Reference data"), [item for resource, item in reference if can(user, Action.VIEW, resource)]),
        (
            _("Administration"),
            [
                *(
                    [{"label": _("Users"), "url": "/admin/core/user/"}]
                    if can(user, Action.VIEW, "user")
                    else []
                ),
                *(
                    [
                        {"label": _("Company settings"), "url": "/admin/core/companysettings/"},
                        {"label": _("Order template"), "url": reverse("bookings:dispatch_template")},
                        {"label": _("Working calendar"), "url": reverse("working_calendar")},
                    ]
                    if can(user, Action.CHANGE, "company_settings")
                    else []
                ),
                *(
                    [
                        {"label": _("Channels"), "url": reverse("ops:channels")},
                        {"label": _("System health"), "url": reverse("ops:health")},
                    ]
                    if role_of(user) == Role.ADMIN
                    else []
                ),
            ],
        ),
    ]
    return [{"title": title, "items": items} for title, items in groups if items]


def shell(request):
    user = getattr(request, "user", None)
    if role_of(user) is None:
        return {}
    navigation = _navigation(user)
    path = request.path
    best = max(
        (
            item["url"]
            for group in navigation
            for item in group["items"]
            if path.startswith(item["url"]) and (item["url"] != "/" or path == "/")
        ),
        key=len,
        default=None,
    )
    for group in navigation:
        for item in group["items"]:
            item["current"] = item["url"] == best
    return {"navigation": navigation, "role_label": Role(role_of(user)).label}
