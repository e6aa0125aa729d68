"""Every list read through a FilterSet, on its page and in the API, searched and filtered:
the number of queries does not grow with the rows."""

import pytest
from django.urls import reverse

from arenda.billing.models import BankStatement, StatementPayment
from arenda.billing.services import payment_record
from arenda.bookings.services import booking_request_supply
from arenda.core.roles import Role
from arenda.crm.tokens import intake_token_create
from tests import factories as f
from tests.billing.test_acts import worked
from tests.bookings.test_waybills import job

pytestmark = pytest.mark.django_db


def _deal():
    return f.DealFactory(
        counterparty=f.CounterpartyFactory(), manager=f.UserFactory(), organization=f.OrganizationFactory()
    )


def _unit():
    return f.UnitFactory(
        equipment_type=f.EquipmentTypeFactory(), owner="supplier", supplier=f.SupplierFactory()
    )


def _supply_order():
    return booking_request_supply(booking=f.BookingFactory(), supplier=f.SupplierFactory(), by=None)


def _payment():
    invoice = f.InvoiceFactory(issued=True)
    return payment_record(
        invoice=invoice, amount="10", on=invoice.date, source="manual", reference=f"пп {invoice.pk}"
    )


def _statement_payment():
    statement = BankStatement.objects.create(file_name="kl_to_1c.txt", sha256="0" * 64)
    row = StatementPayment.objects.create(
        statement=statement,
        key=f"{statement.pk}",
        number=str(statement.pk),
        date=statement.created_at.date(),
        amount="1.00",
        payer_inn=f.make_inn10(statement.pk),
        purpose="Оплата по счёту",
        state="ambiguous",
    )
    row.candidates.add(f.InvoiceFactory(issued=True))
    return row


def _act():
    booking = job()
    worked(booking, number=f"ПЛ-{booking.pk}")
    return booking


# name → (make one row, page URL or None, API URL or None); each URL searches and filters
CASES = {
    "counterparties": (
        lambda: f.CounterpartyFactory(accounting_base=f.AccountingBaseFactory()),
        lambda: reverse("directory:counterparty_list") + "?q=ООО&kind=legal&o=name",
        lambda: "/api/v1/counterparties/?search=ООО&kind=legal&ordering=name",
    ),
    "units": (
        _unit,
        lambda: reverse("directory:unit_list") + "?q=КС&owner=supplier&o=-plate",
        lambda: "/api/v1/units/?search=КС&owner=supplier&ordering=-plate",
    ),
    "deals": (
        _deal,
        lambda: reverse("crm:deal_list") + "?q=Аренда&stage=new&o=counterparty",
        lambda: "/api/v1/deals/?search=Аренда&stage=new&ordering=title",
    ),
    "leads": (
        lambda: f.LeadFactory(counterparty=f.CounterpartyFactory()),
        lambda: (
            reverse("crm:lead_list") + "?q=Заказчиков&source=website&manager=none&status=new&start=2020-01-01"
        ),
        lambda: (
            "/api/v1/leads/?search=Заказчиков&source=website&manager=none&status=new&created_after=2020-01-01"
        ),
    ),
    "lead board": (
        lambda: f.LeadFactory(manager=f.UserFactory()),
        lambda: reverse("crm:lead_board") + "?q=Заказчиков&source=website",
        None,
    ),
    "intake tokens": (
        lambda: intake_token_create(name="Сайт", source="website", by=f.UserFactory()),
        None,
        lambda: "/api/v1/intake-tokens/?search=Сайт&source=website&is_active=true",
    ),
    "bookings": (
        lambda: f.BookingFactory(),
        lambda: reverse("bookings:booking_list") + "?q=Аренда&status=draft&from=2020-01-01&to=2099-01-01",
        lambda: (
            "/api/v1/bookings/?search=Аренда&status=draft&start_after=2020-01-01T00:00:00Z&ordering=-start"
        ),
    ),
    "supply orders": (
        _supply_order,
        lambda: reverse("bookings:supply_order_list") + "?status=requested",
        lambda: "/api/v1/supply-orders/?search=Аренда&status=requested",
    ),
    "supply order board": (
        _supply_order,
        lambda: reverse("bookings:supply_order_list") + "?view=board&status=requested",
        None,
    ),
    "waybills": (
        lambda: f.WaybillFactory(),
        None,
        lambda: "/api/v1/waybills/?search=ПЛ&source=manual",
    ),
    "invoices": (
        lambda: f.InvoiceFactory(issued=True),
        lambda: reverse("billing:invoice_list") + "?q=Заказчик&status=issued&kind=postpayment",
        lambda: "/api/v1/invoices/?search=Заказчик&status=issued&date_after=2020-01-01&overdue=false",
    ),
    "acts": (
        _act,
        lambda: reverse("billing:act_list") + "?q=Заказчик&status=draft&from=2020-01-01&not_signed=0",
        lambda: "/api/v1/acts/?search=Заказчик&status=draft&period_from=2020-01-01&ordering=-date",
    ),
    "payments": (
        _payment,
        lambda: reverse("billing:payment_list") + "?q=пп&source=manual&from=2020-01-01",
        lambda: "/api/v1/payments/?search=пп&source=manual&date_after=2020-01-01",
    ),
    "statement payments": (
        _statement_payment,
        lambda: reverse("billing:statement_waiting"),
        lambda: "/api/v1/statement-payments/?state=ambiguous,unmatched&search=Оплата",
    ),
    "bank statements": (
        lambda: BankStatement.objects.create(file_name="kl_to_1c.txt", sha256="0" * 64, account="40702810"),
        None,
        lambda: "/api/v1/bank-statements/?search=kl_to",
    ),
}


def _shown(response, where) -> int | None:
    if where == "api":
        return len(response.json()["results"])
    if "rows" in response.context:
        return len(response.context["rows"])
    if "page_obj" in response.context:
        return len(response.context["page_obj"].object_list)
    return None


@pytest.mark.parametrize("where", ["page", "api"])
@pytest.mark.parametrize("case", list(CASES))
def test_queries_do_not_grow_with_the_rows(ui, api, case, where, django_assert_max_num_queries):
    make, page_url, api_url = CASES[case]
    url = page_url if where == "page" else api_url
    if url is None:
        pytest.skip(f"{case}: no {where} list")
    url = url()
    client = ui(Role.ADMIN) if where == "page" else api(Role.ADMIN)
    make()
    client.get(url)  # warm: the session, the user
    with django_assert_max_num_queries(30) as few:
        assert client.get(url).status_code == 200
    for _ in range(20):
        make()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert _shown(response, where) in (21, None)
