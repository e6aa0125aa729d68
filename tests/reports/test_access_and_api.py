"""Who sees what, the API shape, bad parameters, and query counts that do not grow with rows."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arenda.core.roles import Role
from tests import factories as f
from tests.reports.conftest import MONTH, trip

pytestmark = pytest.mark.django_db
PAGES = ["/reports/", "/reports/payroll/", "/reports/plates/", "/reports/receivables/", "/reports/fleet/"]
API = ["driver-payroll", "plates", "receivables", "fleet"]


@pytest.fixture
def month():
    driver = f.DriverFactory(full_name="Иванов Пётр")
    unit = f.UnitFactory()
    trip(day=3, hours="8", pay="650.00", unit=unit, driver=driver)
    trip(day=4, hours="6", pay="650.00", unit=unit, driver=driver)
    return {"driver": driver}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.ACCOUNTANT, Role.DIRECTOR])
@pytest.mark.parametrize("url", PAGES)
def test_every_role_sees_the_reports(ui, role, url):
    assert ui(role).get(url).status_code == 200


def test_anonymous_is_sent_to_log_in_and_the_api_refuses(client):
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]
    for name in API:
        assert client.get(f"/api/v1/reports/{name}/").status_code in (401, 403)


def test_reports_in_the_navigation(ui):
    html = ui(Role.DIRECTOR).get("/").content.decode()
    assert 'href="/reports/"' in html and "/coming/reports/" not in html


def _pay_visible(client, api_client, month) -> dict:
    html = client.get("/reports/payroll/" + MONTH).content.decode()
    data = api_client.get("/api/v1/reports/driver-payroll/" + MONTH).json()
    text = b"".join(client.get("/reports/payroll/" + MONTH + "&format=csv").streaming_content).decode()
    header = next(csv.reader(io.StringIO(text[1:])))
    book = openpyxl.load_workbook(
        io.BytesIO(b"".join(client.get("/reports/payroll/" + MONTH + "&format=xlsx").streaming_content))
    )
    xlsx_header = [c.value for c in book.active[3]]
    api_csv = b"".join(
        api_client.get("/api/v1/reports/driver-payroll/" + MONTH + "&format=csv").streaming_content
    )
    return {
        "html": "9\u202f100,00" in html or "Pay per hour" in html,
        "json": "amount" in data["results"][0]
        or "amount" in data["totals"]
        or "hourly_pay" in data["columns"],
        "csv": "Amount" in header or "Pay per hour" in header,
        "xlsx": "Amount" in xlsx_header or "Pay per hour" in xlsx_header,
        "api_csv": b"hourly_pay" in api_csv or b"amount" in api_csv,
        "by_driver_amount": "9\u202f100,00" in html,
    }


def test_manager_does_not_see_drivers_pay_anywhere(ui, api, month):
    client = ui(Role.MANAGER)
    seen = _pay_visible(client, api(user=client.user), month)
    assert not any(seen.values()), seen
    data = api(user=client.user).get("/api/v1/reports/driver-payroll/" + MONTH).json()
    assert data["totals"]["hours"] == "14.00" and "staff_amount" not in data["totals"]
    assert data["results"][0]["hours"] == "8.00"


def test_manager_allowed_to_see_pay_sees_it(ui, api, month):
    client = ui(Role.MANAGER, may_see_driver_pay=True)
    seen = _pay_visible(client, api(user=client.user), month)
    assert all(seen.values()), seen


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.DIRECTOR, Role.ADMIN])
def test_accountant_director_and_admin_see_pay(ui, api, month, role):
    client = ui(role)
    seen = _pay_visible(client, api(user=client.user), month)
    assert all(seen.values()), seen


def test_api_payroll_rows_and_totals(api, month):
    data = api(Role.ACCOUNTANT).get("/api/v1/reports/driver-payroll/" + MONTH + "&page_size=1").json()
    assert data["count"] == 2 and data["next"] and data["previous"] is None
    row = data["results"][0]
    assert set(row) >= {
        "date",
        "booking",
        "equipment",
        "capacity_t",
        "plate",
        "driver",
        "employment",
        "hours",
        "hourly_pay",
        "amount",
    }
    assert row["date"] == "2026-10-03" and row["employment"] == "staff" and row["amount"] == "5200.00"
    assert data["totals"]["amount"] == "9100.00" and data["totals"]["hours"] == "14.00"
    assert data["period"] == {"start": "2026-10-01", "end": "2026-10-31"}
    second = api(Role.ACCOUNTANT).get(data["next"]).json()
    assert second["results"][0]["hours"] == "6.00" and second["next"] is None
    assert (
        api(Role.ACCOUNTANT)
        .get(f"/api/v1/reports/driver-payroll/{MONTH}&driver={month['driver'].pk}")
        .json()["count"]
        == 2
    )


@pytest.mark.parametrize("name", API)
def test_api_files(api, month, name):
    client = api(Role.DIRECTOR)
    response = client.get(f"/api/v1/reports/{name}/{MONTH}&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert b"".join(response.streaming_content).startswith("\ufeff".encode())
    response = client.get(f"/api/v1/reports/{name}/{MONTH}&format=xlsx")
    assert response.status_code == 200
    openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert client.get(f"/api/v1/reports/{name}/{MONTH}").json()["totals"] is not None


BAD = [
    ("start=bad&end=2026-10-31&period=custom", "start"),
    ("period=custom&start=2026-10-31&end=2026-10-01", "end"),
    ("period=custom&start=2020-01-01&end=2026-10-01", "end"),
    ("period=custom&start=2026-10-01", "end"),
    ("period=yesterday", "period"),
    ("driver=999999", "driver"),
    ("driver=abc", "driver"),
    ("format=pdf", "format"),
    ("sort=password", "sort"),
    ("page=0", "page"),
    ("employment=boss", "employment"),
    # the calendar's ends made the period arithmetic overflow: a 500
    ("period=custom&start=0001-01-01&end=0001-01-03", "start"),
    ("period=custom&start=2026-10-01&end=9999-12-31", "end"),
]


@pytest.mark.parametrize("query,field", BAD)
def test_bad_parameters_are_400_naming_the_field(api, ui, query, field):
    response = api(Role.DIRECTOR).get("/api/v1/reports/driver-payroll/?" + query)
    assert response.status_code == 400
    assert field in response.json()
    page = ui(Role.DIRECTOR).get("/reports/payroll/?" + query)
    assert page.status_code == 400
    assert "cannot be built" in page.content.decode() and field in page.context["form"].errors


def test_bad_parameters_of_the_other_reports(api, ui):
    client = api(Role.DIRECTOR)
    assert "as_of" in client.get("/api/v1/reports/receivables/?as_of=31.10.2026").json()
    assert "owner" in client.get("/api/v1/reports/plates/?owner=mine").json()
    assert "equipment_type" in client.get("/api/v1/reports/fleet/?equipment_type=0").json()
    assert "format" in client.get("/api/v1/reports/fleet/?format=html").json()
    assert ui(Role.DIRECTOR).get("/reports/receivables/?as_of=bad").status_code == 400
    assert "as_of" in client.get("/api/v1/reports/receivables/?as_of=0001-01-01").json()
    assert ui(Role.DIRECTOR).get("/reports/receivables/?as_of=0001-01-01").status_code == 400
    assert "end" in client.get("/api/v1/reports/fleet/?period=custom&start=9999-12-01&end=9999-12-31").json()
    assert ui(Role.DIRECTOR).get("/reports/fleet/?counterparty=1&start=x").status_code == 400


# --- query counts -----------------------------------------------------------------------------
def _world(n: int):
    """n trips of n drivers and units for n counterparties, half of them suppliers' machines,
    with an unpaid invoice each."""
    from arenda.bookings.models import SupplyOrder

    supplier = f.SupplierFactory()
    for i in range(n):
        day = 1 + i % 28
        if i % 2:
            w = trip(
                day=day,
                start_hour=i % 20,
                hours="5",
                km="3",
                rate_per_km="50",
                min_hours="6",
                unit=f.UnitFactory(),
                driver=f.DriverFactory(employment=["staff", "contractor"][i % 4 // 2]),
            )
        else:
            w = trip(day=day, start_hour=i % 20, hours="5", km="3", rate_per_km="50", min_hours="6")
            SupplyOrder.objects.create(
                booking=w.booking,
                supplier=supplier,
                cost_per_hour=Decimal("2000"),
                unit_plate=f"Т{i:03d}ТТ77",
            )
        f.InvoiceFactory(counterparty=w.booking.deal.counterparty, issued=True)
        f.MaintenanceWindowFactory(unit=w.unit or f.UnitFactory()) if i % 3 == 0 else None


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        assert response.status_code == 200, url
    return len(ctx)


URLS = [
    "/reports/payroll/" + MONTH,
    "/reports/plates/" + MONTH,
    "/reports/receivables/",
    "/reports/fleet/" + MONTH,
    "/reports/payroll/" + MONTH + "&format=csv",
    "/reports/plates/" + MONTH + "&format=xlsx",
    "/reports/receivables/?format=csv",
    "/reports/fleet/" + MONTH + "&format=xlsx",
    "/api/v1/reports/driver-payroll/" + MONTH,
    "/api/v1/reports/plates/" + MONTH,
    "/api/v1/reports/receivables/",
    "/api/v1/reports/fleet/" + MONTH,
    "/api/v1/reports/plates/" + MONTH + "&format=csv",
]


def test_query_counts_do_not_grow_with_the_rows(ui, make_user):
    from django.test import Client

    user = make_user(Role.DIRECTOR)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    driver = f.DriverFactory()
    urls = [*URLS, f"/reports/payroll/driver/{driver.pk}/{MONTH}"]
    _world(3)
    for day in (2, 3, 4):
        trip(day=day, hours="4", unit=f.UnitFactory(), driver=driver)
    small = {url: _count(client, url) for url in urls}
    _world(27)
    for day in range(5, 28):
        trip(day=day, hours="4", unit=f.UnitFactory(), driver=driver)
    large = {url: _count(client, url) for url in urls}
    assert large == small
    print("report query counts", small)
    # the fleet report also reads the working calendar: the settings and the dates set by hand
    assert max(small.values()) <= 14, small
