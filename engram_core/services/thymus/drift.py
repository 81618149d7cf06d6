"""thymus drift events (an agent straying from its priorities, framework, manner, meaning, safety or
structure, with a severity) and per-session quality (turns, rules followed and drifted, compliance rate,
personality score): schemas and the in-transaction writes, shared by the routes and ``POST /activity``."""

from __future__ import annotations

from typing import Any

from ...timeutil import now_iso
from ...validation import Field, Schema
from ..common import json_dump, row_dict
from ..soma.service import flag_drift_tx

__all__ = [
    "DRIFT_EVENT",
    "DRIFT_EVENTS",
    "DRIFT_SUMMARY",
    "DRIFT_TYPES",
    "SESSION_QUALITY",
    "SESSION_QUALITY_LIST",
    "SEVERITIES",
    "drift_tx",
    "session_dict",
    "session_tx",
]

DRIFT_TYPES = ("priority", "framework", "interaction", "meaning", "safety", "structural")
SEVERITIES = ("low", "medium", "high", "critical")

DRIFT_EVENT = Schema(
    Field("agent", "text", required=True, max_len=200),
    Field("signal", "text", required=True, max_len=4000, help="What was seen (the evidence of the drift)."),
    Field("drift_type", "str", required=True, choices=DRIFT_TYPES),
    Field("severity", "str", default="low", choices=SEVERITIES),
    Field("session_id", "str", max_len=200),
    description="Record a drift event (published as drift.detected on the quality channel).",
)
DRIFT_EVENTS = Schema(
    Field("agent", "str", max_len=200),
    Field("drift_type", "str", choices=DRIFT_TYPES),
    Field("severity", "str", choices=SEVERITIES),
    Field("session_id", "str", max_len=200),
    Field("limit", "int", default=100, min=1, max=1000),
)
DRIFT_SUMMARY = Schema(Field("agent", "str", max_len=200), Field("since", "timestamp"))
SESSION_QUALITY = Schema(
    Field("session_id", "text", required=True, max_len=200),
    Field("agent", "text", required=True, max_len=200),
    Field("turn_count", "int", min=0, max=10_000_000),
    Field("rules_followed", "str_list", default=[], max_items=200),
    Field("rules_drifted", "str_list", default=[], max_items=200),
    Field("personality_score", "float", min=0, max=1),
    Field("rule_compliance_rate", "float", min=0, max=1, help="Omitted: followed / (followed + drifted)."),
    description="Record one session's quality (published as session.quality on the quality channel).",
)
SESSION_QUALITY_LIST = Schema(
    Field("agent", "str", max_len=200),
    Field("session_id", "str", max_len=200),
    Field("limit", "int", default=100, min=1, max=1000),
)


def drift_tx(conn: Any, user_id: int, q: dict[str, Any]) -> dict[str, Any]:
    """Record a drift event; the caller's soma agent of that name (if registered) gets the drift type as
    its most recent drift flag, in the same transaction."""
    cur = conn.execute(
        "INSERT INTO thymus_drift_events (user_id, agent, session_id, signal, drift_type, severity, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, q["agent"], q["session_id"] or None, q["signal"], q["drift_type"], q["severity"], now_iso()),
    )
    flag_drift_tx(conn, user_id, q["agent"], q["drift_type"])
    return dict(conn.execute("SELECT * FROM thymus_drift_events WHERE id = ?", (cur.lastrowid,)).fetchone())


def session_tx(conn: Any, user_id: int, q: dict[str, Any]) -> dict[str, Any]:
    followed, drifted = q["rules_followed"] or [], q["rules_drifted"] or []
    rate = q["rule_compliance_rate"]
    if rate is None and (followed or drifted):
        rate = round(len(followed) / (len(followed) + len(drifted)), 6)
    cur = conn.execute(
        "INSERT INTO thymus_session_quality (user_id, session_id, agent, turn_count, rules_followed, rules_drifted,"
        " personality_score, rule_compliance_rate, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, q["session_id"], q["agent"], q["turn_count"], json_dump(followed), json_dump(drifted),
         q["personality_score"], rate, now_iso()),
    )  # fmt: skip
    row = conn.execute("SELECT * FROM thymus_session_quality WHERE id = ?", (cur.lastrowid,)).fetchone()
    return session_dict(row)


def session_dict(r: Any) -> dict[str, Any]:
    return row_dict(r, ("rules_followed", "rules_drifted"))
