"""mem0's export and ``get_all`` JSON read as Engram memories (pure: no database, no I/O).

Accepted shapes: a JSON array of memory items (mem0 v1.0 ``get_all`` and the platform's list), ``{"results":
[...]}`` (mem0 >= 1.1 ``get_all``/``search``; graph ``relations`` are ignored) and ``{"memories": [...]}`` (an
export). An item is ``{id, memory, hash?, metadata?, categories?, created_at?, updated_at?, user_id?,
agent_id?, run_id?, actor_id?, role?}``. Each becomes a ``/store`` body:

==================  ======================================================================================
``memory``          ``content`` (``text``/``data``/``content`` are read when ``memory`` is missing)
``created_at``      ``created_at`` (mem0's local-offset ISO strings, normalised to UTC by the schema)
``user_id``         tag ``mem0-user:<id>`` (and the ``user_id`` filter of the import)
``agent_id``        tag ``mem0-agent:<id>``; ``actor_id`` and ``role`` likewise (``mem0-actor:``, ``mem0-role:``)
``run_id``          ``session_id``
``categories``      tags; the first is the category unless ``metadata.category`` names one
``metadata``        ``category``, ``importance`` (1-10), ``tags`` (list) and ``session_id`` are read as such;
                    every other scalar becomes a tag ``key:value``; nested values are counted as dropped
``id``              tag ``mem0:<id>``, so a second import of the same file finds the same memories again
==================  ======================================================================================

Everything is converted and checked with ``STORE`` before anything is written: the first bad item fails
the whole import with its position (``results[3].memory``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Invalid
from ..memories.schemas import STORE

__all__ = ["SOURCE", "Mem0Batch", "mem0_items", "to_bodies"]

SOURCE = "mem0-import"
_TAG_MAX = 100
_MAX_TAGS = 50
_IDS = (("user_id", "mem0-user"), ("agent_id", "mem0-agent"), ("actor_id", "mem0-actor"), ("role", "mem0-role"))
_READ = {"category", "importance", "tags", "session_id"}


@dataclass
class Mem0Batch:
    """The converted items: one ``/store`` body each, their mem0 ids, and what was left out and why."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    mem0_ids: list[str | None] = field(default_factory=list)  # as in the mem0:<id> tag (lowercase)
    filtered: int = 0  # items of another mem0 user than the one asked for
    dropped_metadata: int = 0  # nested metadata values with no place in a memory


def mem0_items(value: Any) -> tuple[str, list[Any]]:
    """``(field, items)`` of a mem0 document: the array itself, ``results`` or ``memories``."""
    if isinstance(value, list):
        key, items = "", value
    elif isinstance(value, dict) and isinstance(value.get("results"), list):
        key, items = "results", value["results"]
    elif isinstance(value, dict) and isinstance(value.get("memories"), list):
        key, items = "memories", value["memories"]
    else:
        raise Invalid("body", "is not a mem0 export: an array of memories, {results: [...]} or {memories: [...]}")
    if not items:
        raise Invalid(key or "body", "holds no memories")
    return key, items


def to_bodies(value: Any, *, user_id: str | None = None, space_id: int | None = None) -> Mem0Batch:
    """Convert and validate every item (``Invalid`` naming the first bad one); ``user_id`` keeps only the
    items of that mem0 user; ``space_id`` puts every memory in that space."""
    key, items = mem0_items(value)
    batch = Mem0Batch()
    for i, item in enumerate(items):
        where = f"{key}[{i}]" if key else f"[{i}]"
        if not isinstance(item, dict):
            raise Invalid(where, "must be an object (a mem0 memory)")
        if user_id is not None and str(item.get("user_id")) != user_id:
            batch.filtered += 1
            continue
        body, dropped = _body(item, where)
        if space_id is not None:
            body["space_id"] = space_id
        try:
            STORE.parse(body)
        except Invalid as exc:
            name = "memory" if exc.field == "content" else exc.field
            raise Invalid(f"{where}.{name}" if name else where, exc.problem) from None
        batch.bodies.append(body)
        raw_id = item.get("id")
        batch.mem0_ids.append(None if raw_id is None else _clip([f"mem0:{raw_id}"])[0][5:])
        batch.dropped_metadata += dropped
    if not batch.bodies:
        raise Invalid("user_id", f"no memory of mem0 user {user_id!r} in the file")
    return batch


def _body(item: dict[str, Any], where: str) -> tuple[dict[str, Any], int]:
    content = next((item[k] for k in ("memory", "text", "data", "content") if item.get(k) is not None), None)
    if not isinstance(content, str):
        raise Invalid(f"{where}.memory", "is required (the memory's text, a string)")
    metadata = item.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise Invalid(f"{where}.metadata", "must be an object or null")
    categories = item.get("categories") or []
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise Invalid(f"{where}.categories", "must be a list of strings")
    tags: list[str] = [] if item.get("id") is None else [f"mem0:{item['id']}"]
    tags.extend(f"{prefix}:{item[name]}" for name, prefix in _IDS if item.get(name) is not None)
    tags.extend(categories)
    meta_tags = metadata.get("tags")
    if isinstance(meta_tags, list):
        tags.extend(str(t) for t in meta_tags if isinstance(t, str | int | float))
    dropped = 0
    for key, val in metadata.items():
        if key in _READ:
            continue
        if isinstance(val, str | int | float | bool):
            tags.append(f"{key}:{val}")
        elif val is not None:
            dropped += 1
    body: dict[str, Any] = {"content": content, "source": SOURCE, "tags": _clip(tags)}
    category = metadata.get("category") if isinstance(metadata.get("category"), str) else None
    category = category or (categories[0] if categories else None)
    if category:
        body["category"] = category
    importance = metadata.get("importance")
    if isinstance(importance, int) and not isinstance(importance, bool) and 1 <= importance <= 10:
        body["importance"] = importance
    session = item.get("run_id") or metadata.get("session_id")
    if isinstance(session, str | int) and not isinstance(session, bool):
        body["session_id"] = str(session)[:200]
    if item.get("created_at") is not None:
        body["created_at"] = item["created_at"]
    return body, dropped


def _clip(tags: list[str]) -> list[str]:
    """Tags trimmed, lowercased, at most 100 characters each, unique, at most 50 (the first ones: ids)."""
    return [t for t in dict.fromkeys(t.strip().lower()[:_TAG_MAX] for t in tags) if t][:_MAX_TAGS]
