"""1C credentials stay with their address (docs/security.md, «Outbound calls and 1C
credentials»): changing a base's OData URL or 1C user needs the password in the same
request (API, HTML form, admin) and never carries the stored one over; link-local and
metadata addresses, and hosts outside ``OUTBOUND_ALLOWED_HOSTS``, are refused at save and
at connect time; a redirect is not followed with the password; changes are audited."""

import base64
import socket

import pytest
from django.test import Client as PageClient
from django.urls import reverse

from arenda.billing import onec
from arenda.core.models import AuditEvent
from arenda.core.roles import Role
from arenda.directory.models import AccountingBase
from arenda.integrations import outbound
from arenda.integrations.onec.client import AddressRefused, Client, Redirected
from tests import factories as f
from tests.onec.conftest import PASSWORD, USER, control, issue

STEAL = "steal"


def _sent_passwords(fake, base_name) -> list[str]:
    """The passwords a base of the fake 1C was sent in ``Authorization: Basic``."""
    sent = []
    for header in fake.base(base_name).authorizations:
        if header.startswith("Basic "):
            sent.append(base64.b64decode(header[6:]).decode().partition(":")[2])
    return sent


def _pushed_invoice(org, customer):
    invoice = issue(customer, org)
    assert onec.push_attempt(invoice.pk) == invoice.SyncStatus.SYNCED
    return invoice


# --- the reproduction ---------------------------------------------------------------------------
def test_patching_the_odata_url_without_the_password_is_refused_and_no_password_goes_there(
    api, fake, org, base_a, customer
):
    _pushed_invoice(org, customer)  # so that a payment pull calls the base
    client = api(Role.ACCOUNTANT)
    url = f"/api/v1/accounting-bases/{base_a.pk}/"
    refused = client.patch(url, {"odata_url": fake.base_url(STEAL)}, format="json")
    assert refused.status_code == 400 and "password" in refused.json()
    base_a.refresh_from_db()
    assert base_a.odata_url == fake.base_url("a") and base_a.password == PASSWORD

    assert client.post(f"{url}sync/").status_code == 200
    assert fake.base(STEAL).requests == 0

    # With the password typed again, the new address gets that one (the user's choice).
    moved = client.patch(url, {"odata_url": fake.base_url(STEAL), "password": "typed-again"}, format="json")
    assert moved.status_code == 200, moved.content
    base_a.refresh_from_db()
    assert (base_a.odata_url, base_a.password) == (fake.base_url(STEAL), "typed-again")


def test_a_new_1c_user_needs_the_password_too(api, base_a):
    response = api(Role.ACCOUNTANT).patch(
        f"/api/v1/accounting-bases/{base_a.pk}/", {"username": "another", "password": ""}, format="json"
    )
    assert response.status_code == 400 and "password" in response.json()


def test_a_url_change_that_skips_validation_still_clears_the_stored_password(fake, org, base_a, customer):
    """The model's save is the last guard: code that changes the address and saves without
    ``full_clean`` loses the stored password instead of sending it on."""
    _pushed_invoice(org, customer)
    base_a.odata_url = fake.base_url(STEAL)
    base_a.save()
    base_a.refresh_from_db()
    assert base_a.password == ""
    onec.read_payments(base_a.pk, force=True)
    assert fake.base(STEAL).requests > 0
    assert PASSWORD not in _sent_passwords(fake, STEAL)


def test_the_html_form_asks_for_the_password_when_the_url_changes(fake, base_a):
    client = PageClient(headers={"Accept-Language": "en"})
    client.force_login(f.UserFactory(role=Role.ACCOUNTANT))
    edit = reverse("directory:accounting_base_update", args=[base_a.pk])
    data = {
        "name": base_a.name,
        "organization": base_a.organization_id,
        "kind": "odata",
        "odata_url": fake.base_url(STEAL),
        "username": USER,
        "password": "",
        "is_active": "on",
    }
    page = client.post(edit, data)
    assert page.status_code == 200 and b"enter the password for it again" in page.content
    base_a.refresh_from_db()
    assert (base_a.odata_url, base_a.password) == (fake.base_url("a"), PASSWORD)

    assert client.post(edit, {**data, "password": "typed-again"}).status_code == 302
    base_a.refresh_from_db()
    assert (base_a.odata_url, base_a.password) == (fake.base_url(STEAL), "typed-again")


