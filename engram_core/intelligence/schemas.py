"""Input schemas of the facts, contradictions, decomposition and affect routes."""

from __future__ import annotations

from ..validation import Field, Schema

__all__ = ["CONTRADICTIONS", "FACTS", "SCAN", "VALENCE"]

FACTS = Schema(
    Field("subject", "str", max_len=200, help="'user' for the first person, else a lower-cased name."),
    Field("predicate", "str", max_len=200, help="lives_in, works_at, likes, dislikes, favourite_color ..."),
    Field("as_of", "timestamp", aliases=("at",), help="The facts valid at that time (default: current ones)."),
    Field("memory_id", "int", min=1, help="Every fact read from this memory, current or not."),
    Field("history", "bool", default=False, help="Every fact, current or not, newest first."),
    Field("limit", "int", default=50, min=1, max=1000),
    Field("offset", "int", default=0, min=0),
    description="Structured facts (subject, predicate, object) with their validity in time.",
)

GROWTH = Schema(
    Field("subject", "str", max_len=200, help="'user' for the first person, else a lower-cased name."),
    Field("predicate", "str", max_len=200, help="lives_in, works_at, works_as ..."),
    Field("limit", "int", default=50, min=1, max=1000),
    Field("offset", "int", default=0, min=0),
    description="Growth observations: facts that changed over time (from -> to), newest first.",
)

CONTRADICTIONS = Schema(
    Field("limit", "int", default=100, min=1, max=1000),
    Field("offset", "int", default=0, min=0),
    description="The caller's contradictions, newest first.",
)

SCAN = Schema(
    Field("limit", "int", default=2000, min=1, max=20_000, help="Most recent memories scanned."),
    description="Scan the caller's memories for contradictions (facts and text) and list them all.",
)

VALENCE = Schema(
    Field("text", "text", required=True, max_len=100_000, aliases=("content",)),
    description="Valence (-1..1) and arousal (0..1) of a text from a small lexicon (nothing is stored).",
)
