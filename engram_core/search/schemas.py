"""Input schemas of the search routes (they validate bodies and feed /openapi.json)."""

from __future__ import annotations

from ..validation import Field, Schema
from .context import MODES
from .strategy import QUESTION_TYPES

__all__ = [
    "CONTEXT",
    "EXPLAIN",
    "FACETED",
    "RECALL",
    "SEARCH",
    "TAG_SEARCH",
    "TIMETRAVEL",
]


_SEARCH_FIELDS = (
    Field("query", "text", required=True, max_len=10_000),
    Field("limit", "int", default=10, min=1, max=100),
    Field("category", "str", max_len=100),
    Field("source", "str", max_len=200),
    Field("tags", "tags", max_items=20, help="Every one of these tags (AND)."),
    Field("threshold", "float", min=0.0, max=1.0, help="Drop results whose score is below this."),
    Field("space_id", "int", min=1),
    Field("include_forgotten", "bool", default=False),
    Field("include_archived", "bool", default=False),
    Field("question_type", "str", choices=QUESTION_TYPES, help="Skip detection and use this strategy."),
    Field("include_links", "bool", default=False, help="Add linked memories and the version chain."),
    Field("latest_only", "bool", default=True),
    Field("after", "timestamp", aliases=("date_from", "since"), help="Created at or after this time."),
    Field("before", "timestamp", aliases=("date_to", "until"), help="Created before this time."),
)

SEARCH = Schema(*_SEARCH_FIELDS, description="Hybrid search of the caller's memories.")
EXPLAIN = Schema(*_SEARCH_FIELDS, description="Search, with every channel's rank and score, multipliers and timings.")

FACETED = Schema(
    Field("query", "str", max_len=10_000, help="Optional: without it the filtered memories come newest first."),
    *(f for f in _SEARCH_FIELDS if f.name not in {"query", "tags"}),
    Field("tags", "tags", max_items=20, aliases=("tags_all",), help="Every one of these tags."),
    Field("tags_any", "tags", max_items=20, help="At least one of these tags."),
    Field("tags_none", "tags", max_items=20, help="None of these tags."),
    Field("importance_min", "int", min=1, max=10),
    Field("importance_max", "int", min=1, max=10),
    description="Search or list with filters, plus facet counts over everything the filters match.",
)

TAG_SEARCH = Schema(
    Field("tags", "tags", required=True, max_items=20),
    Field("match", "str", default="any", choices=("any", "all")),
    Field("limit", "int", default=20, min=1, max=100),
    Field("offset", "int", default=0, min=0),
    description="Memories carrying any (or all) of the tags, newest first.",
)

RECALL = Schema(
    Field("query", "str", max_len=10_000, help="Without it the semantic layer is empty."),
    Field("limit", "int", default=5, min=1, max=50, help="Memories per layer."),
    Field("min_importance", "int", default=8, min=1, max=10, help="The important layer's threshold."),
    Field("space_id", "int", min=1),
    description="Layered recall: static, important, semantic (search) and recent memories.",
)

CONTEXT = Schema(
    Field("query", "text", required=True, max_len=10_000),
    Field("max_tokens", "int", default=8000, min=0, max=200_000, aliases=("token_budget", "budget")),
    Field("mode", "str", default="balanced", choices=tuple(MODES)),
    Field("strategy", "str", default="balanced", choices=("balanced", "precision", "breadth")),
    Field("include_static", "bool", default=True),
    Field("include_recent", "bool", default=True),
    Field(
        "include_episodes",
        "bool",
        default=False,
        help="Add the title and summary of the episodes the relevant memories belong to (within the budget).",
    ),
    Field("include_linked", "bool", default=False, help="Add memories linked to the relevant ones."),
    Field("include_preferences", "bool", default=False, help="Add the preference signals' memories."),
    Field("include_structured_facts", "bool", default=False, help="Add the current structured facts (GET /facts)."),
    Field("space_id", "int", min=1),
    description="Token-budgeted context for a prompt: static first, then relevant, then recent.",
)

TIMETRAVEL = Schema(
    *_SEARCH_FIELDS[:2],
    Field("at", "timestamp", aliases=("as_of", "timestamp"), help="Search as things stood then (default: now)."),
    *(f for f in _SEARCH_FIELDS[2:] if f.name not in {"include_forgotten", "latest_only", "include_links"}),
    description="Search the memories as they stood at a given time (versions, deletions, forgetting).",
)
