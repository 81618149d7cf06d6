"""One view over everything a user's agents share: counts across the services (``/brain/stats``), a
query that activates memories (hybrid search) and the tasks, actions and events that mention the same
words (``/brain/query``), absorbing a memory (an implicit review strengthens it) and feedback that rates
memories and reweights the links between them (``/brain/feedback``)."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ...auth.context import AuthContext
from ...errors import Invalid
from ...intelligence.feedback import rate_memory
from ...model.memories import active, owned_memory
from ...storage.database import Database
from ...validation import INT_MAX, Field, Schema

__all__ = ["ABSORB", "FEEDBACK", "QUERY", "Brain"]

Search = Callable[[AuthContext, dict[str, Any]], Awaitable[dict[str, Any]]]
Recalled = Callable[[int, list[int]], None]
QUERY = Schema(
    Field("query", "text", required=True, max_len=2000),
    Field("top_k", "int", default=10, min=1, max=100),
    Field(
        "beta", "float", min=0, max=100, help="Sharpness: activations become softmax(beta * score). Omitted: scores."
    ),
    Field("spread_hops", "int", default=0, min=0, max=3, help="Follow links this many hops from the activated."),
    description="Activate memories for a query, with the tasks, actions and events that mention it.",
)
ABSORB = Schema(Field("id", "int", required=True, min=1, aliases=("memory_id",)), description="Absorb a memory.")


def _pairs(value: Any) -> list[tuple[int, int]]:
    if not isinstance(value, list) or not all(
        isinstance(p, list)
        and len(p) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) and 0 < x <= INT_MAX for x in p)
        for p in value
    ):
        raise Invalid("edge_pairs", "must be a list of [source_id, target_id] pairs")
    return [(int(a), int(b)) for a, b in value]


FEEDBACK = Schema(
    Field(
        "memory_ids",
        "any",
        required=True,
        schema={
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": INT_MAX},
            "minItems": 1,
            "maxItems": 100,
        },
        check=lambda v: _ids(v),
    ),
    Field(
        "edge_pairs",
        "any",
        default=[],
        check=_pairs,
        schema={
            "type": "array",
            "maxItems": 100,
            "items": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": INT_MAX},
                "minItems": 2,
                "maxItems": 2,
            },
        },
    ),
    Field("useful", "bool", required=True),
    description="Was this activation useful? Rates the memories and reweights the links between them.",
)
_COUNTS = {
    "memories": "SELECT count(*) FROM memories WHERE user_id = ? AND is_latest = 1 AND is_deleted = 0",
    "links": "SELECT count(*) FROM memory_links WHERE user_id = ?",
    "events": "SELECT count(*) FROM axon_events WHERE user_id = ?",
    "tasks": "SELECT count(*) FROM tasks WHERE user_id = ?",
    "open_tasks": "SELECT count(*) FROM tasks WHERE user_id = ? AND status IN ('active', 'blocked', 'paused')",
    "actions": "SELECT count(*) FROM broca_actions WHERE user_id = ?",
    "agents": "SELECT count(*) FROM soma_agents WHERE user_id = ?",
    "online_agents": "SELECT count(*) FROM soma_agents WHERE user_id = ? AND status = 'online'",
    "workflows": "SELECT count(*) FROM loom_workflows WHERE user_id = ?",
    "active_runs": "SELECT count(*) FROM loom_runs WHERE user_id = ? AND status IN ('pending', 'running')",
    "evaluations": "SELECT count(*) FROM thymus_evaluations WHERE user_id = ?",
    "webhooks": "SELECT count(*) FROM webhooks WHERE user_id = ?",
}


def _ids(value: Any) -> list[int]:
    if (
        not isinstance(value, list)
        or not value
        or len(value) > 100
        or not all(isinstance(x, int) and not isinstance(x, bool) and 0 < x <= INT_MAX for x in value)
    ):
        raise Invalid("memory_ids", "must be a list of 1-100 memory ids")
    return list(dict.fromkeys(value))


def _like(words: Iterable[str]) -> list[str]:
    return [f"%{w.replace('%', '').replace('_', '')}%" for w in words if len(w) > 2][:6]


_SPREAD_DECAY = 0.5  # a linked memory gets half its neighbour's activation (times the link's weight, capped at 1)
_COLUMNS = "id, content, category, source, importance, created_at, tags"


def _spread(conn: Any, user_id: int, activated: list[dict[str, Any]], hops: int, limit: int) -> list[dict[str, Any]]:
    """Memories reached by following links from the activated ones, hop by hop (visible ones only)."""
    level = {int(a["id"]): float(a["activation"] or 0.0) for a in activated}
    seen, found = set(level), []
    for hop in range(1, hops + 1):
        nxt: dict[int, float] = {}
        for mid, act in level.items():
            for r in conn.execute(
                "SELECT source_id, target_id, weight FROM memory_links WHERE user_id = ? AND"
                " (source_id = ? OR target_id = ?)",
                (user_id, mid, mid),
            ):
                other = r["target_id"] if r["source_id"] == mid else r["source_id"]
                if other not in seen:
                    nxt[other] = max(nxt.get(other, 0.0), act * _SPREAD_DECAY * min(1.0, float(r["weight"])))
        if not nxt:
            break
        marks = ",".join("?" * len(nxt))
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM memories WHERE user_id = ? AND id IN ({marks}) AND {active('')}",
            (user_id, *nxt),
        ).fetchall()
        level = {}
        for r in sorted(rows, key=lambda r: -nxt[r["id"]])[:limit]:
            tags = json.loads(r["tags"]) if isinstance(r["tags"], str) else r["tags"]
            found.append({**dict(r), "tags": tags, "activation": round(nxt[r["id"]], 6), "hop": hop})
            level[r["id"]] = nxt[r["id"]]
            seen.add(r["id"])
    return found


def _sharpen(activated: list[dict[str, Any]], beta: float) -> None:
    """activation := softmax(beta * activation) over the activated memories (beta 0: all equal)."""
    raw = [float(a["activation"] or 0.0) for a in activated]
    top = max(raw)
    weights = [math.exp(beta * (x - top)) for x in raw]
    total = sum(weights)
    for a, w in zip(activated, weights, strict=True):
        a["activation"] = round(w / total, 6)


class Brain:
    def __init__(self, db: Database, search: Search | None, recalled: Recalled | None) -> None:
        self.db = db
        self._search = search
        self._recalled = recalled

    async def stats(self, auth: AuthContext) -> dict[str, Any]:
        def run(conn: Any) -> dict[str, Any]:
            return {k: int(conn.execute(sql, (auth.user_id,)).fetchone()[0]) for k, sql in _COUNTS.items()}

        return {"ok": True, "stats": {"mode": "sql", **await self.db.aread(run)}}

    async def query(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = QUERY.parse(body)
        found = await self._search(auth, {"query": q["query"], "limit": q["top_k"]}) if self._search else {}
        activated = [
            {k: r.get(k) for k in ("id", "content", "category", "source", "importance", "created_at", "tags")}
            | {"activation": r.get("score")}
            for r in found.get("results", [])
        ]
        if q["spread_hops"]:
            spread = await self.db.aread(lambda c: _spread(c, auth.user_id, activated, q["spread_hops"], q["top_k"]))
            activated += spread
        if q["beta"] is not None and activated:
            _sharpen(activated, q["beta"])
        ids = [int(a["id"]) for a in activated]
        patterns = _like(q["query"].lower().split())

        def run(conn: Any) -> dict[str, Any]:
            out: dict[str, Any] = {"contradictions": [], "tasks": [], "actions": [], "events": []}
            if ids:
                marks = ",".join("?" * len(ids))
                score = {a["id"]: a["activation"] or 0.0 for a in activated}
                seen: set[frozenset[int]] = set()  # a pair linked both ways (or by hand and by detection) once
                for link in conn.execute(
                    f"SELECT source_id, target_id FROM memory_links WHERE user_id = ? AND"
                    f" link_type = 'contradicts' AND source_id IN ({marks}) AND target_id IN"
                    f" ({marks})",
                    (auth.user_id, *ids, *ids),
                ):
                    a, b = link["source_id"], link["target_id"]
                    if frozenset((a, b)) in seen:
                        continue
                    seen.add(frozenset((a, b)))
                    win, lose = (a, b) if score[a] >= score[b] else (b, a)
                    out["contradictions"].append(
                        {
                            "winner_id": win,
                            "winner_activation": score[win],
                            "loser_id": lose,
                            "loser_activation": score[lose],
                            "reason": "contradicts link",
                        }
                    )
            for key, sql, cols in (
                ("tasks", "SELECT id, title, agent, status, updated_at FROM tasks", ("title", "summary")),
                ("actions", "SELECT id, agent, action, narrative, created_at FROM broca_actions", ("narrative",)),
                ("events", "SELECT id, channel, type AS action, created_at FROM axon_events", ("type", "payload")),
            ):
                if not patterns:
                    continue
                where = " OR ".join(f"{c} LIKE ?" for c in cols for _ in patterns)
                args = [p for _ in cols for p in patterns]
                rows = conn.execute(
                    f"{sql} WHERE user_id = ? AND ({where}) ORDER BY id DESC LIMIT 10", (auth.user_id, *args)
                ).fetchall()
                out[key] = [dict(r) for r in rows]
            return out

        related = await self.db.aread(run)
        return {"ok": True, "result": {"activated": activated, **related}}

    async def absorb(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """A memory the caller's agents took in: an implicit review strengthens it (FSRS Good)."""
        q = ABSORB.parse(body)
        await self.db.aread(lambda c: owned_memory(c, auth.user_id, q["id"]))
        if self._recalled is not None:
            self._recalled(auth.user_id, [q["id"]])
        return {"ok": True, "id": q["id"]}

    async def feedback(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = FEEDBACK.parse(body)
        rating, delta = ("helpful", 0.1) if q["useful"] else ("irrelevant", -0.1)

        def tx(conn: Any) -> dict[str, Any]:
            rated = [rate_memory(conn, auth.user_id, mid, rating, "brain feedback") for mid in q["memory_ids"]]
            edges = []
            for a, b in q["edge_pairs"]:
                cur = conn.execute(
                    "UPDATE memory_links SET weight = max(0.0, min(100.0, weight + ?)) WHERE user_id = ?"
                    " AND ((source_id = ? AND target_id = ?) OR (source_id = ? AND target_id = ?))",
                    (delta, auth.user_id, a, b, b, a),
                )
                edges.append({"pair": [a, b], "reweighted": cur.rowcount})
            reinforced = [{"id": r["memory_id"], "new_strength": r["feedback_score"]} for r in rated]
            return {"ok": True, "data": {"reinforced": reinforced, "edges": edges, "useful": q["useful"]}}

        return {"ok": True, "result": await self.db.awrite(tx)}
