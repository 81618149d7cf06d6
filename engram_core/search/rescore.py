"""Rescoring of the fused candidate pool: session-level evidence and the names a query mentions.

Both run after the per-row boosts, on the pool of candidates (a few dozen rows already read), so they
cost no extra query.

* **Session scoring**: a conversation session whose turns score well as a whole is likely where the
  answer is, even when the one turn that holds it scores modestly on its own (evidence of a multi-hop
  question is spread over a session's turns). Each session's score is the sum of its
  :data:`SESSION_TOP` best candidate scores over :data:`SESSION_TOP` (a session with one hit counts
  half); every candidate of a session gains ``weight x`` that
  (``Tuning.session_weight``; 0 turns it off). Memories without a ``session_id`` are untouched.
* **Name boost**: a query that names someone or something (a capitalised word that is not the first
  word of the query nor a common question word) favours the memories that contain that name:
  ``x (1 + boost x the share of the query's names the memory contains)`` (``Tuning.name_boost``).
  No list of names is kept anywhere: names are whatever the query capitalises.
* **Speaker boost**: a chat turn stored with its speaker label ("Anna: I went to Paris", the label
  ``engram_core.intelligence.decompose.speaker_of`` reads) whose speaker is one of the query's names is
  that person's own statement, which is what a question about them asks for, rather than another
  speaker's remark to them ("Thanks, Anna!"): ``x (1 + boost)`` (``Tuning.speaker_boost``; 0 is off).
* **Session diversity**: evidence of a multi-hop question sits in several sessions, while the session
  score and the session context lift one strong session's turns together. A candidate whose session already
  has ``free`` candidates ranked above it is multiplied by ``(1 - penalty)`` once for each such candidate
  beyond ``free`` (``Tuning.session_diversity``, ``Tuning.session_free``; penalty 0 is off), so other
  sessions' turns get slots. The penalty only depends on a candidate's rank within its own session, which
  the penalty never changes, so the greedy MMR-style pass is one sort. Memories without a ``session_id``
  are never penalised.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "COMMON_WORDS",
    "SESSION_TOP",
    "name_factor",
    "query_names",
    "session_bonus",
    "session_diversity",
    "speaker_factor",
]

SESSION_TOP = 2
"""How many of a session's best candidates make its score."""

_WORD = re.compile(r"[A-Za-z][\w'-]*")
# a speaker label as decompose.speaker_of reads one, every word of it capitalised ("Anna", "Dr. Lee")
_SPEAKER = re.compile(r"^([A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,3}):\s+")
_COMMON_WORDS = (
    "i a an the what when where who whom whose which why how did does do is are was were has have had can could"
    " would should will shall may might must if in on at of for to from by with about and or but not this that"
    " these those it its he she they we you his her their our your"
)
COMMON_WORDS = frozenset(_COMMON_WORDS.split(" "))
"""Question and function words: never a name, never content."""


def query_names(query: str) -> list[str]:
    """The capitalised words of ``query`` after its first word, minus question and function words.

    Possessives lose their ``'s`` ("Caroline's" -> "Caroline"); each name is listed once, in order.
    """
    words = _WORD.findall(query)
    names: list[str] = []
    for word in words[1:]:
        word = re.sub(r"'s$", "", word)
        if word[:1].isupper() and word.lower() not in COMMON_WORDS and len(word) > 1 and word not in names:
            names.append(word)
    return names


def name_factor(content: str, names: Sequence[str], boost: float) -> float:
    """``1 + boost x`` the share of ``names`` found as whole words in ``content`` (1.0 without names)."""
    if not names or boost <= 0:
        return 1.0
    found = sum(1 for n in names if re.search(rf"\b{re.escape(n)}\b", content))
    return 1.0 + boost * found / len(names)


def speaker_factor(content: str, names: Sequence[str], boost: float) -> float:
    """``1 + boost`` when ``content`` opens with a speaker label one of ``names`` is a word of, else 1.0."""
    if not names or boost <= 0:
        return 1.0
    label = _SPEAKER.match(content)
    return 1.0 + boost if label and not set(label.group(1).split()).isdisjoint(names) else 1.0


def session_bonus(
    scores: Mapping[int, float], sessions: Mapping[int, Any], weight: float, top: int = SESSION_TOP
) -> dict[int, float]:
    """Candidate id -> what it gains from its session: ``weight x`` mean of the session's ``top`` scores.

    ``scores``: candidate id -> its score so far; ``sessions``: candidate id -> ``session_id`` (or None).
    Candidates without a session gain nothing (and are left out of the result).
    """
    if weight <= 0:
        return {}
    members: dict[Any, list[float]] = defaultdict(list)
    for mid, score in scores.items():
        sid = sessions.get(mid)
        if sid is not None:
            members[sid].append(score)
    value = {sid: sum(sorted(v, reverse=True)[:top]) / top for sid, v in members.items()}
    return {mid: weight * value[sessions[mid]] for mid in scores if sessions.get(mid) is not None}


def session_diversity(
    scores: Mapping[int, float], sessions: Mapping[int, Any], penalty: float, free: int
) -> dict[int, float]:
    """Candidate id -> its diversity factor, for the candidates it penalises (the others keep 1.0).

    ``scores``: candidate id -> its score so far; ``sessions``: candidate id -> ``session_id`` (or None).
    The ``j``-th best candidate of a session (0-based) gets ``(1 - penalty) ** max(0, j + 1 - free)``.
    """
    if penalty <= 0:
        return {}
    free = max(0, free)
    seen: dict[Any, int] = defaultdict(int)
    out: dict[int, float] = {}
    for mid in sorted(scores, key=lambda m: (-scores[m], m)):
        sid = sessions.get(mid)
        if sid is None:
            continue
        excess = seen[sid] + 1 - free
        seen[sid] += 1
        if excess > 0:
            out[mid] = (1.0 - penalty) ** excess
    return out
