"""SearchService: the search routes' behaviour (search, explain, faceted, tags, time travel) for one caller.

Owns the vector index, the pipeline and the per-user result cache, and keeps the last two current from
the database's change feed (:meth:`SearchService.on_changes`, subscribed at construction): every
committed change of a memory marks it dirty in the vector index, every change of a link marks it dirty in
the graph channel's link adjacency (:mod:`engram_core.graph.adjacency`), and every change of a user's rows
(but the job queue's) drops that user's cached results, before the writer's ``awrite`` returns. After
results go back, the facade's ``on_recalled(user_id, ids)`` (when it has one: the
cognitive core's implicit FSRS review) is scheduled on the event loop, off the request's path.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Iterable
from typing import Any

from ..auth.context import AuthContext
from ..graph.adjacency import LinkAdjacency
from ..settings import Settings
from ..storage.changes import RECALL, ChangeSet
from ..storage.database import Database
from ..timeutil import now_iso
from ..vector_index.index import VectorIndex
from .cache import ResultCache
from .facets import facet_counts, list_scope, tag_search
from .filters import Scope, as_of_scope, search_scope
from .pipeline import ModelHost, Outcome, SearchPipeline
from .schemas import EXPLAIN, FACETED, SEARCH, TAG_SEARCH, TIMETRAVEL

__all__ = ["SearchService"]

log = logging.getLogger("engram.search")

#: Changes to a memory that move it into or out of the vector index, or change its vector.
INDEX_KINDS = frozenset({"created", "updated", "hidden", "restored", "deleted", "reembedded"})
#: Tables whose changes never alter a search answer (the job queue's bookkeeping).
NOT_SEARCHED = frozenset({"jobs"})


def _ann_store(settings: Settings) -> Any:
    if not settings.use_lance_index:
        return None
    from ..vector_index.ann import AnnStore

    return AnnStore(settings.data_dir / "lance")


class SearchService:
    """Hybrid search over one Engram's database; models are looked up on ``host`` at call time."""

    def __init__(self, db: Database, settings: Settings, host: ModelHost) -> None:
        self.db = db
        self.settings = settings
        self.host = host
        self.index = VectorIndex(_ann_store(settings), settings.lance_threshold)
        self.links = LinkAdjacency()  # the graph channel's links, in memory (engram_core.graph.adjacency)
        self.pipeline = SearchPipeline(db, settings, host, self.index, self.links)
        self.cache = ResultCache(settings.search_cache_size)
        self._tasks: set[asyncio.Task[Any]] = set()
        db.subscribe(self.on_changes)

    # -- hooks ----------------------------------------------------------------------------------------
    def on_changes(self, changes: ChangeSet) -> None:
        """The change-feed listener (write thread, after COMMIT): mark changed memories dirty in the
        vector index and changed links in the link adjacency, and drop the cached results of every user
        whose rows changed.

        Not dropped: changes that only count accesses (``accessed``: not part of a search answer) and
        the implicit reviews searches themselves cause (cause ``RECALL``): dropping on those would
        empty the cache a few seconds after every search; the cache's TTL bounds that drift.
        """
        for user_id, ids in changes.by_user("memories", INDEX_KINDS).items():
            if user_id is not None:
                self.index.mark_dirty(user_id, ids)
        for user_id, ids in changes.by_user("memory_links").items():  # created, updated, deleted (incl. cascade)
            if user_id is not None:
                self.links.mark_dirty(user_id, ids)
        if changes.cause == RECALL:
            return
        for user_id in {c.user_id for c in changes if c.table not in NOT_SEARCHED and c.kind != "accessed"}:
            if user_id is not None:
                self.cache.invalidate(user_id)

    def recalled(self, user_id: int, ids: Iterable[int]) -> None:
        """Tell the host's ``on_recalled`` which memories were returned, after this call."""
        hook = self.host.on_recalled
        ids = [int(i) for i in ids]
        if not ids:
            return

        def fire() -> None:
            try:
                outcome = hook(user_id, ids)
                if inspect.isawaitable(outcome):
                    task = asyncio.ensure_future(outcome)
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            except Exception:  # a failing review hook must never fail a search
                log.exception("on_recalled hook failed")

        asyncio.get_running_loop().call_soon(fire)

    # -- search ---------------------------------------------------------------------------------------
    async def run(self, scope: Scope, q: dict[str, Any], *, explain: bool = False) -> Outcome:
        """Run the pipeline (no cache, no hook): for callers that compose searches (recall, context)."""
        return await self.pipeline.run(scope, q, explain=explain)

    async def _cached(self, auth: AuthContext, kind: str, q: dict[str, Any], scope: Scope) -> dict[str, Any]:
        key = ResultCache.key(kind, q)
        hit = self.cache.get(auth.user_id, key)
        if hit is None:
            generation = self.cache.generation(auth.user_id)
            hit = (await self.pipeline.run(scope, q)).response()
            if "degraded" not in hit:  # a search without its vector channel is not kept past the outage
                self.cache.put(auth.user_id, key, hit, generation)
        self.recalled(auth.user_id, (r["id"] for r in hit["results"]))
        return hit

    async def search(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """POST /search: ``{"results", "abstained", "top_score"}``."""
        auth.require("read")
        q = SEARCH.parse(body)
        return await self._cached(auth, "search", q, search_scope(auth.user_id, q))

    async def explain(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """POST /search/explain: the search plus per-result channel ranks/scores, multipliers and timings."""
        auth.require("read")
        q = EXPLAIN.parse(body)
        outcome = await self.pipeline.run(search_scope(auth.user_id, q), q, explain=True)
        return {
            **outcome.response(),
            "strategy": outcome.strategy.as_dict(),
            "channels": outcome.channel_counts,
            "vector_search": self.vector_status(auth.user_id),
            "explain": outcome.explain,
            "timings": outcome.timings,
        }

    async def faceted(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """POST /search/faceted: results (searched, or newest first without a query) and facet counts."""
        auth.require("read")
        q = FACETED.parse(body)
        scope = search_scope(auth.user_id, q)
        # Facet counts read every visible memory (~200 ms at 100k): cached like results, keyed by the
        # filters only (the query and limit do not change them), dropped by any write of the user.
        key = ResultCache.key("facets", {k: v for k, v in q.items() if k not in ("query", "limit")})
        facets = self.cache.get(auth.user_id, key)
        if facets is None:
            generation = self.cache.generation(auth.user_id)
            facets = await self.db.aread(lambda conn: facet_counts(conn, scope))
            self.cache.put(auth.user_id, key, facets, generation)
        if q.get("query") and q["query"].strip():
            response = (await self.pipeline.run(scope, {**q, "query": q["query"].strip()})).response()
        else:
            results = await self.db.aread(lambda conn: list_scope(conn, scope, q["limit"]))
            response = {"results": results, "abstained": False, "top_score": 0.0}
        self.recalled(auth.user_id, (r["id"] for r in response["results"]))
        return {**response, "facets": facets}

    async def tags(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """POST /tags/search: memories with any (or all) of the tags."""
        auth.require("read")
        q = TAG_SEARCH.parse(body)
        return await self.db.aread(
            lambda conn: tag_search(conn, auth.user_id, q["tags"], q["match"], q["limit"], q["offset"])
        )

    async def timetravel(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """POST /timetravel: search the memories as they stood at ``at`` (see ``filters.as_of_scope``)."""
        auth.require("read")
        q = TIMETRAVEL.parse(body)
        at = q.get("at") or now_iso()
        outcome = await self.pipeline.run(as_of_scope(auth.user_id, q, at), {**q, "include_links": False})
        return {**outcome.response(), "as_of": at}

    def vector_status(self, user_id: int | None = None) -> dict[str, Any]:
        """Whether the vector channel is on, with which model, and (for a user) which index serves them."""
        embedder = self.host.embedder
        if embedder is None:
            return {"enabled": False, "reason": "no embedding model loaded"}
        status: dict[str, Any] = {"enabled": True, "model": str(embedder.fingerprint), "dim": int(embedder.dim)}
        if user_id is not None:
            status["index"] = self.index.kind(user_id)
        return status
