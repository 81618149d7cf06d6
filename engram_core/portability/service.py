"""PortabilityService: export and import of a user's memory (awaitable; one transaction per import)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import IO, Any

from ..auth.context import AuthContext
from ..auth.limits import check_raw_json_depth
from ..embeddings.manager import EmbeddingManager
from ..errors import Invalid
from ..memories.service import MemoryService
from ..settings import Settings
from ..storage.database import Database
from .export import write_export
from .importer import Record, apply_import, parse_export
from .mem0 import Mem0Batch, to_bodies

__all__ = ["PortabilityService", "decode_records"]

Reembed = Callable[[AuthContext | None], Awaitable[Any]]


def decode_records(raw: bytes, max_depth: int) -> tuple[str, Any]:
    """Read an import body: NDJSON (one record a line), or JSON (an array of records, or one object).

    Returns ``("records", [(line, record), ...])`` for an Engram export, else ``("json", value)`` for the
    other formats (an array of memories, mem0's export)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("body", f"is not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise Invalid("body", "is empty")
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) == 1 or text.lstrip()[:1] in ("[", "{"):  # one JSON document (pretty-printed too), or NDJSON
        try:
            check_raw_json_depth(text, max_depth)
            value = json.loads(text)
        except (ValueError, RecursionError):
            value = ...
        if value is not ...:
            if isinstance(value, list) and value and isinstance(value[0], dict) and value[0].get("type") == "header":
                return "records", list(enumerate(value, 1))
            if isinstance(value, dict) and isinstance(value.get("records"), list):
                return "records", list(enumerate(value["records"], 1))
            return "json", value
    records: list[Record] = []
    for n, line in lines:
        try:
            check_raw_json_depth(line, max_depth)
            records.append((n, json.loads(line)))
        except (ValueError, RecursionError):
            raise Invalid(f"line {n}", "is not valid JSON") from None
    return "records", records


class PortabilityService:
    def __init__(
        self, db: Database, settings: Settings, memories: MemoryService, vectors: EmbeddingManager, reembed: Reembed
    ) -> None:
        self.db = db
        self.settings = settings
        self.memories = memories
        self.vectors = vectors
        self.reembed = reembed

    async def export(self, auth: AuthContext, *, embeddings: bool) -> IO[bytes]:
        """The caller's export as a rewound file (one snapshot); the caller streams and closes it."""
        auth.require("read")
        model = self.vectors.fingerprint
        return await self.db.aread(lambda conn: write_export(conn, auth.user_id, model=model, embeddings=embeddings))

    async def import_body(self, auth: AuthContext, raw: bytes) -> dict[str, Any]:
        """Import an Engram export (NDJSON or JSON) or a plain array of memories."""
        auth.require("write")
        kind, value = decode_records(raw, self.settings.max_json_depth)
        if kind == "records":
            return await self.import_records(auth, value)
        if isinstance(value, dict) and ("results" in value or ("memories" in value and "version" not in value)):
            return await self.import_mem0(auth, value)
        return await self.import_array(auth, value)

    async def import_mem0_body(
        self, auth: AuthContext, raw: bytes, *, user_id: str | None = None, space_id: int | None = None
    ) -> dict[str, Any]:
        """POST /import/mem0: a mem0 export or ``get_all`` answer (see ``mem0``), as the caller."""
        auth.require("write")
        kind, value = decode_records(raw, self.settings.max_json_depth)
        if kind == "records":  # NDJSON: one mem0 memory a line
            value = [record for _, record in value]
        return await self.import_mem0(auth, value, user_id=user_id, space_id=space_id)

    async def import_mem0(
        self, auth: AuthContext, value: Any, *, user_id: str | None = None, space_id: int | None = None
    ) -> dict[str, Any]:
        """Every item converted and checked first, then the new ones stored in ONE transaction. An item whose
        mem0 id was imported before (a ``mem0:<id>`` tag on a live memory) is skipped, not stored twice."""
        auth.require("write")
        batch = to_bodies(value, user_id=user_id, space_id=space_id)
        known = await self.db.aread(lambda conn: _known_mem0_ids(conn, auth.user_id))
        fresh = [(b, m) for b, m in zip(batch.bodies, batch.mem0_ids, strict=True) if m is None or m not in known]
        results = await self.memories.store_many(auth, [b for b, _ in fresh]) if fresh else []
        ids: dict[str, int] = {m: known[m] for m in batch.mem0_ids if m is not None and m in known}
        for (_, mem0_id), result in zip(fresh, results, strict=True):
            if mem0_id is not None:
                ids[mem0_id] = int(result["id"] if result.get("stored") else result["existing_id"])
        return _mem0_summary(batch, results, len(batch.bodies) - len(fresh), ids)

    async def import_records(self, auth: AuthContext, records: list[Record]) -> dict[str, Any]:
        parsed = parse_export(records)
        model, quota = self.vectors.fingerprint, self.settings.memory_quota
        result = await self.db.awrite(lambda conn: apply_import(conn, auth, parsed, model=model, quota=quota))
        if result["to_embed"] and self.vectors.enabled:
            await self.reembed(auth)
        return result

    async def import_array(self, auth: AuthContext, value: Any) -> dict[str, Any]:
        """``[{content|text|memory, category?, source?, importance?, tags?, created_at?}]`` or
        ``{documents|data: [...]}``: each stored as ``/store`` would, all in one transaction."""
        items = value.get("documents", value.get("data")) if isinstance(value, dict) else value
        if not isinstance(items, list) or not items:
            raise Invalid("body", "is neither an Engram export (NDJSON) nor a non-empty array of memories")
        bodies = list(_array_bodies(items))
        results = await self.memories.store_many(auth, bodies)
        stored = sum(1 for r in results if r.get("stored"))
        return {"imported": {"memory": stored}, "skipped": len(results) - stored, "records": len(items),
                "format": "array"}  # fmt: skip


def _known_mem0_ids(conn: Any, user_id: int) -> dict[str, int]:
    rows = conn.execute(
        "SELECT t.tag, t.memory_id FROM memory_tags t JOIN memories m ON m.id = t.memory_id"
        " WHERE t.user_id = ? AND t.tag LIKE 'mem0:%' AND m.user_id = ? AND m.is_deleted = 0 AND m.is_latest = 1",
        (user_id, user_id),
    ).fetchall()
    return {str(tag)[5:]: int(memory_id) for tag, memory_id in rows}


def _mem0_summary(batch: Mem0Batch, results: list[dict[str, Any]], again: int, ids: dict[str, int]) -> dict[str, Any]:
    stored = sum(1 for r in results if r.get("stored"))
    return {"imported": {"memory": stored}, "skipped": len(results) - stored + again, "already_imported": again,
            "duplicates": len(results) - stored, "filtered": batch.filtered,
            "dropped_metadata": batch.dropped_metadata, "records": len(batch.bodies) + batch.filtered,
            "format": "mem0", "ids": ids}  # fmt: skip


_KEPT = ("category", "importance", "tags", "created_at", "session_id", "is_static")


def _array_bodies(items: list[Any]) -> Iterator[dict[str, Any]]:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise Invalid(f"[{i}]", "must be an object with content, text or memory")
        content = item.get("content", item.get("text", item.get("memory")))
        if not isinstance(content, str):
            raise Invalid(f"[{i}].content", "is required (content, text or memory: a string)")
        body = {"content": content, "source": item.get("source", "import")}
        body.update({k: item[k] for k in _KEPT if item.get(k) is not None})
        yield body
