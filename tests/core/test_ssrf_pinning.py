"""DNS rebinding: the webhook client dials the address it checked, and refuses a name resolving inside.

The receiver is a real HTTP server on loopback. The one stand-in is DNS: ``ssrf.resolve`` answers a
rebinding name (public on the check, loopback on the connection), as a hostile resolver would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from engram_core.errors import Invalid
from engram_core.services import ssrf
from tests.e2e.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()


def _post(url: str, *, allow_private: bool) -> httpx.Response | httpx.HTTPError:
    async def go() -> httpx.Response | httpx.HTTPError:
        async with ssrf.pinned_client(allow_private=allow_private) as client:
            try:
                return await client.post(url, content=b"{}", timeout=5)
            except httpx.HTTPError as exc:
                return exc

    return asyncio.run(go())


def test_a_name_resolving_to_loopback_is_refused_at_connect(receiver: Receiver) -> None:
    port = receiver.server.server_address[1]
    out = _post(f"http://localhost:{port}/hook", allow_private=False)
    assert isinstance(out, httpx.ConnectError) and "refused: SSRF" in str(out)
    assert receiver.on("/hook") == []  # nothing reached the receiver
    ok = _post(f"http://localhost:{port}/hook", allow_private=True)
    assert isinstance(ok, httpx.Response) and ok.status_code == 200 and len(receiver.on("/hook")) == 1


def test_a_rebinding_name_passes_the_check_and_is_refused_at_connect(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # the check sees a public address, the dial loopback

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers) if host == "rebind.example" else ["203.0.113.9"]

    monkeypatch.setattr(ssrf, "resolve", rebinding)
    port = receiver.server.server_address[1]
    url = f"http://rebind.example:{port}/hook"

    async def check_then_post() -> httpx.Response | httpx.HTTPError:
        await ssrf.check_url(url, "url", allow_private=False, must_resolve=True)  # passes: public
        async with ssrf.pinned_client(allow_private=False) as client:
            try:
                return await client.post(url, content=b"{}", timeout=5)
            except httpx.HTTPError as exc:
                return exc

    out = asyncio.run(check_then_post())
    assert isinstance(out, httpx.ConnectError) and "127.0.0.1" in str(out)
    assert receiver.requests == []
    with pytest.raises(Invalid):  # and a name answering loopback up front fails the check itself
        monkeypatch.setattr(ssrf, "resolve", lambda h, p: _answer(["127.0.0.1"]))
        asyncio.run(ssrf.check_url(url, "url", allow_private=False, must_resolve=True))


async def _answer(addresses: list[str]) -> list[str]:
    return addresses


def test_the_connection_goes_to_the_resolved_address_with_the_name_as_host(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hooks_test(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "hooks.test" else []

    monkeypatch.setattr(ssrf, "resolve", hooks_test)
    port = receiver.server.server_address[1]
    out = _post(f"http://hooks.test:{port}/pinned", allow_private=True)
    assert isinstance(out, httpx.Response) and out.status_code == 200
    assert receiver.on("/pinned")[0].headers["host"] == f"hooks.test:{port}"
