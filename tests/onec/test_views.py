import pytest
from django.test import Client
from django.urls import reverse

from arenda.billing import onec
from arenda.billing.models import Invoice
from arenda.core.roles import Role
from tests.onec.conftest import control, issue, pay

S = Invoice.SyncStatus


@pytest.fixture
def ui(make_user):
    def client_for(role):
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(make_user(role))
        return client

    return client_for


def test_the_api_syncs_a_base_and_answers_the_counts(api, fake, org, customer, base_a):
    first, second = issue(customer, org), issue(customer, org)
    control(fake, "a", fail="500", times=1)  # the first invoice's first call
    url = f"/api/v1/accounting-bases/{base_a.pk}/sync/"
    assert api(Role.ACCOUNTANT).post(url).json() == {"pushed": 1, "failed": 1, "payments": 0}
    second.refresh_from_db()
    pay(fake, "a", second, "10000.00")
    answer = api(Role.ADMIN).post(url)
    assert answer.status_code == 200 and answer.json() == {"pushed": 1, "failed": 0, "payments": 1}
    first.refresh_from_db()
    assert first.sync_status == S.SYNCED


@pytest.mark.parametrize("role", [Role.MANAGER, Role.DIRECTOR])
def test_only_accountants_and_admins_sync(api, fake, base_a, role):
    assert api(role).post(f"/api/v1/accounting-bases/{base_a.pk}/sync/").status_code == 403
    assert fake.bases == {}


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.ADMIN, Role.DIRECTOR])
def test_the_sync_page_shows_each_base_with_waiting_and_failed_invoices(
    ui, fake, org, customer, base_a, role
):
    control(fake, "a", fail="500", times=1)
    waiting = issue(customer, org)
    onec.push_attempt(waiting.pk)
    control(fake, "a", unpublish=["Catalog_Номенклатура"])
    failed = issue(customer, org)
    onec.push_attempt(failed.pk)
    page = ui(role).get(reverse("billing:sync"))
    assert page.status_code == 200
    html = page.content.decode()
    assert base_a.name in html and str(waiting) in html and str(failed) in html
    assert "Catalog_Номенклатура" in html and "Payments last read" in html
    can_act = role != Role.DIRECTOR
    assert ("Sync now" in html) is can_act
    assert (reverse("billing:sync_retry", args=[failed.pk]) in html) is can_act
    assert reverse("billing:sync_retry", args=[waiting.pk]) not in html
    assert ('href="' + reverse("billing:sync") + '"') in html, "in the navigation"


def test_managers_do_not_see_the_sync_page(ui, fake, base_a):
    client = ui(Role.MANAGER)
    assert client.get(reverse("billing:sync")).status_code == 403
    assert client.post(reverse("billing:sync_base_now", args=[base_a.pk])).status_code == 403
    assert reverse("billing:sync") not in client.get("/").content.decode()


def test_directors_may_not_act(ui, fake, base_a, org, customer):
    invoice = issue(customer, org)
    client = ui(Role.DIRECTOR)
    assert client.post(reverse("billing:sync_base_now", args=[base_a.pk])).status_code == 403
    assert client.post(reverse("billing:sync_retry", args=[invoice.pk])).status_code == 403
    assert fake.bases == {}


def test_sync_now_and_retry_from_the_page(ui, fake, org, customer, base_a):
    base_a.password = "wrong"
    base_a.save()
    invoice = issue(customer, org)
    onec.push_attempt(invoice.pk)
    client = ui(Role.ACCOUNTANT)
    page = client.get(reverse("billing:sync")).content.decode()
    assert "1C refused the login" in page

    answer = client.post(reverse("billing:sync_retry", args=[invoice.pk]), follow=True)
    assert "queued for 1C again" in answer.content.decode()
    invoice.refresh_from_db()
    assert invoice.sync_status == S.PENDING

    base_a.password = "secret-1c"
    base_a.save()
    answer = client.post(reverse("billing:sync_base_now", args=[base_a.pk]), follow=True)
    assert "1 sent to 1C, 0 not sent, 0 new payments" in answer.content.decode()
    invoice.refresh_from_db()
    assert invoice.sync_status == S.SYNCED
