"""Conversation extraction: ``POST /add {messages, session_id?}`` turns a chat into durable memories.

Two tiers. With an LLM configured (``engram.llm``) the chat is sent once and the model answers
``{"memories": [{"content", "category", "importance"}]}``; on any LLM error, or without one, the rules
below decide. Either way each candidate is deduplicated (against the others, by SimHash against the
user's recent memories, and by cosine >= ``SEMANTIC_DUPLICATE`` against the user's vector index) and the
survivors are stored together in one transaction (``MemoryService.store_many``), so every post-store
job (embedding, links, decomposition, contradictions) runs for them as for any stored memory.

Rules: only the user's turns are read (an assistant's words are not the user's facts). A turn is split
into sentences; a sentence is kept when it states a correction ("actually", "I meant", "not X but Y"),
a standing instruction ("always", "never", "from now on", "remember that"), a decision ("we decided",
"let's go with", "I'll use"), a preference ("I prefer", "I like", "I hate", "my favourite") or a fact
about the user ("I am", "I live", "I work", "my X is", "I have"). Greetings, thanks, acknowledgements,
questions and one-off requests ("can you ...", "please fix ...") are skipped.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..auth.context import AuthContext
from ..embeddings.manager import EmbeddingManager
from ..errors import EmbeddingDown, Invalid, LlmUnavailable
from ..llm.client import LlmClient
from ..memories.service import MemoryService
from ..storage.database import Database
from ..validation import TEXT_PATTERN, Field, Schema
from ..vector_index.index import VectorIndex

__all__ = ["ADD", "Candidate", "ExtractService", "rule_candidates", "validate_messages"]

log = logging.getLogger("engram.extract")

MAX_MESSAGES = 500
MAX_CANDIDATES = 50
SEMANTIC_DUPLICATE = 0.92


def validate_messages(value: Any) -> list[dict[str, str]]:
    """``[{role, content}]`` (a bare string is one user message, as mem0 accepts)."""
    if isinstance(value, str):
        value = [{"role": "user", "content": value}]
    if not isinstance(value, list) or not value:
        raise Invalid("messages", "must be a non-empty list of {role, content} objects (or a string)")
    if len(value) > MAX_MESSAGES:
        raise Invalid("messages", f"must have at most {MAX_MESSAGES} items")
    out = []
    for i, m in enumerate(value):
        if not isinstance(m, dict):
            raise Invalid(f"messages[{i}]", "must be an object with role and content")
        role, content = m.get("role", "user"), m.get("content")
        if not isinstance(role, str) or not role.strip():
            raise Invalid(f"messages[{i}].role", "must be a non-empty string")
        if not isinstance(content, str):
            raise Invalid(f"messages[{i}].content", "must be a string")
        if "\x00" in content or "\x00" in role:
            raise Invalid(f"messages[{i}]", "must not contain NUL characters")
        out.append({"role": role.strip().lower(), "content": content.strip()})
    return out


_NO_NUL = "^[^\\u0000]*$"
# The published shape of one message: exactly what validate_messages accepts (role defaults to "user").
_MESSAGE = {
    "type": "object",
    "required": ["content"],
    "properties": {
        "role": {"type": "string", "pattern": TEXT_PATTERN},  # \S let its one visible character be a NUL
        "content": {"type": "string", "pattern": _NO_NUL},
    },
}

ADD = Schema(
    Field("messages", "any", required=True, check=validate_messages,
          schema={"oneOf": [{"type": "string", "minLength": 1, "pattern": _NO_NUL},
                            {"type": "array", "minItems": 1, "maxItems": MAX_MESSAGES, "items": _MESSAGE}]},
          help="The chat: [{role, content}] (user turns are mined), or one string (one user turn)."),
    Field("session_id", "str", max_len=200, help="Stored on every memory made."),
    Field("source", "str", default="conversation", max_len=200),
    Field("tags", "tags", max_items=20),
    Field("use_llm", "bool", default=True, help="Use the configured LLM (falls back to the rules on any error)."),
    Field("dry_run", "bool", default=False, help="Return what would be stored, store nothing."),
    description="Extract durable memories (facts, preferences, decisions, corrections) from a conversation.",
)  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    content: str
    category: str
    importance: int


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_GREETING = re.compile(
    r"^(hi|hello|hey|yo|good (morning|afternoon|evening)|thanks?( you)?( so much| a lot)?|thx|ok(ay)?|sure|"
    r"great|cool|nice|bye|goodbye|see you|cheers|got it|sounds good|perfect|awesome|yes|no|yep|nope)\b[\s!.,]*$",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^(what|who|whom|where|when|why|how|which|can|could|would|will|is|are|do|does|did|should|shall|may|"
    r"please|pls|tell me|show me|help me|explain|write|fix|make|create|give me|list|find)\b",
    re.IGNORECASE,
)
_KINDS: tuple[tuple[str, int, re.Pattern[str]], ...] = (
    ("correction", 7, re.compile(r"\b(actually|i meant|correction|to correct|that'?s (wrong|not right)|not .+ but|"
                                 r"i was wrong|no longer|anymore|instead)\b", re.IGNORECASE)),
    ("rule", 8, re.compile(r"\b(always|never|from now on|remember (that|to)|make sure|don'?t ever|do not|must)\b",
                           re.IGNORECASE)),
    ("decision", 7, re.compile(r"\b(we decided|i decided|decided to|let'?s go with|we'?ll (use|go)|i'?ll use|"
                               r"we chose|i chose|going with|we are going to|we will|settled on|plan is)\b",
                               re.IGNORECASE)),
    ("preference", 6, re.compile(r"\b(i (really )?(prefer|like|love|hate|dislike|enjoy|want|can'?t stand)|"
                                 r"my fav(ou?rite)?|i'?m (a )?fan of|i don'?t like)\b", re.IGNORECASE)),
    ("fact", 6, re.compile(r"\b(i am|i'?m|i live|i work|i was born|i have|i own|i moved|i use|i speak|i study|"
                           r"my [a-z]+( [a-z]+)? (is|are|was)|i'?ve been|i got|i started|i bought)\b",
                           re.IGNORECASE)),
)  # fmt: skip
_FIRST_PERSON = re.compile(r"\b(i|i'm|i'll|i've|my|me|we|our|we'll|let's)\b", re.IGNORECASE)
_USER_ROLES = {"user", "human"}


def _classify(sentence: str) -> Candidate | None:
    text = sentence.strip().strip("-*• ").strip()
    words = text.split()
    if len(words) < 3 or _GREETING.match(text) or text.endswith("?"):
        return None
    if _QUESTION_START.match(text) and not _FIRST_PERSON.search(" ".join(words[1:4])):
        return None  # a request or question, not something about the user
    for category, importance, pattern in _KINDS:
        if pattern.search(text):
            return Candidate(text if text[-1] in ".!" else text + ".", category, importance)
    return None


def rule_candidates(messages: list[dict[str, str]]) -> list[Candidate]:
    """The rules tier: durable statements from the user's turns, in order, without exact repeats."""
    out: dict[str, Candidate] = {}
    for message in messages:
        if message["role"] not in _USER_ROLES:
            continue
        for sentence in _SENTENCE.split(message["content"]):
            found = _classify(sentence)
            if found is not None and found.content.lower() not in out:
                out[found.content.lower()] = found
    return list(out.values())[:MAX_CANDIDATES]