def test_the_admin_password_is_write_only_and_asked_for_when_the_url_changes(fake, base_a):
    client = PageClient(headers={"Accept-Language": "en"})
    client.force_login(f.UserFactory(role=Role.ADMIN))
    change = f"/admin/directory/accountingbase/{base_a.pk}/change/"
    page = client.get(change)
    assert page.status_code == 200 and b'name="new_password"' in page.content
    assert PASSWORD.encode() not in page.content
    data = {
        "name": base_a.name,
        "organization": base_a.organization_id,
        "kind": "odata",
        "odata_url": fake.base_url(STEAL),
        "username": USER,
        "new_password": "",
        "is_active": "on",
    }
    refused = client.post(change, data)
    assert refused.status_code == 200 and b"enter the password for it again" in refused.content
    base_a.refresh_from_db()
    assert (base_a.odata_url, base_a.password) == (fake.base_url("a"), PASSWORD)

    saved = client.post(change, {**data, "new_password": "typed-again"})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    base_a.refresh_from_db()
    assert (base_a.odata_url, base_a.password) == (fake.base_url(STEAL), "typed-again")

    # Blank keeps the stored password while the address stays.
    assert client.post(change, {**data, "name": "БП — переименована"}).status_code == 302
    base_a.refresh_from_db()
    assert (base_a.name, base_a.password) == ("БП — переименована", "typed-again")


# --- addresses the app does not call ------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/odata/standard.odata/",
        "http://[fe80::1]/odata/standard.odata/",
        "http://[fd00:ec2::254]/latest/",
        "http://[::ffff:169.254.169.254]/latest/",
        "http://2852039166/latest/",  # 169.254.169.254 as one number
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_the_metadata_address_is_refused_naming_odata_url(api, base_a, address):
    response = api(Role.ACCOUNTANT).patch(
        f"/api/v1/accounting-bases/{base_a.pk}/", {"odata_url": address, "password": "x"}, format="json"
    )
    assert response.status_code == 400 and "odata_url" in response.json(), response.content
    assert AccountingBase.objects.get(pk=base_a.pk).odata_url == base_a.odata_url


def test_only_allowed_hosts_are_accepted_when_the_setting_lists_them(api, settings, org):
    settings.OUTBOUND_ALLOWED_HOSTS = ["1c.example.ru", "*.corp.local", "10.1.0.0/16"]
    client = api(Role.ACCOUNTANT)
    body = {"organization": org.pk, "kind": "odata", "username": USER, "password": PASSWORD}
    for n, host in enumerate(["1c.example.ru", "bp.corp.local", "10.1.2.3"]):
        url = f"http://{host}/bp/odata/standard.odata/"
        created = client.post("/api/v1/accounting-bases/", {**body, "name": f"ok {n}", "odata_url": url})
        assert created.status_code == 201, created.content
    for n, host in enumerate(["evil.example", "1c.example.ru.evil.example", "10.2.0.1", "127.0.0.1"]):
        url = f"http://{host}/bp/odata/standard.odata/"
        refused = client.post("/api/v1/accounting-bases/", {**body, "name": f"no {n}", "odata_url": url})
        assert refused.status_code == 400 and "odata_url" in refused.json(), host


def test_a_host_outside_the_allowed_ones_is_refused_at_connect_time(settings, fake):
    settings.OUTBOUND_ALLOWED_HOSTS = ["1c.example.ru"]
    with pytest.raises(AddressRefused), Client(fake.base_url("a"), USER, PASSWORD) as client:
        client.list("Catalog_Организации")
    assert fake.base("a").requests == 0


