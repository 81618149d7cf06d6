"""Question-type detection and the per-type search strategy (channel weights, candidate sizes).

Five question types, detected from general English cues (never from any benchmark's wording):

* ``temporal``: when, what date/time/year, how long ago, ago, yesterday, last/next week, month names,
  4-digit years, since, before/after ...
* ``preference``: like, love, prefer, favorite, enjoy, hate, fan of, fond of, taste ...
* ``reasoning``: why, how come, because, would, could, likely, reason, cause, should, might ...
* ``generalization``: what kind(s)/sort(s)/type(s) of, in general, usually, typically, tend to,
  what are some, often, habits, hobbies ...
* ``fact_recall``: the default when no cue matches.

Blending: every type scores the number of its distinct cues found in the query. When several types
match, the channel weights are the score-weighted average of the matched types' weights (so "Why does she
like jazz?" mixes reasoning and preference half and half) and each channel's candidate size is the largest
any matched type asks for (more candidates never hurt fusion, they only cost time). The reported
``question_type`` is the type with the highest score; ties go to the type listed first in
:data:`QUESTION_TYPES` order of specificity (temporal, preference, reasoning, generalization).

An explicit ``question_type`` override skips detection and uses that type's profile unblended.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..errors import Invalid

__all__ = ["CHANNELS", "PROFILES", "QUESTION_TYPES", "Strategy", "detect_cues", "strategy_for"]

CHANNELS: tuple[str, ...] = ("vector", "fts", "personality", "graph")
QUESTION_TYPES: tuple[str, ...] = ("fact_recall", "preference", "reasoning", "generalization", "temporal")
# Tie-break order when two types have the same cue score: the more specific type wins.
_PRIORITY: tuple[str, ...] = ("temporal", "preference", "reasoning", "generalization", "fact_recall")


@dataclass(frozen=True)
class _Profile:
    weights: Mapping[str, float]
    candidates: Mapping[str, int]


def _profile(weights: tuple[float, float, float, float], candidates: tuple[int, int, int, int]) -> _Profile:
    return _Profile(
        MappingProxyType(dict(zip(CHANNELS, weights, strict=True))),
        MappingProxyType(dict(zip(CHANNELS, candidates, strict=True))),
    )


#: Per-type channel weights (vector, fts, personality, graph) and candidate sizes. Rationale:
#: facts need exact words (fts) as much as meaning (vector); preferences are what the personality channel
#: extracts; reasoning and generalization questions need evidence spread over several memories, so the
#: graph channel and wider candidate pools matter more; temporal questions name events by their words
#: (fts) and rarely relate to personality.
PROFILES: Mapping[str, _Profile] = MappingProxyType(
    {
        "fact_recall": _profile((1.0, 1.0, 0.2, 0.5), (50, 50, 10, 20)),
        "preference": _profile((0.9, 0.7, 1.5, 0.4), (50, 40, 30, 20)),
        "reasoning": _profile((1.0, 0.7, 0.5, 1.0), (80, 60, 20, 40)),
        "generalization": _profile((1.0, 0.6, 0.8, 0.9), (100, 60, 30, 40)),
        "temporal": _profile((0.9, 1.2, 0.1, 0.4), (60, 60, 5, 20)),
    }
)

_MONTHS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)

# Each cue is one regex; the number of distinct cues matched is the type's score. "may" alone is too
# ambiguous to be a month cue ("may I ask"), so month names count only when near a number or "in/last".
_CUES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "temporal": (
        ("when", r"\bwhen\b"),
        ("what date/time/year", r"\bwhat (?:date|time|day|year|month|week)\b"),
        ("how long", r"\bhow long\b"),
        ("ago", r"\bago\b"),
        ("relative day", r"\b(?:yesterday|today|tonight|tomorrow|recently|lately)\b"),
        (
            "last/next/this period",
            r"\b(?:last|next|this|past|previous) (?:week|month|year|weekend|night|"
            r"summer|winter|spring|fall|autumn|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
        ),
        ("date words", r"\b(?:date|dates|dated|timeline|schedule|deadline)\b"),
        (
            "month name",
            rf"\b(?:(?:in|last|since|during|early|late|mid) (?:{_MONTHS})\b|"
            rf"(?:{_MONTHS}) \d{{1,4}}\b|\d{{1,2}}(?:st|nd|rd|th)? (?:of )?(?:{_MONTHS})\b)",
        ),
        ("year", r"\b(?:19|20)\d\d\b"),
        ("before/after/since", r"\b(?:before|after|since|until|during)\b"),
        ("first/last time", r"\b(?:first|last) time\b"),
    ),
    "preference": (
        ("like/love", r"\b(?:like|likes|liked|love|loves|loved)\b"),
        ("prefer", r"\bprefer(?:s|red|ence|ences)?\b"),
        ("favorite", r"\bfavou?rites?\b"),
        ("enjoy", r"\benjoy(?:s|ed)?\b"),
        ("hate/dislike", r"\b(?:hate|hates|hated|dislike|dislikes|disliked|can'?t stand)\b"),
        ("fan of", r"\b(?:fan of|fond of|keen on|passionate about|big on)\b"),
        ("taste", r"\b(?:taste|tastes|rather)\b"),
    ),
    "reasoning": (
        ("why", r"\bwhy\b"),
        ("how come", r"\bhow come\b"),
        ("because/reason", r"\b(?:because|reason|reasons|cause|caused|motivat\w*)\b"),
        ("would/could/might", r"\b(?:would|could|might)\b"),
        ("likely", r"\b(?:likely|unlikely|probably|possibly)\b"),
        ("should", r"\bshould\b"),
        ("what if", r"\b(?:what if|suppose|consider(?:ed)?)\b"),
        ("led to/result", r"\b(?:led to|lead to|result(?:ed)? in|so that|in order to)\b"),
    ),
    "generalization": (
        ("what kind of", r"\bwhat (?:kinds?|sorts?|types?) of\b"),
        ("in general", r"\b(?:in general|generally|overall|on the whole)\b"),
        ("usually", r"\b(?:usually|typically|normally|often|always|ever)\b"),
        ("tend to", r"\btends? to\b"),
        ("what are some", r"\bwhat (?:are|were) (?:some|the)\b|\bsome of\b"),
        ("habits", r"\b(?:habits?|hobbies|hobby|activities|interests|things)\b"),
        ("how does X usually", r"\bhow (?:does|do|did) \w+ (?:usually|normally|typically)\b"),
    ),
}


@dataclass(frozen=True)
class Strategy:
    """How to search for one query.

    Attributes:
        question_type: The dominant detected type (or the override).
        weights: Channel -> RRF weight.
        candidates: Channel -> how many candidates that channel should return.
        mix: Type -> share in the blend (shares sum to 1).
        cues: Type -> names of the cues found (empty for an override).
        overridden: True when the caller chose ``question_type``.
    """

    question_type: str
    weights: Mapping[str, float]
    candidates: Mapping[str, int]
    mix: Mapping[str, float] = field(default_factory=dict)
    cues: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    overridden: bool = False

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly view (for /search/explain)."""
        return {
            "question_type": self.question_type,
            "weights": dict(self.weights),
            "candidates": dict(self.candidates),
            "mix": dict(self.mix),
            "cues": {k: list(v) for k, v in self.cues.items()},
            "overridden": self.overridden,
        }


