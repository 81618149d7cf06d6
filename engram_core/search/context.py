"""Token-budgeted context assembly for a prompt (pure: candidates in, text out).

Candidates come in four kinds, always rendered in this order, each under its own heading:
``static`` (core memories), ``relevant`` (search results), ``episode`` (title and summary of the episodes
the relevant memories belong to) and ``recent`` (latest memories). Within a kind the higher score goes
first.

Steps:

1. Deduplicate, keeping the first in priority order (kind, then score): the same id twice, the same
   normalised text (case-folded, punctuation and extra spaces removed), or a token-set Jaccard >= 0.9.
2. Fill each kind up to its share of the budget (see :data:`MODES`); whatever a kind leaves unused
   carries over to the next. A block that does not fit is skipped and smaller ones after it are tried.
   Episodes have no share of their own: when there are episode candidates they take
   :data:`EPISODE_SHARE` of the budget from the relevant share (so without them nothing changes).
3. Modes with ``backfill`` then offer the still unplaced blocks (kind order) to the remaining budget.
4. Render, then count the whole text with ``count_tokens``. Tokenizers are not additive (the pieces were
   counted one by one), so while the total is over budget the lowest-priority block is removed. The
   result is therefore never over budget, whatever the counter.

Modes (budget shares static / relevant / recent, block cap, backfill):

* ``fast``: 0.15 / 0.85 / 0, at most 8 blocks, no backfill: a small, focused context.
* ``balanced``: 0.2 / 0.6 / 0.2, no cap, backfill.
* ``deep``: 0.1 / 0.7 / 0.2, no cap, backfill: as much relevant material as fits.
* ``decision``: 0.25 / 0.65 / 0.1, backfill; blocks whose category is decision, preference, rule or
  constraint rank first within their kind (score x 1.5), as past decisions and constraints matter most.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

from ..errors import Invalid

__all__ = [
    "KINDS",
    "MODES",
    "Candidate",
    "ContextResult",
    "EPISODE_SHARE",
    "PlacedBlock",
    "assemble_context",
    "estimate_tokens",
]

KINDS: tuple[str, ...] = ("static", "relevant", "episode", "recent")
_HEADINGS = {"static": "## Core memories", "relevant": "## Relevant memories", "episode": "## Episodes",
             "recent": "## Recent memories"}  # fmt: skip
EPISODE_SHARE = 0.15
_DECISION_CATEGORIES = frozenset({"decision", "preference", "rule", "constraint"})
_JACCARD_DUPLICATE = 0.9


@dataclass(frozen=True)
class _Mode:
    shares: dict[str, float]
    max_blocks: int | None
    backfill: bool
    boost_categories: frozenset[str] = frozenset()


MODES: dict[str, _Mode] = {
    "fast": _Mode({"static": 0.15, "relevant": 0.85, "recent": 0.0}, 8, False),
    "balanced": _Mode({"static": 0.2, "relevant": 0.6, "recent": 0.2}, None, True),
    "deep": _Mode({"static": 0.1, "relevant": 0.7, "recent": 0.2}, None, True),
    "decision": _Mode({"static": 0.25, "relevant": 0.65, "recent": 0.1}, None, True, _DECISION_CATEGORIES),
}


@dataclass(frozen=True)
class Candidate:
    """A memory offered to the context: ``kind`` is static, relevant or recent."""

    id: Hashable
    text: str
    kind: str = "relevant"
    score: float = 0.0
    category: str = "general"
    source: str | None = None


@dataclass(frozen=True)
class PlacedBlock:
    """A candidate that made it into the context, with the tokens its line cost."""

    id: Hashable
    kind: str
    category: str
    source: str | None
    score: float
    tokens: int


@dataclass(frozen=True)
class ContextResult:
    """The assembled context and its accounting (``breakdown``: kind -> {"count", "tokens"})."""

    context: str
    blocks: list[PlacedBlock]
    token_estimate: int
    token_budget: int
    utilization: float
    breakdown: dict[str, dict[str, int]] = field(default_factory=dict)
    duplicates: int = 0
    skipped: int = 0


def estimate_tokens(text: str) -> int:
    """A model-free token estimate: about four characters per token, rounded up."""
    return math.ceil(len(text) / 4)


_PUNCT = re.compile(r"[^\w\s]|_")
_WORDS = re.compile(r"[^\W_]+")


def _normalise(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.casefold()).split())


def _line(c: Candidate) -> str:
    text = " ".join(c.text.split())
    return f"- [{c.category}] {text}\n"


def _dedup(ordered: list[Candidate]) -> tuple[list[Candidate], int]:
    kept: list[Candidate] = []
    ids: set[Hashable] = set()
    texts: set[str] = set()
    token_sets: list[frozenset[str]] = []
    for c in ordered:
        norm = _normalise(c.text)
        tokens = frozenset(_WORDS.findall(norm))
        if c.id in ids or norm in texts:
            continue
        if tokens and any(len(tokens & other) / len(tokens | other) >= _JACCARD_DUPLICATE for other in token_sets):
            continue
        kept.append(c)
        ids.add(c.id)
        texts.add(norm)
        token_sets.append(tokens)
    return kept, len(ordered) - len(kept)


def _render(placed: list[tuple[int, Candidate]]) -> str:
    sections: list[str] = []
    for kind in KINDS:
        lines = [_line(c) for _, c in sorted(placed, key=lambda p: p[0]) if c.kind == kind]
        if lines:
            sections.append(_HEADINGS[kind] + "\n" + "".join(lines))
    return "\n".join(sections)


def assemble_context(
    candidates: Sequence[Candidate],
    budget: int,
    count_tokens: Callable[[str], int] = estimate_tokens,
    *,
    mode: str = "balanced",
) -> ContextResult:
    """Assemble the best context that fits ``budget`` tokens.

    Args:
        candidates: Blocks of any kind, in any order.
        budget: Most tokens the context may take (>= 0), headings and separators included.
        count_tokens: The tokenizer's counter (default :func:`estimate_tokens`).
        mode: One of :data:`MODES`.

    Raises:
        Invalid: Unknown ``mode``, a negative budget, or a candidate of unknown kind.
    """
    if mode not in MODES:
        raise Invalid("mode", f"must be one of {', '.join(MODES)}")
    if budget < 0:
        raise Invalid("max_tokens", "must be >= 0")
    profile = MODES[mode]
    for c in candidates:
        if c.kind not in KINDS:
            raise Invalid("kind", f"must be one of {', '.join(KINDS)}")

    def priority(c: Candidate) -> float:
        return c.score * (1.5 if c.category in profile.boost_categories else 1.0)

    ordered = sorted(candidates, key=lambda c: (KINDS.index(c.kind), -priority(c)))
    unique, duplicates = _dedup(ordered)
    costs = [count_tokens(_line(c)) for c in unique]
    # A heading costs its own line; every section after the first adds a blank separator line.
    heading_cost = {k: count_tokens(_HEADINGS[k] + "\n") + count_tokens("\n") for k in KINDS}

    placed: list[int] = []
    opened: set[str] = set()
    used = 0

    def try_place(i: int, limit: int) -> int:
        kind = unique[i].kind
        extra = costs[i] + (0 if kind in opened else heading_cost[kind])
        if used + extra > limit or (profile.max_blocks is not None and len(placed) >= profile.max_blocks):
            return 0
        placed.append(i)
        opened.add(kind)
        return extra

    shares = dict(profile.shares, episode=0.0)
    if any(c.kind == "episode" for c in unique):
        taken = min(EPISODE_SHARE, shares["relevant"])
        shares["relevant"] -= taken
        shares["episode"] = taken
    carry = 0.0
    for kind in KINDS:
        allowance = shares[kind] * budget + carry
        start = used
        for i, c in enumerate(unique):
            if c.kind == kind:
                used += try_place(i, min(budget, start + math.floor(allowance)))
        carry = allowance - (used - start)
    if profile.backfill:
        for i in range(len(unique)):
            if i not in placed:
                used += try_place(i, budget)

    chosen = sorted(placed)
    text = _render([(i, unique[i]) for i in chosen])
    total = count_tokens(text) if text else 0
    while total > budget and chosen:
        chosen.pop()  # the lowest-priority block: last in (kind, score) order
        text = _render([(i, unique[i]) for i in chosen])
        total = count_tokens(text) if text else 0

    blocks = [
        PlacedBlock(unique[i].id, unique[i].kind, unique[i].category, unique[i].source, unique[i].score, costs[i])
        for i in chosen
    ]
    breakdown = {
        k: {"count": sum(b.kind == k for b in blocks), "tokens": sum(b.tokens for b in blocks if b.kind == k)}
        for k in KINDS
    }
    return ContextResult(
        context=text,
        blocks=blocks,
        token_estimate=total,
        token_budget=budget,
        utilization=round(total / budget, 4) if budget else 0.0,
        breakdown=breakdown,
        duplicates=duplicates,
        skipped=len(unique) - len(blocks),
    )
