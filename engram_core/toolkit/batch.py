"""``POST /batch``: up to 100 store / update / link operations in one request, each with its own result.

The operations run in order, each as the single-operation route would run it (its own validation and its
own transaction: a store is embedded outside its write, as ``/store`` does). The batch stops at the first
failure: the results list every operation that ran (the failed one with its error and field), the ones
before it stay written, the ones after it never ran. The route answers 200 when all succeeded, else 207.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..auth.context import AuthContext
from ..errors import EngramError, Invalid
from ..validation import Field, Schema

__all__ = ["BATCH", "MAX_OPS", "BatchResult", "BatchService"]

MAX_OPS = 100
OPS = ("store", "update", "link")
# Rate-limit units per operation: as much as the route doing it alone (POST /store and /memory/{id}/update
# cost 2, POST /links 1), so a batch is never a way around the limit nor dearer than its parts.
OP_COST = {"store": 2, "update": 2, "link": 1}

# Fields each op's body may carry (others are refused, so a typo is not silently dropped).
_STORE_KEYS = {"content", "category", "source", "tags", "importance", "is_static", "session_id", "space_id",
               "forget_after", "status"}  # fmt: skip
_UPDATE_KEYS = {"id", "content", "category", "importance", "tags", "is_static"}
_LINK_KEYS = {"source_id", "target_id", "similarity", "weight", "type", "link_type"}
_KEYS = {"store": _STORE_KEYS, "update": _UPDATE_KEYS, "link": _LINK_KEYS}


def _ops(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise Invalid("ops", f"must be a list of 1 to {MAX_OPS} operations")
    if len(value) > MAX_OPS:
        raise Invalid("ops", f"has {len(value)} operations; at most {MAX_OPS}")
    out = []
    for i, op in enumerate(value):
        if not isinstance(op, dict):
            raise Invalid(f"ops[{i}]", "must be an object {op, body}")
        if op.get("op") not in OPS:
            raise Invalid(f"ops[{i}].op", f"must be one of {', '.join(OPS)}")
        body = op.get("body")
        if not isinstance(body, dict):
            raise Invalid(f"ops[{i}].body", "must be a JSON object")
        unknown = sorted(set(body) - _KEYS[op["op"]])
        if unknown:
            raise Invalid(f"ops[{i}].body.{unknown[0]}", f"is not a field of a {op['op']} operation")
        out.append({"op": op["op"], "body": body})
    return out


_OP_SCHEMA = {
    "type": "object",
    "required": ["op", "body"],
    "properties": {"op": {"type": "string", "enum": list(OPS)}, "body": {"type": "object"}},
}
BATCH = Schema(
    Field("ops", "any", required=True, check=_ops,
          schema={"type": "array", "minItems": 1, "maxItems": MAX_OPS, "items": _OP_SCHEMA},
          help="store {content, category?, source? (batch), tags?, importance?, is_static?, session_id?, space_id?};"
               " update {id, content?, category?, importance?, tags?}; link {source_id, target_id, similarity?,"
               " type? (related)}."),
    description="Run up to 100 operations in order; each is its own transaction; stops at the first failure.",
)  # fmt: skip


class Memories(Protocol):
    async def store(self, auth: AuthContext, body: Any) -> dict[str, Any]: ...
    async def update(self, auth: AuthContext, memory_id: int, body: Any) -> dict[str, Any]: ...


class Links(Protocol):
    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class BatchResult:
    results: list[dict[str, Any]]
    total: int

    @property
    def succeeded(self) -> int:
        return sum(1 for r in self.results if r["success"])

    @property
    def all_succeeded(self) -> bool:
        return self.succeeded == self.total

    def to_dict(self) -> dict[str, Any]:
        return {"results": self.results, "total": self.total, "succeeded": self.succeeded}


class BatchService:
    def __init__(self, memories: Memories, links: Links) -> None:
        self.memories = memories
        self.links = links

    async def run(self, auth: AuthContext, body: Any, charge: Callable[[int], None] | None = None) -> BatchResult:
        """Run the operations in order. ``charge(units)`` is called once the body is valid and before any
        operation runs, with the batch's rate-limit weight (``OP_COST`` per operation); it may refuse."""
        auth.require("write")
        ops = BATCH.parse(body)["ops"]
        if charge is not None:
            charge(sum(OP_COST[op["op"]] for op in ops))
        results: list[dict[str, Any]] = []
        for i, op in enumerate(ops):
            try:
                result = await self._one(auth, op["op"], dict(op["body"]))
            except EngramError as exc:
                field = getattr(exc, "field", None)
                error: dict[str, Any] = {"index": i, "op": op["op"], "success": False, "error": str(exc)}
                if field:
                    error["field"] = f"ops[{i}].body.{field}" if field != "body" else f"ops[{i}].body"
                results.append(error)
                break
            results.append({"index": i, "op": op["op"], "success": True, "result": result})
        return BatchResult(results, len(ops))

    async def _one(self, auth: AuthContext, op: str, body: dict[str, Any]) -> dict[str, Any]:
        if op == "store":
            body.setdefault("source", "batch")
            out = await self.memories.store(auth, body)
            if out.get("stored"):
                return {"stored": True, "id": out["id"]}
            return {"stored": False, "duplicate": True, "existing_id": out["existing_id"]}
        if op == "update":
            memory_id = body.pop("id", None)
            if not isinstance(memory_id, int) or isinstance(memory_id, bool) or memory_id < 1:
                raise Invalid("id", "is required: the id of the memory to update (a positive integer)")
            out = await self.memories.update(auth, memory_id, body)
            return {"id": memory_id, "updated": True, "new_id": out["new_id"], "version": out["version"]}
        out = await self.links.create(auth, body)  # type defaults to "related", as on POST /links
        return {"linked": True, "source_id": out["source_id"], "target_id": out["target_id"],
                "type": out["link_type"], "link_id": out["id"]}  # fmt: skip
