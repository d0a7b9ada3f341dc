"""Outbound HTTP requests to addresses people type in (webhooks, later other integrations),
guarded against server-side request forgery (SSRF).

Before connecting, the host is resolved and every address it resolves to is checked: private,
loopback, link-local, multicast, reserved, unspecified and other non-global addresses (IPv4 and
IPv6, also IPv4-mapped IPv6 such as ``::ffff:127.0.0.1``) are refused unless private addresses
are allowed. The connection then goes to the very address that was checked (no second DNS
look-up, so no DNS rebinding between check and connect), with the URL's host name in the
``Host`` header and as the TLS server name (SNI, certificate check). Redirects are never
followed: a 3xx answer is just an answer.

Private addresses are refused whenever ``GRANTS_ENV=production``. Elsewhere the setting
``OUTBOUND_ALLOW_PRIVATE`` (environment ``GRANTS_OUTBOUND_ALLOW_PRIVATE``, "0" or "1") decides;
it defaults to allowed in development and testing, so a receiver on localhost works there."""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask

EXCERPT_BYTES = 2000


class OutboundRefused(Exception):
    """The URL may not be called (bad URL, or an address that is not public)."""


@dataclass
class Response:
    status: int
    excerpt: str


def private_allowed(app: Flask) -> bool:
    if app.config.get("ENV_NAME") == "production":
        return False
    value = app.config.get("OUTBOUND_ALLOW_PRIVATE")
    if value is None:
        value = os.environ.get("GRANTS_OUTBOUND_ALLOW_PRIVATE")
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def is_public(address: str) -> bool:
    """True for a globally routable unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified or not ip.is_global)


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses to connect to, in the resolver's order. Every address the name resolves
    to must be public (unless private ones are allowed): one bad answer refuses the host."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundRefused(f"The host {host} could not be resolved: {exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise OutboundRefused(f"The host {host} has no address.")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise OutboundRefused(
                    f"Refused: {host} resolves to {address}, a private, loopback or otherwise "
                    "non-public address.")
    return addresses


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A connection to the first of the checked addresses that answers (never a new look-up)."""
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error or OSError("no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, addresses: list[str], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, addresses: list[str], timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._addresses = addresses

    def connect(self) -> None:
        sock = _connect(self._addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def check_url(url: str, *, require_https: bool) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of a URL we may call, or OutboundRefused."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise OutboundRefused("The address is not a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("The address must be an http(s) URL with a host.")
    if require_https and parts.scheme != "https":
        raise OutboundRefused("The address must use https.")
    if parts.username or parts.password:
        raise OutboundRefused("The address may not contain a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundRefused("The address has an invalid port.") from exc
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, parts.hostname, port, path


def post(app: Flask, url: str, body: bytes, headers: dict[str, str], *,
         timeout: float = 10.0) -> Response:
    """POST `body` to `url` through the guard. Raises OutboundRefused before connecting, and
    OSError / http.client.HTTPException for network trouble."""
    production = app.config.get("ENV_NAME") == "production"
    scheme, host, port, path = check_url(url, require_https=production)
    addresses = resolve(host, port, allow_private=private_allowed(app))
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, addresses, timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        excerpt = answer.read(EXCERPT_BYTES).decode("utf-8", "replace")
        return Response(answer.status, excerpt)
    finally:
        connection.close()
