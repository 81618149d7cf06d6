"""Input schema of POST /search."""

from __future__ import annotations

from ..validation import Field, Schema

__all__ = ["SEARCH"]

SEARCH = Schema(
    Field("query", "text", required=True, max_len=10_000),
    Field("limit", "int", default=10, min=1, max=100),
    Field("category", "str", max_len=100),
    Field("source", "str", max_len=200),
    Field("tags", "tags", max_items=20),
    Field("threshold", "float", min=0.0, max=1.0),
    Field("space_id", "int", min=1),
    Field("include_forgotten", "bool", default=False),
    Field("include_archived", "bool", default=False),
    Field("question_type", "str", choices=("fact_recall", "preference", "reasoning", "generalization", "temporal")),
    Field("include_links", "bool", default=False),
    Field("latest_only", "bool", default=True),
    description="Search the caller's memories.",
)
