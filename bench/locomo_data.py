"""Load the LoCoMo dev split from ``/work/shared/bench-data`` (never copied into this repository).

Each turn becomes one memory ``"Speaker: text"`` with the session's date as ``created_at`` (UTC ISO,
parsed from "1:56 pm on 8 May, 2023"). A shared photo's ``blip_caption`` is left out: the turn text is
what a memory server would receive. Questions of category 5 (adversarial, no answer) are not scored
for recall; they are kept apart in :attr:`Locomo.adversarial` to measure abstention.

Evidence repairs (each counted in :attr:`Locomo.repairs`):

* ``split``: several ids in one string ("D8:6; D9:17", also commas/spaces) are split into separate ids.
* ``colon``: a stray colon after the "D" ("D:11:26") is removed, giving "D11:26".
* ``unknown``: an id that is still malformed ("D") or names no turn of its conversation ("D10:19" in a
  session that has fewer turns) is dropped.
* ``no_evidence``: a question left with no evidence at all is skipped (it cannot be scored).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_PATH",
    "Locomo",
    "Question",
    "Turn",
    "load_locomo",
    "parse_session_datetime",
    "repair_evidence",
]

DEFAULT_PATH = Path("/work/shared/bench-data/locomo-dev.json")
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
_ID = re.compile(r"D\d+:\d+")
_SESSION = re.compile(r"session_(\d+)")


@dataclass(frozen=True)
class Turn:
    """One dialogue turn: ``key`` is unique over the whole file (sample id + dia id)."""

    sample_id: str
    dia_id: str
    text: str
    created_at: str

    @property
    def key(self) -> str:
        return f"{self.sample_id}/{self.dia_id}"


@dataclass(frozen=True)
class Question:
    """A scored question and the dia ids of its evidence turns."""

    sample_id: str
    question: str
    answer: str
    category: int
    evidence: tuple[str, ...]

    @property
    def evidence_keys(self) -> set[str]:
        return {f"{self.sample_id}/{e}" for e in self.evidence}


@dataclass
class Locomo:
    """Turns per conversation, scored questions, and how many evidence ids needed repair."""

    turns: dict[str, list[Turn]] = field(default_factory=dict)
    questions: list[Question] = field(default_factory=list)
    adversarial: list[Question] = field(default_factory=list)
    """Category 5 questions (no answer in the conversation): used to measure abstention, never recall."""
    repairs: Counter[str] = field(default_factory=Counter)


def parse_session_datetime(text: str) -> str:
    """ "1:56 pm on 8 May, 2023" -> "2023-05-08T13:56:00+00:00" (the dataset has no zone: taken as UTC)."""
    moment = datetime.strptime(" ".join(text.split()), "%I:%M %p on %d %B, %Y")
    return moment.replace(tzinfo=UTC).isoformat()


def repair_evidence(raw: str, known: set[str], repairs: Counter[str]) -> list[str]:
    """The valid evidence ids in one raw evidence string, counting each repair in ``repairs``."""
    parts = [p for p in re.split(r"[;,\s]+", raw.strip()) if p]
    if len(parts) > 1:
        repairs["split"] += 1
    out: list[str] = []
    for part in parts:
        if re.fullmatch(r"D:\d+:\d+", part):
            part = "D" + part[2:]
            repairs["colon"] += 1
        if _ID.fullmatch(part) and part in known:
            out.append(part)
        else:
            repairs["unknown"] += 1
    return out


def load_locomo(path: Path | str = DEFAULT_PATH) -> Locomo:
    """Read the LoCoMo JSON file into turns and scored questions (see the module docstring)."""
    samples: list[dict[str, Any]] = json.loads(Path(path).read_text(encoding="utf-8"))
    data = Locomo()
    for sample in samples:
        sid = sample["sample_id"]
        conv = sample["conversation"]
        turns: list[Turn] = []
        for key in sorted((k for k in conv if _SESSION.fullmatch(k)), key=lambda k: int(k.split("_")[1])):
            when = parse_session_datetime(conv[f"{key}_date_time"])
            for turn in conv[key]:
                turns.append(Turn(sid, turn["dia_id"], f"{turn['speaker']}: {turn['text']}", when))
        data.turns[sid] = turns
        known = {t.dia_id for t in turns}
        for qa in sample["qa"]:
            if qa["category"] == 5:
                data.adversarial.append(Question(sid, qa["question"], "", 5, ()))
                continue
            evidence: list[str] = []
            for raw in qa.get("evidence", []):
                for e in repair_evidence(raw, known, data.repairs):
                    if e not in evidence:
                        evidence.append(e)
            if not evidence:
                data.repairs["no_evidence"] += 1
                continue
            data.questions.append(
                Question(sid, qa["question"], str(qa.get("answer", "")), qa["category"], tuple(evidence))
            )
    return data
