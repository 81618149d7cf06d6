"""Causal links made by hand and causal chains: ``POST /intelligence/causal/links`` and
``GET /intelligence/causal/chains``.

A causal link is the ``caused_by`` link the rules of :mod:`.causal` write (effect -> cause); a client may also
state one: ``{cause_memory_id, effect_memory_id, strength?}`` (the Rust reference's field names; ``cause_id``
/ ``effect_id`` too). Both ends must be the caller's memories (an older version stands for its latest one),
visible, different, and the link must not close a loop (the cause already caused by the effect): each
refusal is a 400 naming the field. A ``chain_id`` or ``order_index`` sent by a reference client is ignored:
chains are not stored, they are read from the links.

A chain is a path along causal links, cause first: ``[root cause, effect, effect of that effect, ...]``.
Given a ``memory_id`` the chains pass through it (``direction``: ``both``, ``causes`` ending at it, ``effects``
starting at it); without one, every chain starting at a root cause (a memory that caused something and has
no cause itself), newest link first. Walks stop at ``depth`` links each way and at ``limit`` chains; a
chain cut by the depth says ``truncated``. Only visible memories are walked through.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..auth import audit
from ..auth.context import AuthContext
from ..errors import Invalid
from ..model.links import bump_links_changed, upsert_link
from ..model.memories import owned_memory, visible
from ..storage.database import Database
from ..timeutil import now_iso
from ..validation import Field, Schema
from .causal import CAUSED_BY

__all__ = ["CAUSAL_CHAINS", "CAUSAL_LINK", "CausalService", "chains"]

MAX_DEPTH = 10
MAX_NODES = 2000  # memories one walk may visit, whatever the fan-out

CAUSAL_LINK = Schema(
    Field("cause_memory_id", "int", required=True, min=1, aliases=("cause_id", "cause"),
          help="The memory that is the cause."),
    Field("effect_memory_id", "int", required=True, min=1, aliases=("effect_id", "effect"),
          help="The memory that is its effect."),
    Field("strength", "float", default=1.0, min=0.0, max=1.0, aliases=("confidence", "weight")),
    description="State that one of your memories caused another: a caused_by link (effect -> cause).",
)  # fmt: skip

CAUSAL_CHAINS = Schema(
    Field("memory_id", "int", min=1, aliases=("id", "root_memory_id"),
          help="Chains through this memory (default: every chain from a root cause)."),
    Field("direction", "str", default="both", choices=("both", "causes", "effects"),
          help="With memory_id: its causes, its effects, or both."),
    Field("depth", "int", default=5, min=1, max=MAX_DEPTH, aliases=("max_depth",), help="Most links walked each way."),
    Field("limit", "int", default=20, min=1, max=200, help="Most chains returned."),
    description="Causal chains (cause -> effect paths along caused_by links).",
)  # fmt: skip


def _latest(conn: Any, user_id: int, field: str, memory_id: int) -> Any:
    """The caller's visible memory ``memory_id`` stands for (its latest version), else 400 naming ``field``."""
    row = conn.execute(
        "SELECT * FROM memories WHERE id = ? AND user_id = ? AND is_deleted = 0", (memory_id, user_id)
    ).fetchone()
    if row is None:
        raise Invalid(field, f"memory {memory_id} is not one of your memories")
    if not row["is_latest"]:
        root = row["root_id"] or row["id"]
        row = conn.execute(
            "SELECT * FROM memories WHERE user_id = ? AND is_latest = 1 AND is_deleted = 0 AND (id = ? OR root_id = ?)",
            (user_id, root, root),
        ).fetchone()
        if row is None:
            raise Invalid(field, f"memory {memory_id} is not one of your memories")
    if row["is_forgotten"] or row["is_consolidated"]:
        state = "forgotten" if row["is_forgotten"] else "consolidated into another"
        raise Invalid(field, f"memory {memory_id} is {state}: it is not one of your memories now")
    return row


