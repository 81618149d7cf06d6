"""The in-memory fan-out to live SSE subscribers, with a bounded buffer per subscriber.

Events reach the hub after their transaction committed, in commit order. Each subscriber has a queue
of at most ``buffer`` events; a subscriber whose queue is full is marked dropped (its stream ends and
the client reconnects with ``Last-Event-ID``, replayed from the table): a slow client never makes the
server buffer without bound, and never loses an event either.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Hub", "Subscriber"]


@dataclass(eq=False)
class Subscriber:
    """One live stream: the user, the channels it follows (None: all) and its bounded queue."""

    user_id: int
    channels: frozenset[str] | None
    queue: asyncio.Queue[dict[str, Any]]
    dropped: bool = False
    delivered: int = field(default=0)

    def wants(self, event: dict[str, Any]) -> bool:
        return event["user_id"] == self.user_id and (self.channels is None or event["channel"] in self.channels)


class Hub:
    """Subscribers by user; ``deliver`` runs on the event loop (``deliver_threadsafe`` from elsewhere)."""

    def __init__(self, buffer: int) -> None:
        self.buffer = max(1, buffer)
        self._subs: dict[int, set[Subscriber]] = {}
        self.dropped_total = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def add(self, user_id: int, channels: frozenset[str] | None) -> Subscriber:
        sub = Subscriber(user_id, channels, asyncio.Queue(maxsize=self.buffer))
        self._subs.setdefault(user_id, set()).add(sub)
        return sub

    def remove(self, sub: Subscriber) -> None:
        subs = self._subs.get(sub.user_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.user_id]

    def count(self, user_id: int | None = None) -> int:
        if user_id is None:
            return sum(len(s) for s in self._subs.values())
        return len(self._subs.get(user_id, ()))

    def deliver(self, events: list[dict[str, Any]]) -> None:
        """Hand committed events to the matching subscribers; a full queue drops its subscriber."""
        for event in events:
            for sub in tuple(self._subs.get(event["user_id"], ())):
                if sub.dropped or not sub.wants(event):
                    continue
                try:
                    sub.queue.put_nowait(event)
                    sub.delivered += 1
                except asyncio.QueueFull:
                    sub.dropped = True
                    self.dropped_total += 1

    def deliver_threadsafe(self, events: list[dict[str, Any]]) -> None:
        if self._loop is not None and events:
            self._loop.call_soon_threadsafe(self.deliver, events)
