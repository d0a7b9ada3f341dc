"""The SSRF guard of outbound requests (grants/outbound.py)."""

from __future__ import annotations

import pytest

from grants import outbound


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.5.5.5", "::1", "10.0.0.7", "172.16.3.4", "192.168.1.1", "169.254.169.254",
    "fe80::1", "fc00::5", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "0.0.0.0", "::", "224.0.0.1",
    "ff02::1", "240.0.0.1", "100.64.0.1", "255.255.255.255"])
def test_non_public_addresses_are_refused(address):
    assert not outbound.is_public(address)
    with pytest.raises(outbound.OutboundRefused, match="non-public"):
        outbound.resolve(address, 443, allow_private=False)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_pass(address):
    assert outbound.is_public(address)
    assert outbound.resolve(address, 443, allow_private=False) == [address]


def test_localhost_by_name_is_refused():
    with pytest.raises(outbound.OutboundRefused, match="localhost resolves to"):
        outbound.resolve("localhost", 80, allow_private=False)


def test_private_addresses_are_allowed_only_outside_production(app):
    assert outbound.private_allowed(app)  # testing: allowed by default
    app.config["OUTBOUND_ALLOW_PRIVATE"] = "0"
    assert not outbound.private_allowed(app)
    app.config["OUTBOUND_ALLOW_PRIVATE"] = "1"
    app.config["ENV_NAME"] = "production"
    assert not outbound.private_allowed(app)  # production: always refused


@pytest.mark.parametrize("url", ["ftp://example.org/", "https:///nohost", "javascript:alert(1)",
                                 "https://user:pw@example.org/", "https://example.org:99999/"])
def test_bad_urls_are_refused(url):
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url(url, require_https=False)


def test_production_requires_https():
    with pytest.raises(outbound.OutboundRefused, match="https"):
        outbound.check_url("http://example.org/", require_https=True)
    assert outbound.check_url("https://example.org/a?b=1", require_https=True) == (
        "https", "example.org", 443, "/a?b=1")


def test_the_request_goes_to_the_checked_address_with_the_host_name(app, receiver):
    """Outside production a receiver on localhost is allowed: the connection goes to the
    address resolved and checked, the Host header names the URL's host, and a redirect is an
    answer, not followed."""
    answer = outbound.post(app, f"http://localhost:{receiver.port}/in?x=1", b"{}",
                           {"Content-Type": "application/json"}, timeout=5)
    assert answer.status == 200 and answer.excerpt == "ok"
    (request,) = receiver.requests
    assert request.path == "/in?x=1"
    assert request.headers["Host"] == f"localhost:{receiver.port}"
    receiver.statuses = [302]
    assert outbound.post(app, receiver.at("/moved"), b"{}", {}, timeout=5).status == 302
    assert len(receiver.requests) == 2
