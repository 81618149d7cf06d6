"""EngramClient and proxies (issue 13): a loopback Engram is reached directly whatever http_proxy /
HTTPS_PROXY / ALL_PROXY say; a remote one keeps the environment's proxy. A stand-in server on loopback plays
Engram or the proxy and records the request line's target (a path when asked directly, an absolute URI when
asked as a proxy)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engram_client.client import EngramClient
from engram_client.hook import is_loopback
from engram_core import loopback
from tests.e2e.support import PROXY_VARS, free_port


class _StandIn(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[tuple[str, type[_StandIn]]]:
    handler = type("Handler", (_StandIn,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def _proxy_env(monkeypatch: pytest.MonkeyPatch, proxy: str) -> None:
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name in PROXY_VARS:
        monkeypatch.setenv(name, proxy)


async def _health(url: str) -> object:
    async with EngramClient(url, "k", timeout=5) as engram:
        return await engram.health()


@pytest.mark.parametrize("rule", [is_loopback, loopback.is_loopback], ids=["hook", "core"])
def test_loopback_hosts_and_nothing_else(rule: object) -> None:
    """The hook's standalone rule and the core's (the server's outgoing clients, EngramClient) agree."""
    assert callable(rule)
    assert all(map(rule, ["127.0.0.1", "127.8.9.10", "LocalHost", "engram.localhost", "::1"]))
    assert not any(map(rule, ["127.example.com", "10.0.0.1", "engram.invalid", "::ffff:10.0.0.1", ""]))


def test_direct_mounts_name_only_loopback_hosts() -> None:
    mounts = loopback.direct_mounts("http://127.0.0.1:11434/v1", "http://[::1]:8000", "https://api.openai.com/v1", "")
    assert mounts == {"all://127.0.0.1": None, "all://[::1]": None}


def test_a_loopback_engram_is_reached_directly(
    stand_in: tuple[str, type[_StandIn]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every proxy variable names a dead loopback port: 127.0.0.1 and localhost are still asked directly."""
    base, handler = stand_in
    _proxy_env(monkeypatch, f"http://127.0.0.1:{free_port()}")
    for url in (base, base.replace("127.0.0.1", "localhost")):
        assert asyncio.run(_health(url)) == {"status": "ok"}, url
    assert handler.seen == ["/health", "/health"]


def test_a_remote_engram_still_goes_through_the_proxy(
    stand_in: tuple[str, type[_StandIn]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stand-in is the proxy: it gets the remote URL as an absolute URI (httpx's own proxy handling)."""
    proxy, handler = stand_in
    _proxy_env(monkeypatch, proxy)
    assert asyncio.run(_health("http://engram.invalid:4200")) == {"status": "ok"}
    assert handler.seen == ["http://engram.invalid:4200/health"]
