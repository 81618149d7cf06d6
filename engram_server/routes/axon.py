"""axon routes: the event bus (publish, list, channels, subscriptions, cursor polling, SSE stream)."""

from __future__ import annotations

from typing import Any

from engram_core.services.axon.schemas import (
    CHANNEL,
    CURSOR,
    EVENTS,
    POLL,
    PUBLISH,
    STREAM,
    SUBSCRIBE,
    SUBSCRIPTIONS,
    UNSUBSCRIBE,
)

from ..routing import ApiRequest, api
from ..sse import EventStream


async def publish(r: ApiRequest) -> Any:
    """Publish an event on a channel."""
    return 201, await r.engram.services.axon.publish(r.auth, r.body)


async def events(r: ApiRequest) -> Any:
    """The caller's events, newest first."""
    return await r.engram.services.axon.events(r.auth, r.query)


async def event(r: ApiRequest) -> Any:
    """One event."""
    return await r.engram.services.axon.event(r.auth, r.path_int())


async def channels(r: ApiRequest) -> Any:
    """The caller's channels with event and subscriber counts."""
    return await r.engram.services.axon.channels(r.auth)


async def create_channel(r: ApiRequest) -> Any:
    """Create a channel (idempotent)."""
    return 201, await r.engram.services.axon.create_channel(r.auth, r.body)


async def subscribe(r: ApiRequest) -> Any:
    """Subscribe an agent to a channel."""
    return 201, await r.engram.services.axon.subscribe(r.auth, r.body)


async def unsubscribe(r: ApiRequest) -> Any:
    """Remove an agent's subscription."""
    return await r.engram.services.axon.unsubscribe(r.auth, r.body)


async def subscriptions(r: ApiRequest) -> Any:
    """The caller's subscriptions (of one agent with ?agent=)."""
    return await r.engram.services.axon.subscriptions(r.auth, r.query)


async def poll(r: ApiRequest) -> Any:
    """Events after the agent's cursor; the cursor advances past them."""
    return await r.engram.services.axon.poll(r.auth, r.body)


async def poll_get(r: ApiRequest) -> Any:
    """Events after the agent's cursor (query-string form of POST /axon/poll)."""
    return await r.engram.services.axon.poll(r.auth, r.query)


async def cursor(r: ApiRequest) -> Any:
    """An agent's stored cursor."""
    return await r.engram.services.axon.cursor(r.auth, r.query)


async def stats(r: ApiRequest) -> Any:
    """Counts of the caller's events, channels, subscriptions and live streams."""
    return await r.engram.services.axon.stats(r.auth)


async def stream(r: ApiRequest) -> Any:
    """Server-Sent Events: live events (resume with Last-Event-ID), heartbeat comments."""
    axon = r.engram.services.axon
    chans, last = axon.stream_params(r.query, r.request.headers.get("last-event-id"))
    if last is None:  # from now on: fixed before the response starts, so nothing published after is missed
        last = await axon.head(r.auth)
    items = axon.stream(r.auth, chans, last)
    return EventStream(items, send_timeout=r.engram.settings.axon_send_timeout_seconds, bus=axon)


T = "axon"
routes = [
    api("/axon/publish", publish, methods=("POST",), scope="write", body=PUBLISH, tag=T, ok=(201,)),
    api("/axon/events", events, query=EVENTS, tag=T),
    api("/axon/events/{id:int}", event, tag=T),
    api("/axon/channels", channels, tag=T),
    api("/axon/channels", create_channel, methods=("POST",), scope="write", body=CHANNEL, tag=T, ok=(201,)),
    api("/axon/subscribe", subscribe, methods=("POST",), scope="write", body=SUBSCRIBE, tag=T, ok=(201,)),
    api("/axon/subscribe", unsubscribe, methods=("DELETE",), scope="write", body=UNSUBSCRIBE, tag=T),
    api("/axon/unsubscribe", unsubscribe, methods=("POST",), scope="write", body=UNSUBSCRIBE, tag=T, ok=(200,)),
    api("/axon/subscriptions", subscriptions, query=SUBSCRIPTIONS, tag=T),
    api("/axon/poll", poll, methods=("POST",), scope="write", body=POLL, tag=T, ok=(200,)),
    api(
        "/axon/poll", poll_get, scope="write", query=POLL, tag=T, summary="Events after the agent's cursor (GET form)."
    ),
    api("/axon/cursor", cursor, query=CURSOR, tag=T),
    api("/axon/stats", stats, tag=T),
    api("/axon/stream", stream, query=STREAM, tag=T, produces="text/event-stream"),
]
