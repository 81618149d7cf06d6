"""Outgoing URL checks (SSRF): http(s) only, and no private, loopback, link-local or metadata targets
unless the operator allows them (``ENGRAM_WEBHOOK_ALLOW_PRIVATE``, for a receiver on the same host).

``pinned_client`` closes the DNS-rebinding gap between the check and the connection: its network backend
resolves the host once, checks every address, and connects to the checked address (TLS still verifies
and sends SNI for the host name), so a name re-pointed inside between check and connect is refused."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from ..errors import Invalid
from ..tls import tls_context

__all__ = ["URL_SCHEMA", "check_url", "check_url_shape", "pinned_client", "resolve"]

# What /openapi.json publishes for a target URL. Whether a host is private (or resolves to a private
# address) is a rule JSON Schema cannot state: such URLs match the pattern and are refused (400, "SSRF").
URL_SCHEMA = {"type": "string", "pattern": "^https?://[A-Za-z0-9.-]+(/[!-~]*)?$", "maxLength": 500}

_BLOCKED_NAMES = {"localhost", "metadata.google.internal", "metadata", "instance-data"}


def check_url_shape(url: str, field: str, *, allow_private: bool) -> tuple[str, int]:
    """Validate the URL's form (scheme, host, literal addresses); returns (host, port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Invalid(field, "is not a valid URL") from None
    if parts.scheme not in {"http", "https"}:
        raise Invalid(field, "must be an http:// or https:// URL")
    host = (parts.hostname or "").strip().lower()
    if not host:
        raise Invalid(field, "has no host")
    if parts.username or parts.password:
        raise Invalid(field, "must not carry credentials")
    if not allow_private:
        if host in _BLOCKED_NAMES or host.endswith((".localhost", ".internal", ".local")):
            raise Invalid(field, f"host {host!r} is private or local (refused: SSRF)")
        _check_address(host, field)
    return host, port or (443 if parts.scheme == "https" else 80)


def _check_address(addr: str, field: str) -> None:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return  # a name: checked once resolved
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        raise Invalid(field, f"address {addr} is private, loopback, link-local or reserved (refused: SSRF)")


async def check_url(url: str, field: str, *, allow_private: bool, must_resolve: bool = False) -> None:
    """``check_url_shape`` plus every address the host resolves to (a name pointing inside is refused).

    A name that does not resolve is accepted when a hook is registered (DNS may be down; ``must_resolve``
    False) and refused before each delivery, which checks again (a name re-pointed inside is caught then).
    """
    host, port = check_url_shape(url, field, allow_private=allow_private)
    if allow_private:
        return
    try:
        addresses = await resolve(host, port)
    except (OSError, UnicodeError):
        if must_resolve:
            raise Invalid(field, f"host {host!r} does not resolve") from None
        return
    for addr in addresses:
        _check_address(addr, field)


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the one resolver the check and the pinned connection share)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every address, connect to the first one: the address checked is the one dialled."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"host {host!r} does not resolve: {exc}") from None
        if not addresses:
            raise httpcore.ConnectError(f"host {host!r} does not resolve")
        if not self.allow_private:
            try:
                for addr in addresses:
                    _check_address(addr, "url")
            except Invalid as exc:
                raise httpcore.ConnectError(f"host {host!r}: {exc.message}") from None
        return await self._inner.connect_tcp(addresses[0], port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not webhook targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def pinned_client(*, allow_private: bool) -> httpx.AsyncClient:
    """An httpx client that connects only to addresses it has checked (no redirects, no env proxies)."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx does not take a network backend; its transport is a thin wrapper over this pool.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls_context(), network_backend=_PinnedBackend(allow_private)
    )
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)
