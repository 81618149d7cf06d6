"""The FSRS state of one memory: an immutable value and its mapping to SQL-friendly columns.

Columns written by ``FsrsState.to_row`` (and read by ``FsrsState.from_row``):

========================  ========  ===============================================================
column                    type      meaning
========================  ========  ===============================================================
``fsrs_stability``        REAL      S in days: the time for retrievability to fall from 1 to 0.9
``fsrs_difficulty``       REAL      D in [1, 10]
``fsrs_state``            TEXT      ``learning``, ``review`` or ``relearning``
``fsrs_reps``             INTEGER   number of reviews, the first (at store time) included
``fsrs_lapses``           INTEGER   number of Again grades given in the review state
``fsrs_last_review``      TEXT      UTC ISO-8601, ``2026-01-02T03:04:05.000000Z`` (fixed width)
``storage_strength``      REAL      dual-strength storage strength: grows with every review, never decays
``retrieval_strength``    REAL      retrievability when the row was last written (1.0 right after a review)
========================  ========  ===============================================================
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, IntEnum
from typing import Any

from ..errors import Invalid
from ..timeutil import format_ts, parse_datetime, to_utc

RowLike = Mapping[str, Any] | sqlite3.Row

__all__ = ["FsrsState", "Grade", "LearningState", "RowLike"]


class Grade(IntEnum):
    """Review grades (same numbering as FSRS and ``fsrs.Rating``)."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


class LearningState(Enum):
    """Learning state of a memory; the values are what ``fsrs_state`` holds."""

    LEARNING = "learning"
    REVIEW = "review"
    RELEARNING = "relearning"


# py-fsrs numbers its states 1, 2, 3: accept those in rows too.
_STATE_NUMBERS = {1: LearningState.LEARNING, 2: LearningState.REVIEW, 3: LearningState.RELEARNING}


@dataclass(frozen=True, slots=True)
class FsrsState:
    """FSRS-6 memory state plus the dual-strength (storage / retrieval) pair. Immutable.

    ``retrieval_strength`` is a snapshot taken when the state was made or refreshed; the live value is
    ``retrievability(state, now)`` (see ``engram_core.decay.review``).
    """

    stability: float
    difficulty: float
    learning_state: LearningState
    reps: int
    lapses: int
    last_review_at: datetime
    storage_strength: float
    retrieval_strength: float

    def __post_init__(self) -> None:
        if not self.stability > 0:
            raise Invalid("fsrs_stability", "must be positive")
        if self.reps < 0 or self.lapses < 0:
            raise Invalid("fsrs_reps", "reps and lapses must not be negative")
        object.__setattr__(self, "last_review_at", to_utc(self.last_review_at))

    def to_row(self) -> dict[str, Any]:
        """The state as SQL column values (see the module docstring for the columns)."""
        return {
            "fsrs_stability": float(self.stability),
            "fsrs_difficulty": float(self.difficulty),
            "fsrs_state": self.learning_state.value,
            "fsrs_reps": int(self.reps),
            "fsrs_lapses": int(self.lapses),
            "fsrs_last_review": format_ts(self.last_review_at),
            "storage_strength": float(self.storage_strength),
            "retrieval_strength": float(self.retrieval_strength),
        }

    @classmethod
    def from_row(cls, row: RowLike) -> FsrsState:
        """Read a state from a mapping with the ``to_row`` columns (e.g. a ``sqlite3.Row``).

        ``fsrs_state`` may be the text value or py-fsrs's number (1, 2, 3); ``fsrs_last_review`` a
        string or a datetime. Missing or unreadable values raise ``Invalid`` naming the column.
        """
        values = {key: _column(row, key) for key in _COLUMNS}
        raw_state = values["fsrs_state"]
        try:
            if isinstance(raw_state, int):
                learning_state = _STATE_NUMBERS[raw_state]
            else:
                learning_state = LearningState(str(raw_state).strip().lower())
        except (KeyError, ValueError):
            raise Invalid("fsrs_state", f"unknown learning state {raw_state!r}") from None
        raw_time = values["fsrs_last_review"]
        last = to_utc(raw_time) if isinstance(raw_time, datetime) else parse_datetime(str(raw_time), "fsrs_last_review")
        try:
            return cls(
                stability=float(values["fsrs_stability"]),
                difficulty=float(values["fsrs_difficulty"]),
                learning_state=learning_state,
                reps=int(values["fsrs_reps"]),
                lapses=int(values["fsrs_lapses"]),
                last_review_at=last,
                storage_strength=float(values["storage_strength"]),
                retrieval_strength=float(values["retrieval_strength"]),
            )
        except (TypeError, ValueError) as exc:
            raise Invalid("fsrs", f"unreadable FSRS columns: {exc}") from None


_COLUMNS = (
    "fsrs_stability",
    "fsrs_difficulty",
    "fsrs_state",
    "fsrs_reps",
    "fsrs_lapses",
    "fsrs_last_review",
    "storage_strength",
    "retrieval_strength",
)


def _column(row: RowLike, key: str) -> Any:
    try:
        value = row[key]
    except (KeyError, IndexError):
        raise Invalid(key, "missing") from None
    if value is None:
        raise Invalid(key, "missing")
    return value
