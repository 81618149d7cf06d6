"""Input schemas of the memory routes: one declaration validates and documents each body."""

from __future__ import annotations

from ..errors import Invalid
from ..timeutil import now_iso
from ..validation import Field, Schema

__all__ = ["LIST", "STORE", "TAGS", "TRASH", "UPDATE", "FORGET", "MAX_CONTENT_CHARS"]

MAX_CONTENT_CHARS = 100 * 1024


def _in_future(value: str) -> str:
    """A TTL already past would store a memory that is forgotten at birth (201, then 404): refused."""
    if value <= now_iso():
        raise Invalid("forget_after", "must be in the future (the memory would be forgotten at once)")
    return value


STORE = Schema(
    Field("content", "text", required=True, max_len=MAX_CONTENT_CHARS, help="The memory text."),
    Field("category", "text", default="general", max_len=100),
    Field("source", "text", default="unknown", max_len=200),
    Field("importance", "int", default=5, min=1, max=10),
    Field("tags", "tags", default=[], max_items=50, help="Trimmed and lowercased."),
    Field("session_id", "str", max_len=200),
    Field("is_static", "bool", default=False, help="Core fact: always first in context."),
    Field("space_id", "int", min=1),
    Field("forget_after", "timestamp", check=_in_future, help="TTL: the memory is forgotten after this time (future)."),
    Field("status", "str", default="approved", choices=("approved", "pending")),
    Field("created_at", "timestamp", help="For imports of past conversations; default now."),
    Field("embedding", "float_list", max_items=8192, help="Optional vector of the model's dimension."),
    description="Store a memory.",
)

UPDATE = Schema(
    Field("content", "text", max_len=MAX_CONTENT_CHARS),
    Field("category", "text", max_len=100),
    Field("importance", "int", min=1, max=10),
    Field("tags", "tags", max_items=50),
    Field("is_static", "bool"),
    Field("status", "str", choices=("approved", "pending")),
    description="Make a new version of a memory; only the fields given change.",
)

TAGS = Schema(Field("tags", "tags", required=True, max_items=50), description="Replace a memory's tags.")

FORGET = Schema(Field("reason", "str", max_len=500), description="Forget a memory.")

LIST = Schema(
    Field("limit", "int", default=50, min=1, max=500),
    Field("offset", "int", default=0, min=0),
    Field("category", "str", max_len=100),
    Field("source", "str", max_len=200),
    Field("tags", "tags", max_items=20),
    Field("space_id", "int", min=1),
    Field("session_id", "str", max_len=200),
    Field("status", "str", choices=("approved", "pending")),
    Field("include_archived", "bool", default=False),
    Field("include_forgotten", "bool", default=False),
    description="List latest memories, newest first.",
)

TRASH = Schema(Field("limit", "int", default=50, min=1, max=500), Field("offset", "int", default=0, min=0))
