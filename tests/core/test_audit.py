"""The audit trail of access (``arenda/core/audit.py``): sign-ins and their failures, API
tokens, users' roles and rights, intake tokens and exports of reports with drivers' pay are
recorded with who, when and from which address; nothing changes an event; the admin reads
and filters them; old ones are purged."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.test import Client, override_settings
from django.utils import timezone

from arenda.core import audit
from arenda.core.models import AuditEvent
from arenda.core.roles import Role

pytestmark = pytest.mark.django_db
PROXY = "10.0.0.1"


def kinds():
    return list(AuditEvent.objects.order_by("pk").values_list("kind", flat=True))


@override_settings(TRUSTED_PROXIES=1)
def test_sign_ins_and_failures_are_recorded_with_the_clients_address(make_user):
    user = make_user(Role.MANAGER, username="petrov")
    user.set_password("right-password-1")
    user.save()
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    client.post("/accounts/login/", {"username": "petrov", "password": "wrong"})
    client.post("/accounts/login/", {"username": "petrov", "password": "right-password-1"})
    failed, signed_in = AuditEvent.objects.order_by("pk")
    assert (failed.kind, failed.username, failed.user, failed.address) == (
        "sign_in_failed",
        "petrov",
        None,
        "203.0.113.5",
    )
    assert (signed_in.kind, signed_in.user, signed_in.address) == ("sign_in", user, "203.0.113.5")


def test_an_api_token_issued_is_recorded(make_user, client):
    user = make_user(Role.ACCOUNTANT, username="belova")
    user.set_password("right-password-1")
    user.save()
    response = client.post("/api/v1/auth/token/", {"username": "belova", "password": "right-password-1"})
    assert response.status_code == 200
    assert kinds() == ["sign_in", "api_token_issued"]
    client.post("/api/v1/auth/token/", {"username": "belova", "password": "right-password-1"})
    assert kinds().count("api_token_issued") == 1, "the same token again is not a new one"


def test_a_role_change_is_recorded_with_what_changed(api, make_user):
    admin = api(Role.ADMIN)
    target = make_user(Role.MANAGER, username="sidorov")
    response = admin.patch(f"/api/v1/users/{target.pk}/", {"role": "accountant"}, format="json")
    assert response.status_code == 200
    event = AuditEvent.objects.get(kind="user_access_changed")
    assert (event.user, event.target, event.details["changes"]) == (
        admin.user,
        "sidorov",
        {"role": ["manager", "accountant"]},
    )
    admin.patch(f"/api/v1/users/{target.pk}/", {"full_name": "Сидоров С. С."}, format="json")
    assert AuditEvent.objects.filter(kind="user_access_changed").count() == 1, "a name is not access"


def test_intake_tokens_made_and_revoked_are_recorded(api):
    admin = api(Role.ADMIN)
    made = admin.post("/api/v1/intake-tokens/", {"name": "Сайт", "source": "website"}, format="json")
    assert made.status_code == 201, made.content
    admin.post(f"/api/v1/intake-tokens/{made.json()['id']}/revoke/")
    assert [k for k in kinds() if k.startswith("intake")] == ["intake_token_created", "intake_token_revoked"]
    assert "Сайт" in AuditEvent.objects.get(kind="intake_token_revoked").target


def test_an_export_with_drivers_pay_is_recorded_and_one_without_is_not(api):
    api(Role.ACCOUNTANT).get("/api/v1/reports/driver-payroll/?period=this_month&format=csv")
    api(Role.MANAGER).get("/api/v1/reports/driver-payroll/?period=this_month&format=csv")
    api(Role.ACCOUNTANT).get("/api/v1/reports/driver-payroll/?period=this_month")
    (event,) = AuditEvent.objects.filter(kind="report_exported")
    assert event.user.role == Role.ACCOUNTANT and event.details["format"] == "csv"


def test_an_event_is_never_changed():
    event = audit.record(audit.Kind.SIGN_IN_FAILED, username="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(username="y")
    assert AuditEvent.objects.get(pk=event.pk).username == "x"


@override_settings(AUDIT_RETENTION_DAYS=30)
def test_old_events_are_purged_after_the_retention_period():
    old, recent = (audit.record(audit.Kind.SIGN_OUT, username=name) for name in ("old", "recent"))
    assert audit.purge(now=timezone.now() + timedelta(days=31)) == 2
    assert audit.purge() == 0
    assert not AuditEvent.objects.filter(pk__in=[old.pk, recent.pk]).exists()


def test_only_the_administrator_reads_the_trail(client, make_user):
    audit.record(audit.Kind.SIGN_IN_FAILED, username="intruder")
    client.force_login(make_user(Role.ADMIN))
    page = client.get("/admin/core/auditevent/?kind__exact=sign_in_failed")
    assert page.status_code == 200 and "intruder" in page.content.decode()
    assert client.get("/admin/core/auditevent/add/").status_code == 403
    client.force_login(make_user(Role.ACCOUNTANT))
    assert client.get("/admin/core/auditevent/").status_code == 403
