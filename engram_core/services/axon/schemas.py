"""Request schemas of the axon routes (Rust and TypeScript reference field names both accepted)."""

from __future__ import annotations

from typing import Any

from ...errors import Invalid
from ...validation import BLANK_CHARS, Field, Schema
from ..ssrf import URL_SCHEMA

__all__ = ["CHANNEL", "CURSOR", "EVENTS", "POLL", "PUBLISH", "STREAM", "SUBSCRIBE", "SUBSCRIPTIONS", "UNSUBSCRIBE"]


def _one_line(value: Any) -> Any:
    """Names travel in SSE ``event:`` lines: no line breaks."""
    if isinstance(value, str) and ("\n" in value or "\r" in value):
        raise Invalid(None, "must be a single line")
    return value


def _line(name: str, **kw: Any) -> Field:
    def check(value: Any) -> Any:
        try:
            return _one_line(value)
        except Invalid:
            raise Invalid(name, "must not contain line breaks") from None

    kind = kw.pop("kind", "text")
    max_len = kw.pop("max_len", 200)
    schema: dict[str, Any] = {"type": "string", "maxLength": max_len, "pattern": _ONE_LINE}
    if kind == "text":
        schema.update(minLength=1, pattern=_ONE_LINE_TEXT)
    if kw.get("default") is not None:
        schema["default"] = kw["default"]
    return Field(name, kind, max_len=max_len, check=check, schema=schema, **kw)


_ONE_LINE = "^[^\\u0000\\r\\n]*$"
_ONE_LINE_TEXT = f"^[^\\u0000\\r\\n]*[^\\u0000{BLANK_CHARS}][^\\u0000\\r\\n]*$"


PUBLISH = Schema(
    _line("channel", required=True),
    _line("action", aliases=("event_type", "type"), default="event"),
    Field("payload", "object", aliases=("data",), help="A JSON object (default {}); size-limited."),
    _line("source", kind="str"),
    _line("agent", kind="str"),
    description="Publish one event on a channel.",
)
EVENTS = Schema(
    Field("channel", "str", max_len=200),
    Field("action", "str", aliases=("event_type", "type"), max_len=200),
    Field("source", "str", max_len=200),
    Field("since_id", "int", min=0),
    Field("limit", "int", default=100, min=1, max=1000),
)
CHANNEL = Schema(
    _line("name", required=True),
    Field("description", "str", max_len=2000),
    Field("retain_hours", "int", default=168, min=1, max=24 * 365 * 10),
    description="Create a channel (idempotent).",
)
SUBSCRIBE = Schema(
    _line("agent", default="default"),
    _line("channel", required=True),
    Field("filter_type", "str", max_len=200),
    Field(
        "webhook_url",
        "str",
        max_len=500,
        help="http(s) URL the channel's events are POSTed to (signed, retried); private and loopback hosts refused.",
        schema=URL_SCHEMA,
    ),
    Field("secret", "str", max_len=200, help="HMAC secret of the webhook_url deliveries; generated when omitted."),
    description="Subscribe an agent to a channel (upserts on agent and channel).",
)
UNSUBSCRIBE = Schema(
    _line("agent", default="default"), _line("channel", required=True), description="Remove a subscription."
)
SUBSCRIPTIONS = Schema(Field("agent", "str", max_len=200))
POLL = Schema(
    _line("agent", default="default"),
    _line("channel", kind="str", help="One channel; omitted: every channel of the caller."),
    Field("cursor", "int", min=0, help="Read after this event id without storing a cursor."),
    Field("limit", "int", default=100, min=1, max=1000),
    description="Events after the agent's cursor (ascending); the cursor advances past them.",
)
CURSOR = Schema(_line("agent", default="default"), _line("channel", kind="str"))
STREAM = Schema(
    Field("agent", "str", max_len=200),
    Field("channels", "str_list", aliases=("channel",), max_items=50, help="Comma-separated; omitted: all."),
    Field("last_event_id", "int", min=0, help="Resume after this id (the Last-Event-ID header wins)."),
)
