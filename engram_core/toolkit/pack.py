"""``POST /pack`` and ``GET /prompt``: the user's memories packed into a token budget, for a model's prompt.

Candidates: with a ``context``, the user's static (core) memories and the hybrid-search results for it
(best first); without one, the static memories, then the others by importance and recency. Each memory is
rendered in the format asked (``text``: one ``- [category] content`` line; ``json``: one object in an
array; ``xml``: one ``<memory>`` element, escaped) and kept while the whole stays within the budget,
counted with the embedding model's tokenizer (about 4 characters a token without one). The result never
exceeds the budget: it is counted again whole, and trimmed from the end if the parts did not add up.

``/prompt`` adds the user's preferences to the packed memories and frames both for a model family:
``raw`` (plain sections), ``anthropic`` (XML tags, as Anthropic's prompting guide recommends), ``openai``
(Markdown headings), ``llamaindex`` (its text-QA context block).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from xml.sax.saxutils import escape

from ..auth.context import AuthContext
from ..memories.records import memory_dict
from ..search.filters import Scope, search_scope
from ..search.schemas import SEARCH
from ..storage.database import Database
from ..validation import Field, Schema

__all__ = ["PACK", "PROMPT", "Packed", "Packer"]

FORMATS = ("text", "json", "xml")
PROMPT_FORMATS = ("raw", "anthropic", "openai", "llamaindex")
_RELEVANT = 50  # search results considered for a context
_POOL = 500  # memories considered without one
_CONTEXT_MAX = 2000

PACK = Schema(
    Field("context", "str", max_len=10_000, help="What the memories are for; absent: the most important ones."),
    Field("token_budget", "int", default=4000, min=100, max=128_000),
    Field("format", "str", default="text", choices=FORMATS),
    description="Pack the user's memories into a token budget.",
)
PROMPT = Schema(
    Field("format", "str", default="raw", choices=PROMPT_FORMATS),
    Field("tokens", "int", default=4000, min=100, max=128_000, help="Token budget of the whole prompt."),
    Field("context", "str", max_len=10_000, help="What the prompt is for (chooses the relevant memories)."),
)


class Search(Protocol):
    async def run(self, scope: Scope, q: dict[str, Any], *, explain: bool = False) -> Any: ...
    def recalled(self, user_id: int, ids: Any) -> None: ...


@dataclass
class Packed:
    packed: str
    ids: list[int]
    tokens: int
    budget: int

    def to_dict(self) -> dict[str, Any]:
        used = round(100 * self.tokens / self.budget) if self.budget else 0
        return {"packed": self.packed, "memories_included": len(self.ids), "memory_ids": self.ids,
                "tokens_estimated": self.tokens, "token_budget": self.budget, "utilization": f"{used}%"}  # fmt: skip


def _item(m: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        keep = ("id", "content", "category", "importance", "created_at")
        return json.dumps({k: m[k] for k in keep}, ensure_ascii=False)
    if fmt == "xml":
        return (f'<memory id="{m["id"]}" category="{escape(str(m["category"]), {chr(34): "&quot;"})}"'
                f' importance="{m["importance"]}">{escape(m["content"])}</memory>')  # fmt: skip
    return f"- [{m['category']}] {m['content']}"


def _join(items: list[str], fmt: str) -> str:
    if not items:
        return ""
    if fmt == "json":
        return "[" + ",\n".join(items) + "]"
    if fmt == "xml":
        return "<memories>\n" + "\n".join(items) + "\n</memories>"
    return "\n".join(items)


def fit(memories: list[dict[str, Any]], fmt: str, budget: int, count: Callable[[str], int]) -> Packed:
    """The memories (in order) rendered in ``fmt`` that fit in ``budget`` tokens, whole."""
    frame = count(_join(["x"], fmt)) - count("x")
    items: list[str] = []
    ids: list[int] = []
    used = max(frame, 0)
    for m in memories:
        item = _item(m, fmt)
        cost = count(item) + 1  # the separator
        if used + cost > budget:
            continue  # a shorter one further down may still fit
        items.append(item)
        ids.append(int(m["id"]))
        used += cost
    text = _join(items, fmt)
    while items and count(text) > budget:  # token counts of parts need not add up exactly
        items.pop()
        ids.pop()
        text = _join(items, fmt)
    return Packed(text, ids, count(text) if text else 0, budget)


class Packer:
    def __init__(self, db: Database, search: Search, count_tokens: Callable[[str], int]) -> None:
        self.db = db
        self.search = search
        self.count = count_tokens

    async def candidates(self, auth: AuthContext, context: str | None) -> list[dict[str, Any]]:
        """Static memories first, then the relevant ones (with a context) or the most important ones."""
        scope = search_scope(auth.user_id, {})
        context = (context or "")[:_CONTEXT_MAX].strip()

        def ranked(conn: Any, where: str, limit: int) -> list[dict[str, Any]]:
            rows = conn.execute(
                f"SELECT m.* FROM memories m WHERE m.user_id = :user{scope.where}{where}"
                " ORDER BY m.importance DESC, m.created_at DESC, m.id DESC LIMIT :limit",
                scope.bind(limit=limit),
            )
            return [memory_dict(r) for r in rows]

        static = await self.db.aread(lambda conn: ranked(conn, " AND m.is_static = 1", _POOL))
        if context:
            q = SEARCH.parse({"query": context, "limit": _RELEVANT})
            outcome = await self.search.run(search_scope(auth.user_id, q), q)
            rest = outcome.results
        else:
            rest = await self.db.aread(lambda conn: ranked(conn, " AND m.is_static = 0", _POOL))
        seen = {m["id"] for m in static}
        return [*static, *(m for m in rest if m["id"] not in seen)]

    async def pack(self, auth: AuthContext, body: Any) -> Packed:
        auth.require("read")
        q = PACK.parse(body)
        packed = fit(await self.candidates(auth, q["context"]), q["format"], q["token_budget"], self.count)
        if packed.ids:
            self.search.recalled(auth.user_id, packed.ids)
        return packed

    async def prompt(self, auth: AuthContext, query: dict[str, Any], preferences: dict[str, Any]) -> dict[str, Any]:
        """A system prompt of ``format`` within ``tokens``: the preferences, then as many memories as fit."""
        auth.require("read")
        q = PROMPT.parse(query)
        fmt, budget = q["format"], q["tokens"]
        prefs = "\n".join(f"- {k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
                          for k, v in preferences.items())  # fmt: skip
        shell = _frame(fmt, prefs, "{memories}")
        room = max(budget - self.count(shell.replace("{memories}", "")), 0)
        packed = fit(await self.candidates(auth, q["context"]), "xml" if fmt == "anthropic" else "text", room,
                     self.count)  # fmt: skip
        text = _frame(fmt, prefs, packed.packed)
        while packed.ids and self.count(text) > budget:  # the frame and the body need not add up: re-pack
            room -= self.count(text) - budget
            packed = fit(await self.candidates(auth, q["context"]), "xml" if fmt == "anthropic" else "text",
                         max(room, 0), self.count)  # fmt: skip
            text = _frame(fmt, prefs, packed.packed)
        if packed.ids:
            self.search.recalled(auth.user_id, packed.ids)
        return {"prompt": text, "format": fmt, "memories_included": len(packed.ids), "memory_ids": packed.ids,
                "preferences_included": len(preferences), "tokens_estimated": self.count(text)}  # fmt: skip


_INTRO = "What you know about the user, from long-term memory. Treat it as true unless the user says otherwise."


def _frame(fmt: str, prefs: str, memories: str) -> str:
    if fmt == "anthropic":
        parts = [_INTRO]
        if prefs:
            parts.append(f"<user_preferences>\n{escape(prefs)}\n</user_preferences>")
        if memories:
            parts.append(memories if memories.startswith("<memories>") else f"<memories>\n{memories}\n</memories>")
        return "\n\n".join(parts)
    if fmt == "openai":
        parts = ["# User memory", _INTRO]
        if prefs:
            parts.append(f"## Preferences\n{prefs}")
        if memories:
            parts.append(f"## Memories\n{memories}")
        return "\n\n".join(parts)
    if fmt == "llamaindex":
        body = "\n".join(p for p in (f"Preferences:\n{prefs}" if prefs else "", memories) if p)
        return f"Context information is below.\n---------------------\n{body}\n---------------------\n{_INTRO}"
    parts = [_INTRO]
    if prefs:
        parts.append(f"Preferences:\n{prefs}")
    if memories:
        parts.append(f"Memories:\n{memories}")
    return "\n\n".join(parts)
