"""The link adjacency: each user's ``memory_links`` in memory, per memory, in the order SQLite reads them.

Why it exists: the search's graph channel (:mod:`engram_core.search.channels.graph`) follows links two hops
from its seeds. Once memories stored through the API are auto-linked (mean degree ~16, hubs with 50-96
links), its second hop read ~1,100-1,300 link rows a search through SQL: ~1 ms of CPU of a ~4 ms read
stage (BENCHMARKS.md, issue 19, "Why the read stage grows during a run"). Here those rows are kept per
user, as the vector index keeps vectors, and the channel walks Python lists instead.

What it holds, per user (only the links whose ``user_id`` is that user's, as the SQL's ``+l.user_id``):

* ``out[m]``: the links whose source is ``m`` as ``(link_type, link_id, target, factor)``, sorted by
  ``(link_type, link_id)``: the order of ``idx_links_source_type (source_id, link_type)``, whose rows
  within one key are in rowid order;
* ``into[m]``: the links whose target is ``m`` as ``(link_id, source, factor)``, sorted by ``link_id``: the
  order of ``idx_links_target (target_id)``.

``factor`` is the type's multiplier times the link's weight, exactly as the SQL path computes it
(:func:`link_factor`). :meth:`UserLinks.edges` returns the same directed edges, in the same order and with
the same ``cap`` on rows, as the channel's SQL did (``tests/core/search/test_graph_channel.py`` compares
the two), so the float sums, the first 200 first-hop neighbours and the scores are the same.

Kept current like the vector index (:mod:`engram_core.vector_index.index`):

* :meth:`LinkAdjacency.mark_dirty` is called from the change feed (write thread, after COMMIT) with the
  link ids that were created, updated or deleted (a memory's purge deletes its links by cascade, and the
  capture triggers see those deletions too): it only records them, and only for a loaded user.
* :meth:`LinkAdjacency.sync` runs first in a search's keyword read (before any other read of that
  snapshot, so a link committed before its mark was taken is visible to the re-read; the vector index
  syncs first in the other read): the first time it loads the user's links; afterwards it re-reads the
  dirty ids and moves, adds or drops them. Many dirty ids at once (a bulk weight update) reload the user.
  The graph channel walks the links in the search's second read, so a link committed between the two
  reads may be followed or not, as a memory written between them is in one channel's list or not.
* :meth:`LinkAdjacency.forget_user` / :meth:`LinkAdjacency.reset` drop a user or everyone (reload on next
  use). A new process (restart, restore) starts empty. Like the vector index, it sees the writes of its
  own process's ``Database`` only, and takes a link's ``user_id`` as fixed (no writer changes it).

Cost: ~290 bytes a link (tracemalloc, 13k links), ~3-9 us a link to load (once per user and process).

Locks: each user has a ``lock`` (loads, refreshes, and the channel's walks) and a ``dirty_lock`` (innermost,
held only to add or take marks); ``LinkAdjacency._lock`` guards the registry and is held briefly.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, insort
from collections.abc import Iterable
from typing import Any

from .rank import edge_weight

__all__ = ["LinkAdjacency", "UserLinks", "link_factor"]

#: More dirty links than this (and than a quarter of the user's links) reload the user instead.
RELOAD_AT = 2000

_COLUMNS = "SELECT id, source_id, target_id, link_type, weight FROM memory_links"


def link_factor(link_type: Any, weight: Any, multipliers: dict[Any, float]) -> float:
    """A link's factor in the graph channel: the type's multiplier (``edge_weight(type, 1.0)``, cached in
    ``multipliers``) times its weight, 1.0 for a weight that is not positive. The channel's SQL path and
    the adjacency both use this, so they multiply the same floats."""
    mult = multipliers.get(link_type)
    if mult is None:
        mult = multipliers[link_type] = edge_weight(str(link_type), 1.0)
    return mult * (float(weight) if weight and weight > 0 else 1.0)


class UserLinks:
    """One user's links by memory (see the module docstring); ``loaded`` False until the first sync."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.dirty_lock = threading.Lock()
        self.dirty: set[int] = set()
        self.loaded = False
        self.out: dict[int, list[tuple[str, int, int, float]]] = {}
        self.into: dict[int, list[tuple[int, int, float]]] = {}
        self.source_of: dict[int, int] = {}  # link id -> its source: where a deleted link sits
        self._types: dict[Any, str] = {}  # one string object per link type
        self._ids: dict[int, int] = {}  # one int object per memory id (~55 bytes a link less)
        self._multipliers: dict[Any, float] = {}

    def __len__(self) -> int:
        return len(self.source_of)

    def take_dirty(self) -> list[int]:
        with self.dirty_lock:
            dirty, self.dirty = self.dirty, set()
        return sorted(dirty)

    # -- reads (caller holds ``lock``) ---------------------------------------------------------------
    def edges(self, ids: list[int], cap: int) -> list[tuple[int, int, float]]:
        """``(from, to, factor)`` for every link touching ``ids``, both directions, from the ``ids`` side.

        The same list as the channel's SQL (source-side rows of each id in turn, then target-side rows;
        at most ``cap`` rows in all; a row whose both ends are in ``ids`` gives both directions, and a
        link between two of ``ids`` is read from both sides)."""
        wanted = set(ids)
        out: list[tuple[int, int, float]] = []
        append = out.append
        left = cap
        for i in ids:
            for _, _, dst, w in self.out.get(i, ()):
                if left <= 0:
                    return out
                left -= 1
                append((i, dst, w))
                if dst in wanted:
                    append((dst, i, w))
        for i in ids:
            for _, src, w in self.into.get(i, ()):
                if left <= 0:
                    return out
                left -= 1
                if src in wanted:
                    append((src, i, w))
                append((i, src, w))
        return out

    # -- writes (caller holds ``lock``) --------------------------------------------------------------
    def clear(self) -> None:
        self.out.clear()
        self.into.clear()
        self.source_of.clear()
        self._ids.clear()
        self.loaded = False

    def add(self, link_id: int, source: int, target: int, link_type: Any, weight: Any) -> None:
        """Insert one link row in its sorted places (replacing a stored row of the same id)."""
        if link_id in self.source_of:
            self.drop(link_id)
        if not isinstance(link_type, str):  # a BLOB type would sort apart from text in SQLite
            raise TypeError(f"link {link_id}: link_type is {type(link_type).__name__}")
        kind = self._types.setdefault(link_type, link_type)
        factor = link_factor(kind, weight, self._multipliers)
        source = self._ids.setdefault(source, source)
        target = self._ids.setdefault(target, target)
        insort(self.out.setdefault(source, []), (kind, link_id, target, factor))
        insort(self.into.setdefault(target, []), (link_id, source, factor))
        self.source_of[link_id] = source

    def drop(self, link_id: int) -> None:
        """Remove one link (no-op when absent)."""
        source = self.source_of.pop(link_id, None)
        if source is None:
            return
        outs = self.out[source]
        k = next(k for k, e in enumerate(outs) if e[1] == link_id)
        target = outs.pop(k)[2]
        if not outs:
            del self.out[source]
        ins = self.into[target]
        del ins[bisect_left(ins, (link_id,))]  # sorted by link id
        if not ins:
            del self.into[target]

    def load(self, conn: Any, user_id: int) -> None:
        self.clear()
        rows = conn.execute(f"{_COLUMNS} WHERE user_id = ? ORDER BY id", (user_id,))
        for link_id, source, target, link_type, weight in rows:
            self.add(link_id, source, target, link_type, weight)  # in id order: each insort into ``into`` appends
        self.loaded = True

    def refresh(self, conn: Any, user_id: int, ids: list[int]) -> None:
        """Re-read ``ids`` (link ids) and store what the snapshot holds: gone ones dropped."""
        rows = conn.execute(
            f"{_COLUMNS} WHERE id IN (SELECT value FROM json_each(?)) AND user_id = ?",
            ("[" + ",".join(map(str, ids)) + "]", user_id),
        ).fetchall()
        for link_id in ids:
            self.drop(link_id)
        for link_id, source, target, link_type, weight in rows:
            self.add(link_id, source, target, link_type, weight)


