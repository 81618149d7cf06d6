"""Guardrails: ``POST /guard {action}`` -> ``{signal: allow|warn|block, rules, message}``.

A rule is one of the caller's visible memories that is static, important (importance >= 8) or stored
with category ``rule``, and that reads as a prohibition (``block``) or a caution (``warn``; see
``terms.rule_kind``; a ``rule`` memory with neither marker cautions). Each rule is matched against the
action two ways:

* keywords: the weighted share of the rule's key terms found in the action (``terms.coverage``: paths by
  prefix, flags, stems and synonyms), and
* meaning: the cosine between the action and the rule without its markers, when an embedding model is
  loaded.

A *strong* match (most of the rule's terms, or half of them with a close meaning) applies the rule's own
signal, unless the action names another value of a kind the rule names (another environment, the
opposite switch, a read-only look instead of the change: ``terms.conflicts``), which only warns; a *weak*
one (half the terms, a third with a close meaning, or a very close meaning with a term in common) only
warns: meaning alone never blocks. The answer is the strongest signal of all matched rules, and those
rules, best first. Thresholds were tuned on ``bench/guard_set.py`` (see BENCHMARKS.md).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..auth.context import AuthContext
from ..embeddings.manager import EmbeddingManager
from ..errors import EmbeddingDown
from ..model.memories import VISIBLE
from ..storage.database import Database
from ..timeutil import now_iso
from ..validation import Field, Schema
from .terms import conflicts, coverage, key_terms, rule_kind, rule_terms, strip_markers

__all__ = ["GUARD", "GuardService", "Thresholds", "judge"]

GUARD = Schema(
    Field("action", "text", required=True, max_len=20_000, aliases=("command",),
          help="The action an agent is about to take (a shell command, a tool call, a plan step)."),
    Field("limit", "int", default=5, min=1, max=50, help="Most matching rules returned."),
    description="Check an action against the caller's rules (static/important memories and category rule).",
)  # fmt: skip

RULE_CATEGORIES = ("rule", "rules", "guardrail", "guardrails")
MAX_RULES = 500
_SEVERITY = {"allow": 0, "warn": 1, "block": 2}


@dataclass(frozen=True)
class Thresholds:
    strong_terms: float = 0.75  # share of the rule's terms that alone makes a strong match
    most_terms: float = 0.6
    some_terms: float = 0.4
    close: float = 0.7  # cosine that, with most terms, makes a strong match
    near: float = 0.45  # cosine that, with most terms, makes a weak match
    related: float = 0.6  # cosine that, with some terms, makes a weak match
    very_close: float = 0.8  # cosine that, with one term in common, makes a strong match


@dataclass(frozen=True)
class Rule:
    id: int
    content: str
    importance: int
    kind: str  # block | warn


def judge(kind: str, terms: float, cosine: float | None, hits: int, t: Thresholds, *, conflict: bool = False) -> str:
    """The signal one rule gives an action: its own kind on a strong match, warn on a weak one, else allow.

    Meaning alone never makes a strong match (a close cosine with one word in common only warns: an
    embedding does not see negation or a changed object), and a ``conflict`` (the action names another
    environment, the opposite switch or a read-only look in place of a rule term, see ``terms.conflicts``)
    turns a strong match into a warning: a near miss is pointed out, not refused."""
    sem = cosine if cosine is not None else -1.0
    strong = terms >= t.strong_terms or (terms >= t.most_terms and sem >= t.close)
    if strong and not conflict:
        return kind
    weak = (
        strong
        or (terms >= t.most_terms and (cosine is None or sem >= t.near))
        or (terms >= t.some_terms and sem >= t.related)
        or bool(hits and sem >= t.very_close)
    )
    return "warn" if weak else "allow"


def _load_rules(conn: Any, user_id: int) -> list[Rule]:
    marks = ", ".join("?" for _ in RULE_CATEGORIES)
    rows = conn.execute(
        "SELECT m.id, m.content, m.importance, m.category FROM memories m WHERE m.user_id = ? AND "
        + VISIBLE.replace(":now", "?")
        + f" AND m.status = 'approved' AND (m.is_static = 1 OR m.importance >= 8 OR m.category IN ({marks}))"
        " ORDER BY m.importance DESC, m.id DESC LIMIT ?",
        (user_id, now_iso(), *RULE_CATEGORIES, MAX_RULES),
    )
    rules = []
    for r in rows:
        kind = rule_kind(r["content"]) or ("warn" if r["category"] in RULE_CATEGORIES else None)
        if kind is not None:
            rules.append(Rule(int(r["id"]), r["content"], int(r["importance"]), kind))
    return rules


class GuardService:
    """Rule checks for one authenticated caller at a time."""

    def __init__(self, db: Database, vectors: EmbeddingManager, thresholds: Thresholds | None = None) -> None:
        self.db = db
        self.vectors = vectors
        self.thresholds = thresholds or Thresholds()
        self._cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()  # (fingerprint, text) -> vector

    async def _vectors(self, texts: list[str]) -> list[np.ndarray] | None:
        """Unit vectors for ``texts`` (rule texts cached), or None without an embedding model."""
        if not self.vectors.enabled:
            return None
        fp = str(self.vectors.fingerprint)
        missing = [t for t in dict.fromkeys(texts) if (fp, t) not in self._cache]
        if missing:
            try:
                embedded = await self.vectors.embed(missing)
            except EmbeddingDown:  # the endpoint is down: the key terms alone judge the action
                return None
            if embedded is None:
                return None
            for text, vec in zip(missing, embedded, strict=True):
                self._cache[(fp, text)] = vec
                while len(self._cache) > 4 * MAX_RULES:
                    self._cache.popitem(last=False)
        return [self._cache[(fp, t)] for t in texts]

    async def check(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Judge ``body["action"]`` against the caller's rules (see the module docstring)."""
        auth.require("read")
        q = GUARD.parse(body)
        action = q["action"]
        rules = await self.db.aread(lambda conn: _load_rules(conn, auth.user_id))
        action_terms = key_terms(action)
        cosines: list[float | None] = [None] * len(rules)
        if rules:
            vecs = await self._vectors([action[:2000]] + [strip_markers(r.content) for r in rules])
            if vecs is not None:
                cosines = [float(np.dot(vecs[0], v)) for v in vecs[1:]]
        matched: list[dict[str, Any]] = []
        for rule, cos in zip(rules, cosines, strict=True):
            terms = rule_terms(rule.content)
            share, hits = coverage(terms, action_terms)
            clash = conflicts(terms, action_terms)
            signal = judge(rule.kind, share, cos, len(hits), self.thresholds, conflict=bool(clash))
            if signal == "allow":
                continue
            score = share if cos is None else 0.5 * share + 0.5 * max(0.0, cos)
            matched.append({"id": rule.id, "content": rule.content, "importance": rule.importance,
                            "signal": signal, "score": round(score, 4),
                            "semantic_score": None if cos is None else round(cos, 4),
                            "keyword_score": round(share, 4), "matched_terms": hits,
                            "conflicting_terms": [f"{a} (rule: {m})" for m, a in clash]})  # fmt: skip
        matched.sort(key=lambda m: (-_SEVERITY[m["signal"]], -m["score"], -m["importance"]))
        signal = matched[0]["signal"] if matched else "allow"
        return {"signal": signal, "action": action, "rules": matched[: q["limit"]],
                "message": _message(signal, matched), "rules_checked": len(rules)}  # fmt: skip


def _message(signal: str, matched: list[dict[str, Any]]) -> str:
    if signal == "allow":
        return "No stored rule matches this action."
    top = matched[0]
    verb = "Blocked" if signal == "block" else "Caution"
    more = f" (+{len(matched) - 1} more)" if len(matched) > 1 else ""
    return f"{verb} by rule #{top['id']}: {top['content']}{more}"