_COMPILED: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    qtype: tuple((name, re.compile(rx, re.IGNORECASE)) for name, rx in cues) for qtype, cues in _CUES.items()
}


def detect_cues(query: str) -> dict[str, tuple[str, ...]]:
    """Type -> names of that type's cues found in ``query`` (types without any are left out)."""
    text = " ".join(query.replace("\u2019", "'").split())
    found: dict[str, tuple[str, ...]] = {}
    for qtype, cues in _COMPILED.items():
        names = tuple(name for name, rx in cues if rx.search(text))
        if names:
            found[qtype] = names
    return found


def strategy_for(query: str, question_type: str | None = None) -> Strategy:
    """The search strategy for ``query``, detected from its cues or forced by ``question_type``.

    Raises:
        Invalid: ``question_type`` is given but is not one of :data:`QUESTION_TYPES`.
    """
    if question_type is not None:
        if question_type not in PROFILES:
            raise Invalid("question_type", f"must be one of {', '.join(QUESTION_TYPES)}")
        p = PROFILES[question_type]
        return Strategy(question_type, dict(p.weights), dict(p.candidates), {question_type: 1.0}, {}, True)

    cues = detect_cues(query)
    if not cues:
        p = PROFILES["fact_recall"]
        return Strategy("fact_recall", dict(p.weights), dict(p.candidates), {"fact_recall": 1.0}, {})
    total = sum(len(v) for v in cues.values())
    mix = {t: len(cues[t]) / total for t in _PRIORITY if t in cues}
    dominant = max(mix, key=lambda t: (mix[t], -_PRIORITY.index(t)))
    weights = {c: sum(share * PROFILES[t].weights[c] for t, share in mix.items()) for c in CHANNELS}
    candidates = {c: max(PROFILES[t].candidates[c] for t in mix) for c in CHANNELS}
    return Strategy(dominant, weights, candidates, mix, cues)
