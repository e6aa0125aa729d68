"""The outbound checks themselves (``arenda/integrations/outbound.py``): which addresses the
app refuses to call and how ``OUTBOUND_ALLOWED_HOSTS`` reads."""

import pytest

from arenda.integrations.outbound import OutboundRefused, check_url, forbidden_ip, host_allowed


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "169.254.0.1", "fe80::1", "fe80::1%eth0", "fd00:ec2::254", "::ffff:169.254.169.254",
     "2852039166", "0xa9.0xfe.0xa9.0xfe"],
)  # fmt: skip
def test_link_local_and_metadata_addresses_are_forbidden(address):
    assert forbidden_ip(address)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.0.0.5", "192.168.1.10", "::1", "fd00:ec2::253", "1c.local"]
)
def test_loopback_private_and_names_are_not_forbidden_addresses(address):
    assert not forbidden_ip(address)


@pytest.mark.parametrize(
    "url",
    ["ftp://1c.local/odata/", "file:///etc/passwd", "http:///odata/", "http://1c.local:99999/odata/",
     "http://metadata/computeMetadata/v1/", "https://169.254.169.254/"],
)  # fmt: skip
def test_urls_the_app_does_not_call(url):
    with pytest.raises(OutboundRefused):
        check_url(url)


def test_allowed_hosts_match_names_subdomains_addresses_and_networks(settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["1C.example.ru", "*.corp.local", "10.1.0.0/16", "192.168.5.7"]
    for host in ("1c.example.ru", "bp.corp.local", "a.b.corp.local", "10.1.200.3", "192.168.5.7"):
        assert host_allowed(host), host
    for host in (
        "example.ru",
        "corp.local",
        "evilcorp.local",
        "10.2.0.1",
        "192.168.5.8",
        "1c.example.ru.evil",
    ):
        assert not host_allowed(host), host
    settings.OUTBOUND_ALLOWED_HOSTS = []
    assert host_allowed("anything.example")