class _Graph:
    """Causal links among the user's visible memories, read as the walk needs them."""

    def __init__(self, conn: Any, user_id: int) -> None:
        self.conn = conn
        self.user_id = user_id
        self.now = now_iso()
        self.visited = 0

    def _step(self, memory_id: int, *, to_effects: bool) -> list[Any]:
        self.visited += 1
        if self.visited > MAX_NODES:
            return []
        this, other = ("target_id", "source_id") if to_effects else ("source_id", "target_id")
        return list(
            self.conn.execute(
                f"SELECT l.id, l.source_id, l.target_id, l.weight, l.created_at FROM memory_links l"
                f" JOIN memories m ON m.id = l.{other}"
                f" WHERE l.user_id = ? AND l.link_type = ? AND l.{this} = ? AND m.user_id = l.user_id"
                f" AND {visible('m').replace(':now', '?')} ORDER BY l.created_at DESC, l.id DESC",
                (self.user_id, CAUSED_BY, memory_id, self.now),
            )
        )

    def paths(self, start: int, depth: int, *, to_effects: bool) -> Iterator[tuple[list[Any], bool]]:
        """Maximal link paths from ``start`` (each link row in walk order) and whether depth cut them."""
        stack: list[tuple[int, list[Any], frozenset[int]]] = [(start, [], frozenset({start}))]
        while stack:
            node, path, seen = stack.pop()
            nxt = [r for r in self._step(node, to_effects=to_effects)
                   if (r["source_id"] if to_effects else r["target_id"]) not in seen]  # fmt: skip
            if not nxt or len(path) >= depth:
                yield path, bool(nxt)
                continue
            for r in reversed(nxt):  # the newest link is walked first
                other = int(r["source_id"] if to_effects else r["target_id"])
                stack.append((other, [*path, r], seen | {other}))


def _chain(conn: Any, user_id: int, links: list[Any], start: int, truncated: bool) -> dict[str, Any]:
    ids = [start] if not links else [int(links[0]["target_id"]), *(int(r["source_id"]) for r in links)]
    rows = {
        int(r["id"]): r
        for r in conn.execute(
            "SELECT id, content, category, created_at FROM memories WHERE user_id = ?"
            f" AND id IN ({','.join('?' * len(ids))})",
            (user_id, *ids),
        )
    }
    strengths = [float(r["weight"]) for r in links]
    return {
        "id": ids[0],
        "chain_id": ids[0],
        "root_memory_id": ids[0],
        "memory_ids": ids,
        "links": [
            {
                "id": r["id"],
                "chain_id": ids[0],
                "cause_memory_id": r["target_id"],
                "effect_memory_id": r["source_id"],
                "strength": r["weight"],
                "order_index": i,
                "created_at": r["created_at"],
            }
            for i, r in enumerate(links)
        ],  # fmt: skip
        "memories": [
            {
                "id": i,
                "content": rows[i]["content"][:500],
                "category": rows[i]["category"],
                "created_at": rows[i]["created_at"],
            }
            for i in ids
            if i in rows
        ],  # fmt: skip
        "description": " -> ".join(_short(rows[i]["content"]) for i in ids if i in rows),
        "length": len(links),
        "confidence": min(strengths) if strengths else 1.0,
        "truncated": truncated,
    }


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def chains(conn: Any, user_id: int, q: dict[str, Any]) -> list[dict[str, Any]]:
    """The chains ``q`` asks for (see the module doc), cause first."""
    graph, limit, depth = _Graph(conn, user_id), q["limit"], q["depth"]
    out: list[dict[str, Any]] = []
    mid = q.get("memory_id")
    if mid is not None:
        owned_memory(conn, user_id, mid)
        direction = q["direction"]
        ups = list(_take(graph.paths(mid, depth, to_effects=False), limit)) if direction != "effects" else [([], False)]
        downs = list(_take(graph.paths(mid, depth, to_effects=True), limit)) if direction != "causes" else [([], False)]
        for up, up_cut in ups:
            for down, down_cut in downs:
                links = [*reversed(up), *down]
                if links and len(out) < limit:
                    out.append(_chain(conn, user_id, links, mid, up_cut or down_cut))
        return out
    roots = conn.execute(
        f"SELECT l.target_id AS root, max(l.created_at) AS newest FROM memory_links l"
        f" JOIN memories m ON m.id = l.target_id JOIN memories e ON e.id = l.source_id"
        f" WHERE l.user_id = ? AND l.link_type = ? AND m.user_id = l.user_id AND e.user_id = l.user_id"
        f" AND {visible('m').replace(':now', '?')} AND {visible('e').replace(':now', '?')}"
        f" AND NOT EXISTS (SELECT 1 FROM memory_links c JOIN memories cm ON cm.id = c.target_id"
        f"   WHERE c.user_id = l.user_id AND c.link_type = l.link_type AND c.source_id = l.target_id"
        f"   AND {visible('cm').replace(':now', '?')})"
        f" GROUP BY l.target_id ORDER BY newest DESC, root DESC LIMIT ?",
        (user_id, CAUSED_BY, graph.now, graph.now, graph.now, limit),
    ).fetchall()
    for r in roots:
        for links, cut in graph.paths(int(r["root"]), depth, to_effects=True):
            if links:
                out.append(_chain(conn, user_id, links, int(r["root"]), cut))
            if len(out) >= limit:
                return out
    return out