class LinkAdjacency:
    """Every user's :class:`UserLinks`, loaded lazily, kept current through the change feed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[int, UserLinks] = {}

    def _user(self, user_id: int) -> UserLinks:
        with self._lock:
            links = self._users.get(user_id)
            if links is None:
                links = self._users[user_id] = UserLinks()
            return links

    def mark_dirty(self, user_id: int, link_ids: Iterable[int]) -> None:
        """Record that these links changed (from the change feed; cheap, never reads)."""
        with self._lock:
            links = self._users.get(user_id)
        if links is not None:
            with links.dirty_lock:
                links.dirty.update(int(i) for i in link_ids)

    def forget_user(self, user_id: int) -> None:
        """Drop a user's links (they reload on next use)."""
        with self._lock:
            self._users.pop(user_id, None)

    def reset(self) -> None:
        """Drop every user's links (each reloads on next use)."""
        with self._lock:
            self._users.clear()

    def sync(self, conn: Any, user_id: int) -> UserLinks | None:
        """Load (first time) or refresh (dirty ids) the user's links over ``conn``; returns them, or None
        when they cannot be held (a link type that is not text: the channel reads SQL instead).

        Must run before any other read of the same snapshot (see the module docstring)."""
        links = self._user(user_id)
        with links.lock:
            dirty = links.take_dirty()
            try:
                if not links.loaded or len(dirty) > max(RELOAD_AT, len(links) // 4):
                    links.load(conn, user_id)
                elif dirty:
                    links.refresh(conn, user_id, dirty)
            except TypeError:
                links.clear()  # loaded again on the next sync
                return None
        return links

    def get(self, user_id: int) -> UserLinks | None:
        """The user's links if loaded (no read): what the graph channel walks after :meth:`sync`."""
        with self._lock:
            links = self._users.get(user_id)
        return links if links is not None and links.loaded else None

    def stats(self) -> dict[str, int]:
        """Loaded users and links held (for benchmarks)."""
        with self._lock:
            users = list(self._users.values())
        return {"users": sum(u.loaded for u in users), "links": sum(len(u) for u in users)}
