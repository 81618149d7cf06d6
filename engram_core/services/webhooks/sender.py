"""One signed webhook POST: the body, its HMAC signature and the headers that carry them.

The body is ``{"id", "event", "timestamp", "data"}`` built at send time, so the signed bytes carry the
moment of sending: a receiver refuses a replay by checking the timestamp is recent and the signature
``X-Engram-Signature: sha256=<hex HMAC-SHA256(secret, body)>`` matches. ``X-Engram-Timestamp`` repeats
the timestamp (Unix seconds) and ``X-Engram-Delivery`` names the delivery (the same on every retry).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["Outcome", "send", "sign"]


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None
    latency_ms: float


async def send(
    client: httpx.AsyncClient, url: str, secret: str, delivery_id: int | None, event: str, data: Any, timeout: float
) -> Outcome:
    now = int(time.time())
    body = json.dumps(
        {"id": delivery_id, "event": event, "timestamp": now, "data": data}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "engram-webhooks/1",
        "X-Engram-Event": event,
        "X-Engram-Timestamp": str(now),
        "X-Engram-Delivery": str(delivery_id or 0),
        "X-Engram-Signature": sign(secret, body),
    }
    started = time.perf_counter()
    try:
        r = await client.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500], (time.perf_counter() - started) * 1000)
    latency = (time.perf_counter() - started) * 1000
    if 200 <= r.status_code < 300:
        return Outcome(True, r.status_code, None, latency)
    return Outcome(False, r.status_code, f"HTTP {r.status_code}", latency)
