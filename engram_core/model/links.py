"""The link rows every writer of links shares: upsert one link, count changed links for PageRank.

A memory update writes an ``updates`` link, a duplicate merge and auto-link write ``similarity`` links;
``graph`` owns the routes and the ranking that reads the counter. Both functions take the connection of
the caller's write transaction.
"""

from __future__ import annotations

from typing import Any

from ..timeutil import now_iso

__all__ = ["bump_links_changed", "upsert_link"]


def bump_links_changed(conn: Any, user_id: int, count: int) -> None:
    """Count ``count`` changed links for the user (drives the early PageRank refresh)."""
    if count <= 0:
        return
    conn.execute(
        "INSERT INTO graph_state (user_id, links_changed) VALUES (?, ?)"
        " ON CONFLICT(user_id) DO UPDATE SET links_changed = links_changed + excluded.links_changed",
        (user_id, count),
    )


def upsert_link(conn: Any, user_id: int, source: int, target: int, link_type: str, weight: float) -> bool:
    """Insert a link or update its weight; True when a row was inserted or changed."""
    cur = conn.execute(
        "INSERT INTO memory_links (user_id, source_id, target_id, link_type, weight, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(source_id, target_id, link_type)"
        " DO UPDATE SET weight = excluded.weight WHERE weight != excluded.weight",
        (user_id, source, target, link_type, weight, now_iso()),
    )
    return bool(cur.rowcount)
