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
    if len(lines) == 1 or text.lstrip()[:1] == "[":
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
        return await self.import_array(auth, value)

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
