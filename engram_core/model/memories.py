"""Which memory rows a caller sees, and the owned-memory lookup.

Every rule is SQL over a ``memories`` table aliased ``m`` (the functions take another alias, ``""`` for
none). ``:now`` is bound by the caller where a rule names it.
"""

from __future__ import annotations

from typing import Any

from ..storage.owned import owned_row

__all__ = ["ACTIVE", "CURRENT", "UNEXPIRED", "VISIBLE", "active", "current", "owned_memory", "visible"]

CURRENT = "m.is_latest = 1 AND m.is_deleted = 0"
"""The latest version of a memory, not in the trash: what counts and quotas count."""

ACTIVE = "m.is_latest = 1 AND m.is_forgotten = 0 AND m.is_deleted = 0 AND m.is_consolidated = 0"
"""Latest, not forgotten, not in the trash, not consolidated into another: what the vector index holds
(a TTL is applied at query time, so an expiring memory stays indexed until the sweep forgets it)."""

UNEXPIRED = "(m.forget_after IS NULL OR m.forget_after > :now)"
"""Not past its TTL."""

# A memory that reads and search see: latest version, not forgotten, not consolidated into another,
# not in the trash, not past its TTL. ``:now`` is bound by the caller.
VISIBLE = (
    "m.is_latest = 1 AND m.is_forgotten = 0 AND m.is_consolidated = 0 AND m.is_deleted = 0"
    " AND (m.forget_after IS NULL OR m.forget_after > :now)"
)


def _aliased(rule: str, alias: str) -> str:
    return rule.replace("m.", f"{alias}." if alias else "")


def visible(alias: str) -> str:
    """``VISIBLE`` for a memories table aliased ``alias`` (``:now`` is bound by the caller)."""
    return _aliased(VISIBLE, alias)


def current(alias: str = "m") -> str:
    """``CURRENT`` for a memories table aliased ``alias`` (``""``: bare column names)."""
    return _aliased(CURRENT, alias)


def active(alias: str = "m") -> str:
    """``ACTIVE`` for a memories table aliased ``alias`` (``""``: bare column names)."""
    return _aliased(ACTIVE, alias)


def owned_memory(conn: Any, user_id: int, memory_id: int, *, trashed: bool = False) -> Any:
    """The user's memory row ``memory_id`` (any version, forgotten or archived too), else NotFound.

    A memory in the trash is found only with ``trashed=True``; otherwise it is NotFound like another
    user's id, with the same message.
    """
    return owned_row(conn, "memories", user_id, memory_id, "memory", not_deleted=not trashed)