_LLM_SYSTEM = (
    "You extract durable memories about the user from a conversation: facts about them, preferences, "
    "decisions, corrections and standing instructions. Skip greetings, small talk, questions and one-off "
    "requests. Write each memory as one short self-contained sentence. Answer only JSON: "
    '{"memories": [{"content": str, "category": "fact|preference|decision|correction|rule", "importance": 1-10}]}'
)
_CATEGORIES = {"fact", "preference", "decision", "correction", "rule"}


def _llm_candidates(reply: Any) -> list[Candidate]:
    items = reply.get("memories") if isinstance(reply, dict) else None
    if not isinstance(items, list):
        raise LlmUnavailable("the LLM reply has no memories list")
    out = []
    for item in items[:MAX_CANDIDATES]:
        if not isinstance(item, dict) or not isinstance(item.get("content"), str) or not item["content"].strip():
            continue
        category = item.get("category") if item.get("category") in _CATEGORIES else "fact"
        importance = item.get("importance")
        importance = importance if isinstance(importance, int) and 1 <= importance <= 10 else 6
        out.append(Candidate(item["content"].strip()[:2000], str(category), importance))
    return out


class ExtractService:
    def __init__(
        self, db: Database, llm: LlmClient, memories: MemoryService, vectors: EmbeddingManager, index: VectorIndex
    ) -> None:
        self.db = db
        self.llm = llm
        self.memories = memories
        self.vectors = vectors
        self.index = index

    async def candidates(self, messages: list[dict[str, str]], use_llm: bool) -> tuple[list[Candidate], str]:
        """``(candidates, tier)``: the LLM's when configured and it answers well, else the rules'."""
        llm = self.llm
        if use_llm and llm.configured:
            chat = "\n".join(f"{m['role']}: {m['content']}" for m in messages)[-24_000:]
            try:
                return _llm_candidates(await llm.chat_json(_LLM_SYSTEM, chat)), "llm"
            except LlmUnavailable as exc:
                log.info("extraction falls back to rules: %s", exc.message)
        return rule_candidates(messages), "rules"

    async def _semantic_duplicates(self, user_id: int, texts: list[str]) -> list[tuple[int, float] | None]:
        """For each text, the stored memory it means the same as (cosine >= SEMANTIC_DUPLICATE), if any."""
        try:
            vectors = await self.vectors.embed(texts) if texts else None
        except EmbeddingDown:  # the endpoint is down: SimHash alone finds the duplicates
            vectors = None
        index = self.index
        if vectors is None or index.model is None:
            return [None] * len(texts)

        def run(conn: Any) -> list[tuple[int, float] | None]:
            user_index = index.sync(conn, user_id)
            out: list[tuple[int, float] | None] = []
            with user_index.lock:
                for vec in vectors:
                    hits = user_index.top(np.asarray(vec), 1, conn)
                    close = bool(hits) and hits[0][1] >= SEMANTIC_DUPLICATE
                    out.append((int(hits[0][0]), float(hits[0][1])) if close else None)
            return out

        return await self.db.aread(run)

    async def add(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Extract and store; returns what was stored, what was a duplicate, and which tier decided."""
        auth.require("write")
        q = ADD.parse(body)
        found, tier = await self.candidates(q["messages"], q["use_llm"])
        dups = await self._semantic_duplicates(auth.user_id, [c.content for c in found])
        fresh = [c for c, d in zip(found, dups, strict=True) if d is None]
        skipped = [{"content": c.content, "existing_id": d[0], "similarity": round(d[1], 4)}
                   for c, d in zip(found, dups, strict=True) if d is not None]  # fmt: skip
        results: list[dict[str, Any]] = []
        if fresh and not q["dry_run"]:
            bodies = [{"content": c.content, "category": c.category, "importance": c.importance,
                       "source": q["source"], "session_id": q["session_id"], "tags": q["tags"] or []}
                      for c in fresh]  # fmt: skip
            results = await self.memories.store_many(auth, bodies)
        memories = []
        for i, c in enumerate(fresh):
            r = results[i] if results else {}
            if r.get("duplicate"):
                skipped.append({"content": c.content, "existing_id": r["existing_id"], "similarity": None})
                continue
            memories.append({"id": r.get("id"), "content": c.content, "category": c.category,
                             "importance": c.importance})  # fmt: skip
        return {"added": len(memories) if not q["dry_run"] else 0, "memories": memories, "duplicates": skipped,
                "extracted": len(found), "tier": tier, "dry_run": q["dry_run"],
                "messages": len(q["messages"])}  # fmt: skip
