"""Causal links: "because", "so that", "led to", "as a result", "therefore" between memories and facts.

:func:`relations` finds the causal statements of a text by rule: each is a ``Relation`` of a cause clause
and an effect clause, or (``As a result, ...``, ``Therefore ...``, ``That's why ...`` opening the text) an
effect whose cause is the text before it. :func:`causal_links` turns them into links: the effect side is
the unit of the memory that states it (its fact memory when decomposed, else the memory), the cause side
is the candidate (one of the memory's own facts, or a nearby memory) that says the cause clause — most of
the clause's content words, and a good share of the candidate's own, must match; a relation whose cause no
memory states makes no link. A leading marker with no cause in the text links to ``antecedent`` (the
memory just before it in the same session), when there is one.

Links are stored as ``caused_by`` (effect -> cause), the link type the graph ranks highest; "what does X
cause" is the same link seen from its target (``incoming`` on ``GET /links/{id}``), so no inverse row is
written. False links are worse than missed ones: every threshold leans to precision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..model.links import bump_links_changed, upsert_link
from .statements import content_tokens

__all__ = [
    "CAUSED_BY",
    "Relation",
    "causal_links",
    "caused_by_others",
    "match_clause",
    "relations",
    "store_links",
    "strip_connectives",
]

CAUSED_BY = "caused_by"
MIN_SHARED = 2  # content words a clause and its memory must share
CLAUSE_COVERAGE = 0.6  # share of the clause's content words the memory must hold
UNIT_COVERAGE = 0.3  # share of the memory's content words the clause must hold (long memories match less)


@dataclass(frozen=True)
class Relation:
    """``effect`` happened because of ``cause`` ("" when the cause is the text before: ``leading``)."""

    cause: str
    effect: str
    marker: str
    leading: bool = False


_SENT = re.compile(r"(?<=[.!?;])\s+|\n+")
_LEAD = re.compile(
    r"^(?:(?:and|so)\s+)?(?P<m>as a result(?! of)|as a consequence(?! of)|consequently|therefore|thus|hence"
    r"|because of (?:this|that)|that'?s why|that is why|this is why|which is why|so)\b,?\s*(?P<e>.+)$",
    re.IGNORECASE,
)
# effect <marker> cause
_EFFECT_FIRST = re.compile(
    r"^(?P<e>.+?),?\s+(?P<m>because of|because|due to|owing to|thanks to|as a result of|so that|in order to"
    r"|(?:was |were |is |are )?caused by)\s+(?P<c>.+)$",
    re.IGNORECASE,
)
# <marker> cause, effect
_CAUSE_CLAUSE_FIRST = re.compile(
    r"^(?P<m>because of|because|due to|since|as a result of)\s+(?P<c>[^,]+),\s*(?P<e>.+)$", re.IGNORECASE
)
# cause <marker> effect
_CAUSE_FIRST = re.compile(
    r"^(?P<c>.+?),?\s+(?P<m>led to|leads to|lead to|resulted in|results in|caused|causes|made me|forced me to"
    r"|meant that|so|therefore|and therefore|which is why|which meant)\s+(?P<e>.+)$",
    re.IGNORECASE,
)


def _clean(text: str) -> str:
    return text.strip(" ,;:.!-\u2014")


def _sentence_relations(sentence: str, first: bool) -> list[Relation]:
    s = _clean(sentence)
    lead = _LEAD.match(s)
    if lead and not (lead.group("m").lower() == "so" and not first and not s.lower().startswith("so ")):
        return [Relation("", _clean(lead.group("e")), lead.group("m").lower(), leading=True)]
    m = _CAUSE_CLAUSE_FIRST.match(s)
    if m:
        return [Relation(_clean(m.group("c")), _clean(m.group("e")), m.group("m").lower())]
    m = _EFFECT_FIRST.match(s)
    if m:
        return [Relation(_clean(m.group("c")), _clean(m.group("e")), m.group("m").lower())]
    m = _CAUSE_FIRST.match(s)
    if m and (m.group("m").lower() != "so" or ", so " in sentence):  # a bare "so" only after a comma
        return [Relation(_clean(m.group("c")), _clean(m.group("e")), m.group("m").lower())]
    return []


def relations(text: str) -> list[Relation]:
    """The causal statements of ``text``, in order. A leading marker inside the text ("I lost my job. As
    a result, I moved home.") takes the sentence before it as its cause."""
    out: list[Relation] = []
    sentences = [s for s in _SENT.split(text.strip()) if s.strip()]
    for i, sentence in enumerate(sentences):
        for rel in _sentence_relations(sentence, i == 0):
            if rel.leading and i > 0:
                rel = Relation(_clean(sentences[i - 1]), rel.effect, rel.marker)
            if (rel.leading or len(content_tokens(rel.cause)) >= 2) and len(content_tokens(rel.effect)) >= 2:
                out.append(rel)
    return out


_CONNECTIVE = re.compile(
    r"(^|(?<=[.!?;]\s)|\n)\s*(?:and\s+)?(?:as a result|as a consequence|consequently|therefore|thus|hence"
    r"|because of (?:this|that)|that'?s why|that is why|this is why)\s*,?\s+(?=\w)",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset({"I", "The", "My", "Our", "We", "A", "An", "This", "That", "It", "He", "She", "They", "So"})


def strip_connectives(text: str) -> str:
    """``text`` without the causal connective opening a sentence ("As a result, I moved" -> "I moved"), so
    that decomposition keeps the effect as a statement of its own (the link keeps the relation)."""
    return _CONNECTIVE.sub(lambda m: m.group(1), text)


def _subject_name(text: str) -> str | None:
    first = text.split(maxsplit=1)[0].strip(",.:;!?") if text.split() else ""
    return first if first[:1].isupper() and first not in _NOT_NAMES and first.isalpha() else None


def _other_person(text: str, candidate: str) -> bool:
    """Whether ``candidate`` is about a named person ``text`` is not about ("Alice ..." vs "Bob ...")."""
    theirs, ours = _subject_name(candidate), _subject_name(text)
    return theirs is not None and ours is not None and theirs != ours and theirs not in text


def _stems(text: str) -> set[str]:
    out = set()
    for w in content_tokens(text):
        for suffix in ("ing", "ed", "es", "s"):
            if len(w) > len(suffix) + 3 and w.endswith(suffix):
                w = w[: -len(suffix)]
                break
        out.add(w)
    return out


def match_clause(
    clause: str, candidates: list[tuple[int, str]], exclude: set[int] | frozenset[int] = frozenset()
) -> int | None:
    """The candidate id that states ``clause`` best, or None when none does well enough."""
    want = _stems(clause)
    if len(want) < MIN_SHARED:
        return None
    best: tuple[float, int] | None = None
    for cid, text in candidates:
        if cid in exclude:
            continue
        have = _stems(text)
        shared = len(want & have)
        if shared < MIN_SHARED or shared / len(want) < CLAUSE_COVERAGE or shared / max(1, len(have)) < UNIT_COVERAGE:
            continue
        score = shared / len(want | have)
        if best is None or score > best[0]:
            best = (score, cid)
    return best[1] if best else None


def causal_links(
    memory_id: int,
    text: str,
    units: list[tuple[int, str]],
    nearby: list[tuple[int, str]],
    antecedent: int | None = None,
) -> list[tuple[int, int, str]]:
    """``(effect id, cause id, marker)`` links stated by ``text`` (memory ``memory_id``).

    ``units`` are the memory's fact memories (``[]`` when not decomposed); ``nearby`` other memories that
    may state a cause; ``antecedent`` the memory before this one in its session, for a leading marker.
    """
    out: dict[tuple[int, int], str] = {}
    own = units or [(memory_id, text)]
    own_ids = {cid for cid, _ in own} | {memory_id}
    for rel in relations(text):
        effect = match_clause(rel.effect, own) if units else None
        effect = effect if effect is not None else memory_id
        if rel.leading:
            cause = antecedent
        else:
            cause = match_clause(rel.cause, [u for u in units if u[0] != effect])
            if cause is None:
                others = [(cid, t) for cid, t in nearby if not _other_person(text, t)]
                cause = match_clause(rel.cause, others, exclude=own_ids)
        if cause is not None and cause != effect:
            out.setdefault((effect, cause), rel.marker)
    return [(e, c, m) for (e, c), m in out.items()]


def caused_by_others(memory_id: int, text: str, nearby: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """Links from nearby memories whose stated cause is this memory: ``(their id, memory_id, marker)``."""
    out: list[tuple[int, int, str]] = []
    for other_id, other_text in nearby:
        if other_id == memory_id or _other_person(other_text, text):
            continue
        for rel in relations(other_text):
            if not rel.leading and match_clause(rel.cause, [(memory_id, text)]) == memory_id:
                out.append((other_id, memory_id, rel.marker))
                break
    return out


def store_links(conn: Any, user_id: int, links: list[tuple[int, int, str]]) -> set[int]:
    """Write ``caused_by`` links (effect -> cause) in the caller's transaction; the memory ids it touched."""
    written = [(e, c) for e, c, _ in links if upsert_link(conn, user_id, e, c, CAUSED_BY, 1.0)]
    bump_links_changed(conn, user_id, len(written))
    return {i for pair in written for i in pair}
