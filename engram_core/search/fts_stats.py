"""FTS corpus statistics for the FTS channel: terms BM25 ignores, and whether a user owns most documents.

**Common terms** (in at least half of the FTS documents).

FTS5's BM25 uses ``idf = ln((N - n + 0.5) / (n + 0.5))`` and clamps it to 1e-6 when it is not positive,
i.e. when a term is in ``n >= N/2`` of the ``N`` documents. Such a term adds nothing to any document's
score, yet under the channel's ``OR`` query every document containing it is ranked: with 100k memories
one word present in 99% of them made a query take 200 ms instead of 3 ms. Dropping these terms from the
MATCH (unless every term is one) leaves the scores of the documents that match the other terms as they
were; only documents matching *nothing but* a clamped term drop out, so when the lean MATCH finds fewer
than the caller's limit the channel runs the full one (those documents still rank, at the end).

A term's document count is read with a capped count (``LIMIT ceil(N/2)``: a common term costs ~5 ms at
100k, a rare one microseconds) and cached per term for :data:`TTL_SECONDS`, or until N moves by more than
10%. Below :data:`MIN_DOCS` documents nothing is checked (the scan is cheap there). Counts are over the
whole FTS table, as BM25's are.

**Ownership**: ranking in the FTS index first and then checking the scope pays when the caller owns
most documents (one tenant: half the cost of joining every match to its row) and doubles the work when
they own few (another tenant's matches fill the first pass). A user's share of the FTS documents is
counted once per :data:`TTL_SECONDS` (an index count, ~10 ms at 100k).
"""

from __future__ import annotations

import threading
import time
from typing import Any

__all__ = ["MIN_DOCS", "TTL_SECONDS", "FtsStats", "documents"]

MIN_DOCS = 2000
TTL_SECONDS = 600.0
_MAX_ENTRIES = 50_000


def documents(conn: Any) -> int:
    """How many documents the FTS index holds (FTS5's own per-document table: an O(1)-ish count)."""
    return int(conn.execute("SELECT count(*) FROM memories_fts_docsize").fetchone()[0])


class FtsStats:
    """Cached FTS statistics: which query terms are common, which users own most documents."""

    def __init__(self, min_docs: int = MIN_DOCS, ttl: float = TTL_SECONDS) -> None:
        self.min_docs = min_docs
        self.ttl = ttl
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[bool, float, int]] = {}  # term -> (common, when, N then)
        self._owners: dict[int, tuple[bool, float]] = {}  # user -> (owns most documents, when)

    def owns_most(self, conn: Any, user_id: int) -> bool:
        """Whether at least half of the FTS documents are the user's (re-counted every ``ttl`` seconds)."""
        now = time.monotonic()
        with self._lock:
            seen = self._owners.get(user_id)
        if seen is not None and now - seen[1] < self.ttl:
            return seen[0]
        mine = int(conn.execute("SELECT count(*) FROM memories WHERE user_id = ?", (user_id,)).fetchone()[0])
        most = 2 * mine >= documents(conn)
        with self._lock:
            if len(self._owners) >= _MAX_ENTRIES:
                self._owners.clear()
            self._owners[user_id] = (most, now)
        return most

    def drop(self, conn: Any, terms: list[str]) -> list[str]:
        """``terms`` without the common ones, or all of them when every one is common."""
        if not terms:
            return terms
        docs = documents(conn)
        if docs < self.min_docs:
            return terms
        kept = [t for t in terms if not self._common(conn, t, docs)]
        return kept or terms

    def _common(self, conn: Any, term: str, docs: int) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(term)
        if seen is not None and now - seen[1] < self.ttl and abs(docs - seen[2]) <= docs // 10:
            return seen[0]
        half = (docs + 1) // 2
        hits = int(
            conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM memories_fts WHERE memories_fts MATCH :t LIMIT :half)",
                {"t": '"' + term.replace('"', '""') + '"', "half": half},
            ).fetchone()[0]
        )
        common = hits >= half
        with self._lock:
            if len(self._seen) >= _MAX_ENTRIES:
                self._seen.clear()
            self._seen[term] = (common, now, docs)
        return common
