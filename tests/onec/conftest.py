from decimal import Decimal

import httpx
import pytest
from django.utils import translation

from arenda.billing.services import LineData, invoice_create, invoice_issue
from arenda.integrations.onec.fake import FakeOneC
from tests.factories import AccountingBaseFactory, CounterpartyFactory, OrganizationFactory

USER, PASSWORD = "odata", "secret-1c"


@pytest.fixture(autouse=True)
def _english(db):
    """The errors kept on invoices are read in English here, whatever the catalogue says."""
    with translation.override("en"):
        yield


@pytest.fixture
def fake(settings):
    """A fake 1C on a free port; the client gives up after half a second."""
    server = FakeOneC("127.0.0.1", 0, username=USER, password=PASSWORD)
    server.start()
    settings.ONEC_TIMEOUT = 0.5
    yield server
    server.stop()


@pytest.fixture
def org(db):
    return OrganizationFactory()


@pytest.fixture
def base_a(fake, org):
    return AccountingBaseFactory(
        organization=org, odata_url=fake.base_url("a"), username=USER, password=PASSWORD
    )


@pytest.fixture
def base_b(fake, org):
    """Our legal entity's default base; counterparties without their own go here."""
    base = AccountingBaseFactory(
        organization=org, odata_url=fake.base_url("b"), username=USER, password=PASSWORD
    )
    org.default_accounting_base = base
    org.save()
    return base


@pytest.fixture
def customer(base_a, base_b):
    return CounterpartyFactory(accounting_base=base_a)


def issue(counterparty, organization, *lines):
    lines = lines or [LineData("Автокран 25 т с экипажем, 8 ч", Decimal("8"), Decimal("3500.00"))]
    invoice = invoice_create(
        kind="postpayment", counterparty=counterparty, organization=organization, lines=list(lines), by=None
    )
    return invoice_issue(invoice=invoice, by=None)


def control(fake, base, **failure):
    httpx.post(f"{fake.url}/_control", json={"base": base, **failure}).raise_for_status()


def pay(fake, base, invoice, amount, **extra) -> dict:
    response = httpx.post(
        f"{fake.url}/_control/payment",
        json={"base": base, "invoice": invoice.external_id, "amount": str(amount), **extra},
    )
    response.raise_for_status()
    return response.json()


def dump(fake, base) -> dict:
    return httpx.get(f"{fake.url}/_dump", params={"base": base}).json().get(base, {})