def test_a_name_resolving_to_a_metadata_address_is_refused_at_connect_time(monkeypatch, fake):
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host == "rebind.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", resolver)
    port = fake.server_address[1]
    with (
        pytest.raises(AddressRefused, match="169.254.169.254"),
        Client(f"http://rebind.test:{port}/a/odata/standard.odata/", USER, PASSWORD) as client,
    ):
        client.list("Catalog_Организации")


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch, fake):
    """DNS rebinding: the name answers a safe address when checked and a metadata one
    afterwards; the client connects to the checked address and never asks again."""
    real, answers = socket.getaddrinfo, []

    def resolver(host, port, *args, **kwargs):
        if host == "onec.test":
            address = "127.0.0.1" if not answers else "169.254.169.254"
            answers.append(address)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", resolver)
    port = fake.server_address[1]
    with Client(f"http://onec.test:{port}/a/odata/standard.odata/", USER, PASSWORD) as client:
        assert client.list("Catalog_Организации") == []
    assert answers == ["127.0.0.1"]
    assert fake.base("a").requests == 1


def test_a_redirect_is_not_followed_with_the_password(fake, org, base_a, customer):
    control(fake, "a", fail="redirect", times=5, location=fake.base_url(STEAL) + "Catalog_Elsewhere")
    with pytest.raises(Redirected, match=STEAL) as error, Client.for_base(base_a) as client:
        client.list("Catalog_Организации")
    assert error.value.status == 302 and not error.value.retryable
    invoice = issue(customer, org)
    assert onec.push_attempt(invoice.pk) == invoice.SyncStatus.FAILED
    invoice.refresh_from_db()
    assert "redirect" in invoice.sync_error and fake.base_url(STEAL) in invoice.sync_error
    assert fake.base(STEAL).requests == 0


# --- the audit trail ---------------------------------------------------------------------------
def test_changes_to_a_base_are_audited_without_its_password(api, fake, org, base_a):
    client = api(Role.ACCOUNTANT)
    url = f"/api/v1/accounting-bases/{base_a.pk}/"
    client.patch(url, {"odata_url": fake.base_url(STEAL), "password": "typed-again"}, format="json")
    client.patch(url, {"name": "БП — новая"}, format="json")
    events = list(AuditEvent.objects.filter(kind="accounting_base_changed").order_by("pk"))
    assert [e.details["changed"] for e in events] == [["odata_url"], ["name"]]
    assert [e.details["password_set"] for e in events] == [True, False]
    assert events[0].user == client.user and events[0].details["odata_url"] == fake.base_url(STEAL)
    for event in events:
        assert "typed-again" not in str(event.details) + event.summary
        assert PASSWORD not in str(event.details) + event.summary


def test_the_admin_creates_a_base_with_its_password_and_refuses_a_metadata_address(org):
    client = PageClient(headers={"Accept-Language": "en"})
    client.force_login(f.UserFactory(role=Role.ACCOUNTANT))
    data = {
        "name": "БП — из админки",
        "organization": org.pk,
        "kind": "odata",
        "odata_url": "http://169.254.169.254/latest/",
        "username": USER,
        "new_password": "from-admin",
        "is_active": "on",
    }
    refused = client.post("/admin/directory/accountingbase/add/", data)
    assert refused.status_code == 200 and b"metadata address" in refused.content
    assert not AccountingBase.objects.exists()
    saved = client.post(
        "/admin/directory/accountingbase/add/",
        {**data, "odata_url": "http://1c.local/bp/odata/standard.odata/"},
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    base = AccountingBase.objects.get()
    assert base.password == "from-admin"
    event = AuditEvent.objects.get(kind="accounting_base_changed")
    assert event.details["action"] == "created" and event.details["password_set"] is True


def test_a_proxy_from_the_environment_does_not_bypass_the_checks(monkeypatch, fake):
    monkeypatch.setenv("HTTP_PROXY", "http://169.254.169.254:3128")
    with Client(fake.base_url("a"), USER, PASSWORD) as client:
        assert client.list("Catalog_Организации") == []  # straight to the base, not the proxy
