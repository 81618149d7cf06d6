"""Read views of a user's memory graph: the whole graph, FTS-seeded search, neighborhoods, timeline,
communities. Plain functions over a read connection; every query is scoped to the user.
"""

from __future__ import annotations

from typing import Any

from ..errors import NotFound
from ..model.fts import build_match
from ..model.memories import visible
from ..timeutil import now_iso

__all__ = [
    "community_members",
    "expand",
    "graph_view",
    "list_communities",
    "node_dicts",
    "node_entities",
    "search_seeds",
    "timeline",
]

_EDGE_SQL = (
    "SELECT l.id, l.source_id, l.target_id, l.link_type, l.weight FROM memory_links l"
    " JOIN memories s ON s.id = l.source_id JOIN memories t ON t.id = l.target_id"
    " WHERE l.user_id = :user AND s.user_id = :user AND t.user_id = :user"
    f" AND {visible('s')} AND {visible('t')}"
)


def _edge(r: Any) -> dict[str, Any]:
    return {"id": r[0], "source": r[1], "target": r[2], "link_type": r[3], "weight": r[4]}


def node_dicts(conn: Any, user_id: int, ids: list[int]) -> list[dict[str, Any]]:
    """Node shapes for the user's memories ``ids`` (others silently skipped), highest PageRank first."""
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    rows = conn.execute(
        f"SELECT id, content, category, importance, pagerank, community, created_at FROM memories"
        f" WHERE user_id = ? AND id IN ({marks}) ORDER BY pagerank DESC, id",
        (user_id, *ids),
    ).fetchall()
    return [
        {
            "id": r["id"],
            "label": r["content"][:120],
            "category": r["category"],
            "importance": r["importance"],
            "pagerank": r["pagerank"],
            "community": r["community"],
            "created_at": r["created_at"],
        }
        for r in rows
    ]


def _best_ranked(conn: Any, user_id: int, ids: list[int], limit: int) -> list[int]:
    """The ``limit`` highest-PageRank of the user's memories ``ids`` (only ids and ranks read: the rows' content
    is read for those kept only)."""
    if len(ids) <= limit:
        return ids
    marks = ", ".join("?" for _ in ids)
    sql = f"SELECT id FROM memories WHERE user_id = ? AND id IN ({marks}) ORDER BY pagerank DESC, id LIMIT ?"
    return [r[0] for r in conn.execute(sql, (user_id, *ids, limit))]


def graph_view(conn: Any, user_id: int, q: dict[str, Any]) -> dict[str, Any]:
    """Nodes (linked memories, highest PageRank first, at most ``limit``) and the edges among them."""
    params: dict[str, Any] = {"user": user_id, "now": now_iso(), "min_weight": q["min_weight"]}
    sql = _EDGE_SQL + " AND l.weight >= :min_weight"
    if q["link_type"]:
        sql += " AND l.link_type = :type"
        params["type"] = q["link_type"]
    for name in ("community", "category"):
        if q[name] is not None:
            sql += f" AND s.{name} = :{name} AND t.{name} = :{name}"
            params[name] = q[name]
    if q.get("tag") is not None:
        tagged = "EXISTS (SELECT 1 FROM memory_tags g WHERE g.memory_id = {}.id AND g.user_id = :user AND g.tag = :tag)"
        sql += f" AND {tagged.format('s')} AND {tagged.format('t')}"
        params["tag"] = q["tag"].strip().lower()  # tags are stored lower-case
    if q.get("min_pagerank"):
        sql += " AND s.pagerank >= :min_pagerank AND t.pagerank >= :min_pagerank"
        params["min_pagerank"] = q["min_pagerank"]
    edges = [_edge(r) for r in conn.execute(sql, params)]
    ids = sorted({e["source"] for e in edges} | {e["target"] for e in edges})
    nodes = node_dicts(conn, user_id, _best_ranked(conn, user_id, ids, q["limit"]))
    kept = {n["id"] for n in nodes}
    edges = [e for e in edges if e["source"] in kept and e["target"] in kept]
    out: dict[str, Any] = {"nodes": nodes, "edges": edges, "node_count": len(nodes), "edge_count": len(edges)}
    if q.get("entities"):
        out["entities"] = node_entities(conn, user_id, [n["id"] for n in nodes])
        out["entity_count"] = len(out["entities"])
    return out


