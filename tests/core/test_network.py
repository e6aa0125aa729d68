"""The client's address (``arenda/core/network.py``): behind nginx every request came from the
proxy's address, so five wrong passwords from anyone locked the username for everyone.
With ``TRUSTED_PROXIES`` the client is read from X-Forwarded-For counted from the right;
without it the header is ignored."""

import pytest
from django.test import Client, RequestFactory, override_settings

from arenda.core.network import client_address
from arenda.core.roles import Role

PROXY = "10.0.0.1"


def address(forwarded=None, remote=PROXY):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_without_trusted_proxies_the_header_is_ignored():
    assert address("203.0.113.7") == PROXY


@override_settings(TRUSTED_PROXIES=1)
def test_one_proxy_the_client_is_the_last_forwarded_address():
    assert address("203.0.113.7") == "203.0.113.7"
    assert address("6.6.6.6, 203.0.113.7") == "203.0.113.7", "what the client wrote is not believed"
    assert address(None) == PROXY, "a request that did not come through the proxy"
    assert address("not an address") == PROXY
    assert address("2001:db8::7") == "2001:db8::7"


@override_settings(TRUSTED_PROXIES=2)
def test_two_proxies_count_two_from_the_right():
    assert address("6.6.6.6, 203.0.113.7, 10.0.0.2") == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=("10.0.0.0/8",))
def test_trusted_proxy_addresses_are_skipped_from_the_right():
    assert address("6.6.6.6, 203.0.113.7, 10.0.0.2") == "203.0.113.7"
    assert address("203.0.113.7", remote="198.51.100.9") == "198.51.100.9", "not through our proxies"


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=1, AXES_FAILURE_LIMIT=3)
def test_a_lockout_behind_the_proxy_is_the_attackers_not_everyones(make_user):
    user = make_user(Role.MANAGER, username="ivanov")
    user.set_password("right-password-1")
    user.save()

    def sign_in(password, client_ip):
        return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_ip).post(
            "/accounts/login/", {"username": "ivanov", "password": password}
        )

    for _ in range(4):
        sign_in("wrong", "203.0.113.66")
    assert sign_in("right-password-1", "203.0.113.66").status_code in (403, 429), "the attacker is locked"
    assert sign_in("right-password-1", "198.51.100.20").status_code == 302, "the real user is not"
