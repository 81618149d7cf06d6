"""Which memories a search may return, as SQL on the ``memories m`` alias, shared by every channel.

A :class:`Scope` is built once per search: the user, the SQL conditions and their bound parameters.
Every channel puts ``scope.where`` inside its own candidate query, so filters cut candidates *before*
the ``LIMIT`` and a filtered search still returns ``limit`` results when that many exist.

Two kinds of scope:

* :func:`search_scope` - now: the latest visible version (unless ``latest_only`` is false), not in the
  trash, not consolidated, approved, not past its TTL, not forgotten or archived unless asked, plus the
  filters (category, source, space, tags all/any/none, importance range, created before/after).
* :func:`as_of_scope` - time travel: the version of each memory that was current at ``at``: created at
  or before ``at`` and not yet replaced by its next version then; a memory trashed or forgotten *after*
  ``at`` is shown as it stood (trashed or forgotten at or before ``at``: hidden). Purged memories are
  gone for good; a restored memory counts as never trashed (restoring clears the timestamp).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..timeutil import now_iso

__all__ = ["Scope", "as_of_scope", "filter_sql", "search_scope"]


@dataclass(frozen=True)
class Scope:
    """The user, the SQL conditions (each starting with `` AND``) and their parameters.

    ``indexed`` tells whether the in-memory vector index covers every memory the scope can return
    (latest, not forgotten); otherwise the vector channel scores stored vectors straight from SQL.
    """

    user_id: int
    where: str
    params: Mapping[str, Any] = field(default_factory=dict)
    indexed: bool = True
    now: str = ""

    def bind(self, **extra: Any) -> dict[str, Any]:
        """Fresh parameters for one statement: the scope's, ``:user``, then ``extra``."""
        return {**self.params, "user": self.user_id, **extra}

    def allowed(self, conn: Any, ids: list[int]) -> set[int]:
        """Which of ``ids`` this scope may return (one indexed lookup per id)."""
        if not ids:
            return set()
        rows = conn.execute(
            # CROSS JOIN makes SQLite walk the given ids by primary key instead of scanning the user's rows.
            "SELECT m.id FROM json_each(:ids) j CROSS JOIN memories m ON m.id = j.value WHERE m.user_id = :user"
            + self.where,
            self.bind(ids=json.dumps([int(i) for i in ids])),
        )
        return {int(r[0]) for r in rows}


def filter_sql(q: Mapping[str, Any], params: dict[str, Any]) -> str:
    """The caller's filters (category, source, space, tags, importance, dates) as SQL on ``m``."""
    sql = ""
    for name in ("category", "source", "space_id"):
        if q.get(name) is not None:
            sql += f" AND m.{name} = :f_{name}"
            params[f"f_{name}"] = q[name]
    # Tags are looked up in memory_tags (kept by triggers from memories.tags) by primary key.
    for i, tag in enumerate(q.get("tags") or []):
        sql += f" AND EXISTS (SELECT 1 FROM memory_tags t WHERE t.memory_id = m.id AND t.tag = :f_tag{i})"
        params[f"f_tag{i}"] = tag
    if q.get("tags_any"):
        sql += " AND EXISTS (SELECT 1 FROM memory_tags t WHERE t.memory_id = m.id"
        sql += " AND t.tag IN (SELECT value FROM json_each(:f_any)))"
        params["f_any"] = _json_list(q["tags_any"])
    if q.get("tags_none"):
        sql += " AND NOT EXISTS (SELECT 1 FROM memory_tags t WHERE t.memory_id = m.id"
        sql += " AND t.tag IN (SELECT value FROM json_each(:f_none)))"
        params["f_none"] = _json_list(q["tags_none"])
    if q.get("importance_min") is not None:
        sql += " AND m.importance >= :f_imin"
        params["f_imin"] = q["importance_min"]
    if q.get("importance_max") is not None:
        sql += " AND m.importance <= :f_imax"
        params["f_imax"] = q["importance_max"]
    if q.get("before"):
        sql += " AND m.created_at < :f_before"
        params["f_before"] = q["before"]
    if q.get("after"):
        sql += " AND m.created_at >= :f_after"
        params["f_after"] = q["after"]
    return sql


def search_scope(user_id: int, q: Mapping[str, Any], now: str | None = None) -> Scope:
    """The scope of an ordinary search (see the module docstring)."""
    now = now or now_iso()
    params: dict[str, Any] = {"now": now}
    sql = " AND m.is_deleted = 0 AND m.is_consolidated = 0 AND m.status = 'approved'"
    sql += " AND (m.forget_after IS NULL OR m.forget_after > :now)"
    latest_only = q.get("latest_only", True) is not False
    if latest_only:
        sql += " AND m.is_latest = 1"
    if not q.get("include_forgotten"):
        sql += " AND m.is_forgotten = 0"
    if not q.get("include_archived"):
        sql += " AND m.is_archived = 0"
    sql += filter_sql(q, params)
    indexed = latest_only and not q.get("include_forgotten")
    return Scope(user_id, sql, params, indexed, now)


def as_of_scope(user_id: int, q: Mapping[str, Any], at: str) -> Scope:
    """The scope of a time-travel search at ``at`` (see the module docstring)."""
    params: dict[str, Any] = {"at": at, "now": at}
    sql = (
        " AND m.created_at <= :at AND m.is_consolidated = 0 AND m.status = 'approved'"
        " AND NOT EXISTS (SELECT 1 FROM memories nx WHERE nx.root_id = m.root_id"
        " AND nx.version = m.version + 1 AND nx.user_id = m.user_id AND nx.created_at <= :at)"
        " AND (m.is_deleted = 0 OR m.deleted_at > :at)"
        " AND (m.is_forgotten = 0 OR m.forgotten_at > :at)"
        " AND (m.forget_after IS NULL OR m.forget_after > :at)"
    )
    if not q.get("include_archived"):
        sql += " AND m.is_archived = 0"
    sql += filter_sql(q, params)
    return Scope(user_id, sql, params, False, at)


def _json_list(values: Any) -> str:
    return json.dumps(list(values))
