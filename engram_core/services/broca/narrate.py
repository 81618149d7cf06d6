"""Readable sentences for logged actions, and a question answered by searching the log (no LLM)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["answer", "narrate", "score"]

_WORD = re.compile(r"[\w.-]+", re.UNICODE)
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "did",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "by",
        "at",
        "me",
        "my",
        "our",
        "any",
        "all",
        "last",
        "latest",
        "recent",
        "recently",
        "ever",
    ]
)


def narrate(agent: str, action: str, target: str, outcome: str, service: str) -> str:
    """``builder deploy api-server (via ci): succeeded.`` from the parts an agent logged."""
    words = action.replace("_", " ").replace(".", " ").strip() or "acted"
    text = f"{agent} {words}"
    if target:
        text += f" {target}"
    if service and service not in {"engram", ""}:
        text += f" (via {service})"
    if outcome:
        text += f": {outcome}"
    return text.rstrip(".") + "."


def terms(question: str) -> list[str]:
    return [
        w for w in (m.group(0).lower().strip(".-") for m in _WORD.finditer(question)) if len(w) > 1 and w not in _STOP
    ]


def score(row: Any, wanted: list[str]) -> float:
    """How well one action matches the question's terms (agent and action names weigh most)."""
    hay = " ".join(str(row[k]) for k in ("agent", "action", "target", "outcome", "narrative", "service")).lower()
    names = {str(row["agent"]).lower(), str(row["action"]).lower()}
    total = 0.0
    for term in wanted:
        if term in names:
            total += 3.0
        elif term in hay:
            total += 1.0
    return total


def answer(question: str, rows: list[Any], limit: int) -> tuple[str, list[tuple[float, Any]]]:
    wanted = terms(question)
    ranked = sorted(((score(r, wanted), r) for r in rows), key=lambda x: (-x[0], -x[1]["id"]))
    hits = [(s, r) for s, r in ranked if s > 0][:limit]
    if not wanted:
        return "The question has no words to search the action log for.", []
    if not hits:
        return f"No logged action matches {', '.join(wanted)}.", []
    lines = [f"{r['created_at'][:19].replace('T', ' ')}: {r['narrative']}" for _, r in hits]
    head = f"{len(hits)} logged action{'s' if len(hits) != 1 else ''} match{'es' if len(hits) == 1 else ''}"
    return head + " (newest first among equals):\n" + "\n".join(lines), hits
