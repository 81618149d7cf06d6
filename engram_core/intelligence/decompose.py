"""Atomic decomposition in the database: a memory's statements become fact memories.

:func:`plan` decides from the text alone (:func:`.statements.statements`): a memory is decomposed only when
it holds at least two self-contained statements that are not near-copies of the whole memory, so a
one-statement memory costs no extra rows. :func:`insert_children` (inside the caller's transaction) stores
each statement as its own memory: category ``fact``, ``is_fact = 1``, the parent's source, importance,
tags, session, space and ``created_at``, its own SimHash, FSRS state and (when given) embedding, with a
``has_fact`` link parent -> child; the parent is kept intact and marked ``is_decomposed``. Facts count
against the memory quota: a user at the quota gets no facts (the parent stays undecomposed), never an error.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..auth.context import AuthContext
from ..decay import initial_state
from ..errors import QuotaExceeded
from ..memories import writes
from ..memories.simhash import fingerprint
from ..model.links import bump_links_changed, upsert_link
from ..timeutil import to_datetime
from .causal import strip_connectives
from .pronouns import resolve_pronouns
from .statements import content_tokens, jaccard, statements

__all__ = ["children_of", "insert_children", "llm_plan", "plan", "prepare", "speaker_of"]

_LLM_SYSTEM = (
    "Split the user's memory into atomic facts: short, self-contained statements that each make sense alone"
    " (resolve pronouns; keep names, numbers and dates; drop greetings, questions, filler and remarks to the"
    ' listener). Answer JSON only: {"facts": ["...", "..."]}. A memory that states one thing or nothing gives'
    ' {"facts": []}.'
)


#: Shorter memories are not decomposed: their statements are as easy to find in the memory itself.
MIN_CHARS = 80
_SPEAKER = re.compile(r"^([A-Z][\w .'-]{0,40}):\s+")
_DURABLE = re.compile(r"^(?:I|I'm|I've|I'd|We|We're|We've|My|Our|The)\s", re.UNICODE)


def speaker_of(text: str) -> tuple[str | None, str]:
    """A chat turn's speaker label and the text after it ("Melanie: I ran ..." -> ("Melanie", "I ran ..."))."""
    m = _SPEAKER.match(text)
    return (m.group(1), text[m.end() :]) if m else (None, text)


def prepare(body: str) -> tuple[str, set[str]]:
    """``body`` as statements are read from it: a leading causal connective dropped (the causal link keeps
    it), and unambiguous he/she/his/her replaced by the person the memory names (:mod:`.pronouns`); plus
    the names a pronoun was resolved to."""
    return resolve_pronouns(strip_connectives(body))


def _durable(statement: str, named: set[str]) -> bool:
    """About the speaker, a thing, or a person the memory refers back to by a pronoun."""
    return bool(_DURABLE.match(statement)) or statement.split(maxsplit=1)[0].removesuffix("'s") in named


def plan(text: str, limit: int) -> list[str]:
    """The fact texts ``text`` decomposes into ([] when it holds fewer than two durable statements).

    A durable statement is about the speaker or a thing ("I ...", "We ...", "My/Our ...", "The ..."): chat
    remarks to the listener ("You're so kind"), reactions ("That's awesome"), imperatives ("Take a look")
    and statements that lean on another one ("It was fun") are left to the memory itself. A chat turn's
    speaker label ("Melanie: ...") is carried onto each fact so it stays self-contained. A person the memory
    names and refers back to by a pronoun counts too ("My sister Alice lives in Oslo. She moved to Berlin."
    -> "Alice moved to Berlin.").
    """
    if limit <= 0 or len(text) < MIN_CHARS:
        return []
    speaker, body = speaker_of(text)
    prepared, named = prepare(body)
    units = [u for u in statements(prepared, limit) if _durable(u, named) and len(content_tokens(u)) >= 3]
    parent = content_tokens(body)
    units = [u for u in units if jaccard(content_tokens(u), parent) < 0.9]  # not the whole memory again
    if len(units) < 2:
        return []
    return [f"{speaker}: {u}" for u in units] if speaker else units


async def llm_plan(llm: Any, text: str, limit: int) -> list[str] | None:
    """The LLM tier of :func:`plan`: its facts, filtered like the rules' (two or more, no near-copies of
    each other or of the whole memory, at most ``limit``); None when the LLM is off or fails in any way,
    so the caller falls back to the rules."""
    if llm is None or not getattr(llm, "configured", False) or limit <= 0 or len(text) < MIN_CHARS:
        return None
    try:
        reply = await llm.chat_json(_LLM_SYSTEM, text[:8000], max_tokens=600)
        raw = reply.get("facts") if isinstance(reply, dict) else None
        if not isinstance(raw, list) or not all(isinstance(f, str) for f in raw):
            return None
    except Exception:  # LlmUnavailable or anything unexpected: the rules answer instead
        return None
    parent = content_tokens(text)
    kept: list[str] = []
    seen: list[set[str]] = []
    for fact in (" ".join(f.split()) for f in raw):
        toks = content_tokens(fact)
        if not 3 <= len(fact) <= 1000 or len(toks) < 2 or jaccard(toks, parent) >= 0.9:
            continue
        if any(jaccard(toks, other) >= 0.8 for other in seen):
            continue
        seen.append(toks)
        kept.append(fact)
        if len(kept) >= limit:
            break
    return kept if len(kept) >= 2 else []


def children_of(conn: Any, user_id: int, parent_id: int) -> list[Any]:
    """The fact memories of ``parent_id`` (id, content), oldest first."""
    return list(
        conn.execute(
            "SELECT m.id, m.content FROM memory_links l JOIN memories m ON m.id = l.target_id"
            " WHERE l.user_id = ? AND l.source_id = ? AND l.link_type = 'has_fact' AND m.user_id = l.user_id"
            " AND m.is_deleted = 0 ORDER BY m.id",
            (user_id, parent_id),
        )
    )


def insert_children(
    conn: Any, user_id: int, parent: Any, texts: list[str], vectors: list[dict[str, Any]], quota: int
) -> list[int]:
    """Store ``texts`` as facts of the ``parent`` row (see the module docstring); returns their ids."""
    auth = AuthContext(user_id=user_id, scopes=("read", "write"))
    created_at = parent["created_at"]
    fields = {
        "category": "fact",
        "source": parent["source"],
        "importance": parent["importance"],
        "tags": json.loads(parent["tags"]),
        "session_id": parent["session_id"],
        "space_id": parent["space_id"],
        "status": parent["status"],
        "created_at": created_at,
    }
    state = initial_state(to_datetime(created_at)).to_row()
    conn.execute("SAVEPOINT decompose")
    ids: list[int] = []
    try:
        for i, text in enumerate(texts):
            extra = {"simhash": fingerprint(text), "is_fact": 1, **state, **(vectors[i] if i < len(vectors) else {})}
            ids.append(writes.insert_memory(conn, auth, {**fields, "content": text}, quota=quota, extra=extra).id)
    except QuotaExceeded:
        conn.execute("ROLLBACK TO decompose")
        conn.execute("RELEASE decompose")
        return []
    conn.execute("RELEASE decompose")
    links = sum(upsert_link(conn, user_id, parent["id"], child, "has_fact", 1.0) for child in ids)
    bump_links_changed(conn, user_id, links)
    conn.execute("UPDATE memories SET is_decomposed = 1 WHERE id = ? AND user_id = ?", (parent["id"], user_id))
    return ids