def node_entities(conn: Any, user_id: int, memory_ids: list[int], limit: int = 200) -> list[dict[str, Any]]:
    """The user's entities mentioned by ``memory_ids``, each with the ids among them that mention it; the most
    mentioned first, at most ``limit``."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(memory_ids), 500):
        chunk = memory_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = conn.execute(
            "SELECT e.id, e.name, e.entity_type, me.memory_id FROM memory_entities me JOIN entities e"
            f" ON e.id = me.entity_id WHERE me.user_id = ? AND e.user_id = ? AND me.memory_id IN ({marks})",
            (user_id, user_id, *chunk),
        )
        for r in rows:
            entity = found.setdefault(r[0], {"id": r[0], "name": r[1], "entity_type": r[2], "memory_ids": []})
            entity["memory_ids"].append(r[3])
    for entity in found.values():
        entity["memory_ids"].sort()
    return sorted(found.values(), key=lambda e: (-len(e["memory_ids"]), e["id"]))[:limit]


def expand(conn: Any, user_id: int, seeds: list[int], depth: int, max_nodes: int) -> dict[str, Any]:
    """Breadth-first neighborhood of ``seeds`` over links in both directions, up to ``depth`` hops."""
    distance = {s: 0 for s in seeds}
    edges: dict[int, dict[str, Any]] = {}
    frontier = list(seeds)
    for hop in range(1, depth + 1):
        if not frontier or len(distance) >= max_nodes:
            break
        marks = ", ".join(str(int(x)) for x in frontier)
        sql = _EDGE_SQL + f" AND (l.source_id IN ({marks}) OR l.target_id IN ({marks}))"
        nxt: list[int] = []
        for r in conn.execute(sql, {"user": user_id, "now": now_iso()}):
            for node in (r[1], r[2]):
                if node not in distance and len(distance) < max_nodes:
                    distance[node] = hop
                    nxt.append(node)
            if r[1] in distance and r[2] in distance:
                edges[r[0]] = _edge(r)
        frontier = nxt
    nodes = node_dicts(conn, user_id, list(distance))
    for n in nodes:
        n["depth"] = distance[n["id"]]
    nodes.sort(key=lambda n: (n["depth"], -n["pagerank"], n["id"]))
    return {"nodes": nodes, "edges": list(edges.values()), "node_count": len(nodes), "edge_count": len(edges)}


def require_visible(conn: Any, user_id: int, memory_id: int) -> None:
    """NotFound unless ``memory_id`` is one of the user's visible memories."""
    row = conn.execute(
        "SELECT 1 FROM memories m WHERE m.id = :id AND m.user_id = :user AND " + visible("m"),
        {"id": memory_id, "user": user_id, "now": now_iso()},
    ).fetchone()
    if row is None:
        raise NotFound(f"memory {memory_id} not found")


def search_seeds(conn: Any, user_id: int, query: str, limit: int) -> list[int]:
    """The user's visible memories matching ``query`` by FTS5 BM25, best first."""
    match = build_match(query)
    if match is None:
        return []
    sql = (
        "SELECT m.id FROM memories_fts JOIN memories m ON m.id = memories_fts.rowid"
        " WHERE memories_fts MATCH :match AND m.user_id = :user AND "
        + visible("m")
        + " ORDER BY bm25(memories_fts) LIMIT :limit"
    )
    return [r[0] for r in conn.execute(sql, {"match": match, "user": user_id, "now": now_iso(), "limit": limit})]


def timeline(conn: Any, user_id: int, weeks: int) -> dict[str, Any]:
    """Weekly counts of new memories and new links (the last ``weeks`` weeks with activity), with totals."""
    week = "date({col}, '-' || ((CAST(strftime('%w', {col}) AS INTEGER) + 6) % 7) || ' days')"
    counts: dict[str, dict[str, int]] = {}
    for table, key, extra in (("memories", "memories", " AND is_deleted = 0"), ("memory_links", "links", "")):
        bucket = week.format(col="created_at")
        sql = f"SELECT {bucket} AS w, count(*) FROM {table} WHERE user_id = ?{extra} GROUP BY w"
        for w, n in conn.execute(sql, (user_id,)):
            counts.setdefault(w, {"memories": 0, "links": 0})[key] = n
    out, total_m, total_l = [], 0, 0
    for w in sorted(counts):
        total_m += counts[w]["memories"]
        total_l += counts[w]["links"]
        out.append({"week_start": w, **counts[w], "total_memories": total_m, "total_links": total_l})
    return {"weeks": out[-weeks:], "total_memories": total_m, "total_links": total_l}


def list_communities(conn: Any, user_id: int, limit: int) -> list[dict[str, Any]]:
    """The user's communities, largest first, each with its top members by PageRank (three queries in all: the
    communities, their top five ids by a window, the node shapes)."""
    sql = (
        "SELECT m.community, count(*) AS size, avg(m.pagerank) AS avg_pagerank FROM memories m"
        " WHERE m.user_id = :user AND m.community IS NOT NULL AND "
        + visible("m")
        + " GROUP BY m.community ORDER BY size DESC, m.community LIMIT :limit"
    )
    found = conn.execute(sql, {"user": user_id, "now": now_iso(), "limit": limit}).fetchall()
    if not found:
        return []
    ranked = (
        "SELECT id, community FROM (SELECT m.id, m.community, row_number() OVER (PARTITION BY m.community"
        " ORDER BY m.pagerank DESC, m.id) AS place FROM memories m WHERE m.user_id = :user AND m.community IN ("
        + ", ".join(str(int(r[0])) for r in found)
        + ") AND "
        + visible("m")
        + ") WHERE place <= 5 ORDER BY community, place"
    )
    top: dict[int, list[int]] = {}
    for memory_id, community in conn.execute(ranked, {"user": user_id, "now": now_iso()}):
        top.setdefault(community, []).append(memory_id)
    nodes = {n["id"]: n for n in node_dicts(conn, user_id, [i for ids in top.values() for i in ids])}
    return [
        {
            "id": r[0],
            "size": r[1],
            "avg_pagerank": round(r[2] or 0.0, 6),
            "top": [nodes[i] for i in top.get(r[0], [])],
        }
        for r in found
    ]


def community_members(conn: Any, user_id: int, community: int, limit: int) -> list[dict[str, Any]]:
    """Members of one of the user's communities, highest PageRank first."""
    sql = (
        "SELECT m.id FROM memories m WHERE m.user_id = :user AND m.community = :c AND "
        + visible("m")
        + " ORDER BY m.pagerank DESC, m.id LIMIT :limit"
    )
    ids = [r[0] for r in conn.execute(sql, {"user": user_id, "c": community, "now": now_iso(), "limit": limit})]
    return node_dicts(conn, user_id, ids)
