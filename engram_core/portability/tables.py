"""Which tables make up a user's memory, in the order an import must write them, and how their ids link.

Every table here has a ``user_id`` column; an export holds the rows of one user, an import writes them as
the caller with fresh ids. ``refs`` names the columns holding ids of another exported table (remapped on
import); ``natural`` the columns of a UNIQUE key within a user (a row that exists already is reused, not
duplicated, when importing into a user that has one). Derived tables are not exported: ``memory_tags``
(kept by triggers from ``memories.tags``), the FTS tables, ``graph_state`` (recomputed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["BLOB_COLUMNS", "TABLES", "Table", "by_kind", "stored_columns"]


@dataclass(frozen=True)
class Table:
    name: str
    kind: str  # the ``type`` of its records in an export
    id_column: str | None = "id"  # None: no id of its own (a join table, a per-user row)
    refs: dict[str, str] = field(default_factory=dict)  # column -> table whose ids it holds
    natural: tuple[str, ...] = ()  # UNIQUE (user_id, ...) columns: merge onto an existing row
    nocase: tuple[str, ...] = ()  # natural-key columns compared case-insensitively
    replace: bool = False  # one row per user: the import replaces the existing one


TABLES: tuple[Table, ...] = (
    Table("spaces", "space", natural=("name",)),
    Table("memories", "memory", refs={"space_id": "spaces", "parent_id": "memories", "root_id": "memories"}),
    Table("memory_links", "link", refs={"source_id": "memories", "target_id": "memories"}),
    Table("entities", "entity", natural=("entity_type", "name"), nocase=("name",)),
    Table("memory_entities", "memory_entity", None, refs={"memory_id": "memories", "entity_id": "entities"}),
    Table("entity_relationships", "entity_relationship", refs={"source_id": "entities", "target_id": "entities"}),
    Table("entity_cooccurrences", "entity_cooccurrence", None, refs={"entity_a": "entities", "entity_b": "entities"}),
    Table("projects", "project", natural=("name",)),
    Table("project_memories", "project_memory", None, refs={"project_id": "projects", "memory_id": "memories"}),
    Table("episodes", "episode"),
    Table("episode_memories", "episode_memory", None, refs={"episode_id": "episodes", "memory_id": "memories"}),
    Table("conversations", "conversation"),
    Table("messages", "message", refs={"conversation_id": "conversations"}),
    Table("memory_feedback", "feedback", refs={"memory_id": "memories"}),
    Table("personality_signals", "personality_signal", refs={"memory_id": "memories"}),
    Table("personality_profiles", "personality_profile", None, replace=True),
    Table("digests", "digest"),
    Table("user_preferences", "preference", natural=("key",)),  # an existing key keeps its value
    Table("agent_state", "agent_state", natural=("agent", "key")),
)

BLOB_COLUMNS = {("memories", "embedding")}  # base64 in an export (only with embeddings=true)


def stored_columns(conn: Any, table: str) -> list[str]:
    """The columns of ``table`` that hold data (not generated ones, not ``user_id``)."""
    return [r[1] for r in conn.execute(f'PRAGMA table_xinfo("{table}")') if r[6] == 0 and r[1] != "user_id"]


def by_kind() -> dict[str, Table]:
    return {t.kind: t for t in TABLES}
