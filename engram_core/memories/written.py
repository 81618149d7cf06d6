"""The row values in-transaction hooks get for a memory a store or update just wrote (no re-read)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["BatchTxHook", "TxHook", "WrittenMemory"]


@dataclass(frozen=True, slots=True)
class WrittenMemory:
    """A memory row inserted by the current write transaction (a new memory or a new version)."""

    id: int
    user_id: int
    content: str
    category: str
    embedded: bool
    replaces: int | None = None  # the version this one superseded (an update), else None


#: Runs inside every store/update transaction with the written row: ``hook(conn, memory)``.
TxHook = Callable[[Any, WrittenMemory], object]

#: The same follow-up for several memories one transaction wrote (``store_many``): ``hook(conn, memories)``,
#: e.g. one durable job for the batch instead of one job per memory.
BatchTxHook = Callable[[Any, list[WrittenMemory]], object]
