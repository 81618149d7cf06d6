"""Webhook routes: register, list, delete, test, dead letters and their redelivery."""

from __future__ import annotations

from typing import Any

from engram_core.services.webhooks.service import DEAD_LETTERS, HOOK, TEST

from ..routing import ApiRequest, api


async def create(r: ApiRequest) -> Any:
    """Register a webhook (signed deliveries of the caller's events)."""
    return 201, await r.engram.services.webhooks.create(r.auth, r.body)


async def list_(r: ApiRequest) -> Any:
    """The caller's webhooks with pending and dead delivery counts."""
    return await r.engram.services.webhooks.hooks(r.auth)


async def delete(r: ApiRequest) -> Any:
    """Delete a webhook and its queued deliveries."""
    return await r.engram.services.webhooks.delete(r.auth, r.path_int())


async def test(r: ApiRequest) -> Any:
    """Send one signed test delivery now and report the answer."""
    return await r.engram.services.webhooks.test(r.auth, r.path_int(), r.body)


async def dead_letters(r: ApiRequest) -> Any:
    """A webhook's dead letters (deliveries that failed every attempt)."""
    return await r.engram.services.webhooks.dead_letters(r.auth, r.path_int(), r.query)


async def all_dead_letters(r: ApiRequest) -> Any:
    """The caller's dead letters across webhooks."""
    return await r.engram.services.webhooks.dead_letters(r.auth, None, r.query)


async def redeliver(r: ApiRequest) -> Any:
    """Queue a dead letter for delivery again."""
    return await r.engram.services.webhooks.redeliver(r.auth, r.path_int())


T = "webhooks"
routes = [
    api("/webhooks", create, methods=("POST",), scope="write", body=HOOK, tag=T, ok=(201,)),
    api("/webhooks", list_, tag=T),
    api("/webhooks/{id:int}", delete, methods=("DELETE",), scope="write", tag=T),
    api("/webhooks/test/{id:int}", test, methods=("POST",), scope="write", body=TEST, tag=T, ok=(200,), cost=5),
    api("/webhooks/{id:int}/dead-letters", dead_letters, query=DEAD_LETTERS, tag=T),
    api("/webhooks/dead-letters", all_dead_letters, query=DEAD_LETTERS, tag=T),
    api("/webhooks/deliveries/{id:int}/retry", redeliver, methods=("POST",), scope="write", tag=T, ok=(200,)),
]
