"""The row values in-transaction hooks get for a memory a store or update just wrote (no re-read), and a
batch made ready for a ``store_many`` transaction before it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["BatchTxHook", "ColumnsHook", "PreparedBatch", "TxHook", "WrittenMemory"]


@dataclass(frozen=True, slots=True)
class WrittenMemory:
    """A memory row inserted by the current write transaction (a new memory or a new version)."""

    id: int
    user_id: int
    content: str
    category: str
    embedded: bool
    replaces: int | None = None  # the version this one superseded (an update), else None


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """Bodies ``MemoryService.prepare_many`` validated and embedded, ready for ``write_many``'s transaction."""

    parsed: list[dict[str, Any]]
    vectors: Any  # float32 rows, one per body; None without a model or with the endpoint down
    deferred: bool  # the endpoint was down: stored without vectors, embedded later by the backfill
    fingerprints: list[int]  # SimHash of each body
    distances: list[int]  # the near-duplicate distance allowed for each body (0: wordless text)
    columns: list[dict[str, Any]]  # each body's columns from the ``in_write_tx(columns=...)`` hooks


#: Runs inside every store/update transaction with the written row: ``hook(conn, memory)``.
TxHook = Callable[[Any, WrittenMemory], object]

#: The columns a ``TxHook`` would write for a new memory, from its text (pure: computed before the write).
ColumnsHook = Callable[[str], dict[str, Any]]

#: The same follow-up for several memories one transaction wrote (``store_many``): ``hook(conn, memories)``,
#: e.g. one durable job for the batch instead of one job per memory.
BatchTxHook = Callable[[Any, list[WrittenMemory]], object]