def _take(paths: Iterator[tuple[list[Any], bool]], n: int) -> Iterator[tuple[list[Any], bool]]:
    for i, p in enumerate(paths):
        if i >= n:
            return
        yield p


def _loops(conn: Any, user_id: int, cause: int, effect: int) -> bool:
    """Whether ``cause`` is already (through any chain) caused by ``effect``: the new link would close a loop."""
    graph = _Graph(conn, user_id)
    return any(
        any(int(r["target_id"]) == effect for r in links)
        for links, _ in graph.paths(cause, MAX_DEPTH, to_effects=False)
    )


class CausalService:
    """The causal link and chain routes for one caller at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def link(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """POST /intelligence/causal/links: the link (``created``: false when it existed, its strength updated)."""
        auth.require("write")
        q = CAUSAL_LINK.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            cause = int(_latest(conn, auth.user_id, "cause_memory_id", q["cause_memory_id"])["id"])
            effect = int(_latest(conn, auth.user_id, "effect_memory_id", q["effect_memory_id"])["id"])
            if cause == effect:
                raise Invalid("effect_memory_id", "must differ from cause_memory_id")
            if _loops(conn, auth.user_id, cause, effect):
                raise Invalid(
                    "cause_memory_id",
                    f"memory {cause} is already an effect of memory {effect}: the link would make a causal loop",
                )
            existed = conn.execute(
                "SELECT 1 FROM memory_links WHERE source_id = ? AND target_id = ? AND link_type = ?",
                (effect, cause, CAUSED_BY),
            ).fetchone()
            changed = upsert_link(conn, auth.user_id, effect, cause, CAUSED_BY, q["strength"])
            bump_links_changed(conn, auth.user_id, int(changed))
            row = conn.execute(
                "SELECT * FROM memory_links WHERE source_id = ? AND target_id = ? AND link_type = ?",
                (effect, cause, CAUSED_BY),
            ).fetchone()
            audit.record(conn, auth, "link.create", "link", row["id"], {"type": CAUSED_BY})
            root = _root(conn, auth.user_id, cause)
            return {
                "id": row["id"], "chain_id": root, "cause_memory_id": cause, "effect_memory_id": effect,
                "strength": row["weight"], "order_index": 0, "link_type": CAUSED_BY, "source_id": effect,
                "target_id": cause, "created": not existed, "created_at": row["created_at"],
            }  # fmt: skip

        return await self.db.awrite(tx)

    async def chains(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """GET /intelligence/causal/chains."""
        auth.require("read")
        q = CAUSAL_CHAINS.parse(query)
        found = await self.db.aread(lambda conn: chains(conn, auth.user_id, q))
        return {"chains": found, "count": len(found), "memory_id": q.get("memory_id"), "direction": q["direction"],
                "depth": q["depth"]}  # fmt: skip


def _root(conn: Any, user_id: int, cause: int) -> int:
    """The root cause of the first chain that leads to ``cause`` (itself when nothing caused it)."""
    for links, _ in _Graph(conn, user_id).paths(cause, MAX_DEPTH, to_effects=False):
        return int(links[-1]["target_id"]) if links else cause
    return cause
