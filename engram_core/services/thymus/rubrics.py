"""Rubric criteria and scoring: overall = Σ weight·(score−min)/(max−min) / Σ weight."""

from __future__ import annotations

import math
from typing import Any

from ...errors import Invalid
from ...validation import Field, Schema

__all__ = [
    "EVALUATE",
    "EVALUATIONS",
    "METRIC",
    "METRICS",
    "RUBRIC",
    "RUBRIC_UPDATE",
    "SUMMARY",
    "check_criteria",
    "overall",
]

_CRITERIA_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": 50,
    "items": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 50, "pattern": "^[A-Za-z0-9_. -]*[A-Za-z0-9]$"},
            "weight": {"type": "number", "minimum": 0.001, "maximum": 1000},
            "scale_min": {"type": "number", "minimum": -1000000, "maximum": 0},
            "scale_max": {"type": "number", "minimum": 1, "maximum": 1000000},
            "description": {"type": "string", "maxLength": 1000},
        },
    },
}


def _num(raw: dict[str, Any], key: str, default: float, where: str) -> float:
    value = raw.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid(f"{where}.{key}", "must be a finite number")
    return float(value)


def check_criteria(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise Invalid("criteria", "must be a non-empty list of criteria")
    if len(value) > 50:
        raise Invalid("criteria", "must have at most 50 criteria")
    out: list[dict[str, Any]] = []
    for i, raw in enumerate(value):
        where = f"criteria[{i}]"
        if not isinstance(raw, dict):
            raise Invalid(where, "must be an object")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200 or "\x00" in name:
            raise Invalid(f"{where}.name", "must be a non-empty string of at most 200 characters")
        weight = _num(raw, "weight", 1.0, where)
        lo, hi = _num(raw, "scale_min", 0.0, where), _num(raw, "scale_max", 1.0, where)
        if weight <= 0:
            raise Invalid(f"{where}.weight", "must be greater than 0")
        if hi <= lo:
            raise Invalid(f"{where}.scale_max", "must be greater than scale_min")
        desc = raw.get("description") or ""
        if not isinstance(desc, str):
            raise Invalid(f"{where}.description", "must be a string")
        out.append({"name": name.strip(), "weight": weight, "scale_min": lo, "scale_max": hi, "description": desc})
    if len({c["name"] for c in out}) != len(out):
        raise Invalid("criteria", "criterion names must be unique")
    return out


def overall(criteria: list[dict[str, Any]], scores: Any) -> tuple[dict[str, float], float]:
    """The scores kept (one per criterion, in range) and the weighted overall in [0, 1]."""
    if not isinstance(scores, dict):
        raise Invalid("scores", "must be an object of criterion name to number")
    kept: dict[str, float] = {}
    total = weights = 0.0
    for c in criteria:
        value = scores.get(c["name"])
        field = f"scores.{c['name']}"
        if value is None:
            raise Invalid(field, "is required (one score per criterion of the rubric)")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise Invalid(field, "must be a number on the scale of the rubric")
        if not c["scale_min"] <= value <= c["scale_max"]:
            raise Invalid(field, f"must be from {c['scale_min']:g} to {c['scale_max']:g} (the scale of the rubric)")
        kept[c["name"]] = float(value)
        total += c["weight"] * (value - c["scale_min"]) / (c["scale_max"] - c["scale_min"])
        weights += c["weight"]
    return kept, round(total / weights, 6)


RUBRIC = Schema(
    Field("name", "text", required=True, max_len=200),
    Field("description", "str", default="", max_len=4000),
    Field("criteria", "any", required=True, check=check_criteria, schema=_CRITERIA_SCHEMA),
    description="A rubric: weighted criteria, each scored on its own scale (default 0..1).",
)
RUBRIC_UPDATE = Schema(
    Field("name", "text", max_len=200),
    Field("description", "str", max_len=4000),
    Field("criteria", "any", check=check_criteria, schema=_CRITERIA_SCHEMA),
    description="Change a rubric (evaluations already made keep their scores).",
)
EVALUATE = Schema(
    Field("rubric_id", "int", required=True, min=1),
    Field("agent", "text", required=True, max_len=200),
    Field("subject", "text", required=True, max_len=2000),
    Field("scores", "object", help="Criterion name -> score. Omitted: the configured LLM scores (evaluator llm)."),
    Field("evaluator", "text", default="agent", max_len=200),
    Field("input", "object"),
    Field("output", "object"),
    Field("notes", "str", default="", max_len=10000),
    description="Score a subject against a rubric.",
)
EVALUATIONS = Schema(
    Field("agent", "str", max_len=200),
    Field("rubric_id", "int", min=1),
    Field("limit", "int", default=100, min=1, max=1000),
)
METRIC = Schema(
    Field("agent", "text", required=True, max_len=200),
    Field("metric", "text", required=True, max_len=200),
    Field("value", "float", required=True),
    Field("tags", "object"),
    description="Record one metric value.",
)
METRICS = Schema(
    Field("agent", "str", max_len=200),
    Field("metric", "str", max_len=200),
    Field("since", "timestamp"),
    Field("limit", "int", default=100, min=1, max=1000),
)
SUMMARY = Schema(
    Field("agent", "str", max_len=200),
    Field("metric", "str", max_len=200),
    Field("since", "timestamp"),
    Field("bucket", "str", default="day", choices=("day", "hour", "week", "none"), help="Series granularity."),
)
