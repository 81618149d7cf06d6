"""Memories for a prompt: retrieve the user's relevant and core memories, render them as one delimited
block within a token budget (counted with the embedding model's tokenizer, as /context does), and put
that block into a chat's system prompt.

Candidates are the user's static (core) memories and the hybrid-search results for the query; they are
packed by :func:`~engram_core.search.context.assemble_context` (mode ``fast``: 15% core, 85% relevant,
at most 8 blocks), so the block never exceeds the budget. Each kept memory is reported with its score,
kind and the search channels that found it, for the retrieval log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from ..auth.context import AuthContext
from ..search.context import Candidate, assemble_context
from ..search.facets import list_scope
from ..search.filters import search_scope
from ..search.schemas import SEARCH
from .deps import ProxyDeps

__all__ = ["BLOCK_END", "BLOCK_START", "Retrieved", "inject", "last_user_text", "retrieve"]

BLOCK_START = "<engram_memories>"
BLOCK_END = "</engram_memories>"
_PREAMBLE = (
    "Known facts about the user, from long-term memory. Treat them as true; "
    "the user's own words in this conversation override them."
)
_RELEVANT = 12
_STATIC_MAX = 30
_QUERY_MAX = 2000


@dataclass
class Retrieved:
    query: str
    text: str = ""  # the block to inject ("" when nothing fits or nothing was found)
    tokens: int = 0
    memories: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def last_user_text(messages: list[dict[str, Any]]) -> str:
    """The text of the latest user message ("" if there is none)."""
    for m in reversed(messages):
        if m.get("role") == "user":
            return _content_text(m.get("content")).strip()
    return ""


async def retrieve(deps: ProxyDeps, auth: AuthContext, query: str, budget: int) -> Retrieved:
    """The memory block for ``query`` within ``budget`` tokens (empty for an empty query or budget)."""
    started = time.perf_counter()
    query = query[:_QUERY_MAX].strip()
    out = Retrieved(query)
    if not query or budget <= 0:
        return out
    q = SEARCH.parse({"query": query, "limit": _RELEVANT})
    scope = search_scope(auth.user_id, q)
    outcome = await deps.search.run(scope, q)
    t_search = time.perf_counter()
    static_scope = replace(scope, where=scope.where + " AND m.is_static = 1")
    static = await deps.db.aread(lambda conn: list_scope(conn, static_scope, _STATIC_MAX))
    candidates = [Candidate(m["id"], m["content"], "static", float(m["importance"]), m["category"]) for m in static]
    channels: dict[int, list[str]] = {int(m["id"]): ["static"] for m in static}
    for r in outcome.results:
        candidates.append(Candidate(r["id"], r["content"], "relevant", float(r["score"]), r["category"]))
        channels.setdefault(int(r["id"]), list(r.get("channels") or []))
    count = deps.vectors.count_tokens
    head = f"{BLOCK_START}\n{_PREAMBLE}\n"
    tail = f"{BLOCK_END}"
    frame = count(head + tail)
    assembled = assemble_context(candidates, max(0, budget - frame), count, mode="fast")
    if assembled.blocks:
        out.text = head + assembled.context.strip() + "\n" + tail
        out.tokens = count(out.text)
        while out.tokens > budget and assembled.blocks:  # the frame and the body are not additive: re-pack
            assembled = assemble_context(candidates, max(0, budget - frame - (out.tokens - budget)), count, mode="fast")
            out.text = head + assembled.context.strip() + "\n" + tail if assembled.blocks else ""
            out.tokens = count(out.text) if out.text else 0
    out.memories = [
        {"id": int(b.id), "kind": b.kind, "score": round(b.score, 6), "channels": channels.get(int(b.id), []),  # type: ignore[call-overload]
         "category": b.category, "tokens": b.tokens}
        for b in assembled.blocks
    ]  # fmt: skip
    if out.memories:
        deps.search.recalled(auth.user_id, [m["id"] for m in out.memories])
    out.timings = {"search_ms": round((t_search - started) * 1000, 3),
                   "retrieval_ms": round((time.perf_counter() - started) * 1000, 3)}  # fmt: skip
    return out


def inject(messages: list[dict[str, Any]], block: str) -> list[dict[str, Any]]:
    """``messages`` with ``block`` appended to the first system message (or a new one put first)."""
    if not block:
        return messages
    out = [dict(m) for m in messages]
    for m in out:
        if m.get("role") in {"system", "developer"}:
            content = m.get("content")
            if isinstance(content, list):
                m["content"] = [*content, {"type": "text", "text": block}]
            else:
                m["content"] = (f"{content}\n\n" if content else "") + block
            return out
    return [{"role": "system", "content": block}, *out]
