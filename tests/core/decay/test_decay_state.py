"""FsrsState immutability and its SQL row mapping."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from engram_core.decay import FsrsState, LearningState, initial_state, review
from engram_core.errors import Invalid

T0 = datetime(2026, 1, 1, 8, 0, 0, 123456, tzinfo=UTC)
COLUMNS = {
    "fsrs_stability",
    "fsrs_difficulty",
    "fsrs_state",
    "fsrs_reps",
    "fsrs_lapses",
    "fsrs_last_review",
    "storage_strength",
    "retrieval_strength",
}


def _state() -> FsrsState:
    return review(review(initial_state(T0, 3), 1, T0 + timedelta(days=4)), 3, T0 + timedelta(days=6))


def test_state_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _state().stability = 3.0  # type: ignore[misc]


def test_to_row_is_sql_friendly() -> None:
    row = _state().to_row()
    assert set(row) == COLUMNS
    assert row["fsrs_state"] == "review"
    assert row["fsrs_last_review"] == "2026-01-07T08:00:00.123456Z"
    assert all(isinstance(v, (int, float, str)) for v in row.values())


def test_row_round_trip() -> None:
    state = _state()
    assert FsrsState.from_row(state.to_row()) == state


def test_round_trip_through_sqlite() -> None:
    state = _state()
    con = sqlite3.connect(":memory:")
    con.row_factory = sqlite3.Row
    con.execute(
        "CREATE TABLE m (fsrs_stability REAL, fsrs_difficulty REAL, fsrs_state TEXT, fsrs_reps INTEGER,"
        " fsrs_lapses INTEGER, fsrs_last_review TEXT, storage_strength REAL, retrieval_strength REAL)"
    )
    con.execute("INSERT INTO m VALUES (:" + ", :".join(sorted(COLUMNS, key=list(state.to_row()).index)) + ")",
                state.to_row())  # fmt: skip
    row = con.execute("SELECT * FROM m").fetchone()
    assert FsrsState.from_row(row) == state
    con.close()


def test_non_utc_times_are_normalised() -> None:
    plus2 = timezone(timedelta(hours=2))
    state = initial_state(datetime(2026, 1, 1, 10, 0, tzinfo=plus2))
    assert state.last_review_at == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    assert state.last_review_at.tzinfo is UTC
    naive = initial_state(datetime(2026, 1, 1, 8, 0))
    assert naive.last_review_at == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("raw", "expected"), [(1, "learning"), (2, "review"), (3, "relearning"),
                                               ("Relearning", "relearning")])  # fmt: skip
def test_from_row_accepts_pyfsrs_state_numbers(raw: Any, expected: str) -> None:
    row = _state().to_row() | {"fsrs_state": raw}
    assert FsrsState.from_row(row).learning_state is LearningState(expected)


def test_from_row_accepts_other_timestamp_forms() -> None:
    base = _state().to_row()
    for value in ("2026-01-07T08:00:00.123456+00:00", "2026-01-07T10:00:00.123456+02:00",
                  datetime(2026, 1, 7, 8, 0, 0, 123456, tzinfo=UTC)):  # fmt: skip
        assert FsrsState.from_row(base | {"fsrs_last_review": value}) == _state()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("fsrs_state", "new"),
        ("fsrs_state", 7),
        ("fsrs_last_review", "yesterday"),
        ("fsrs_stability", None),
        ("fsrs_stability", 0.0),
        ("fsrs_reps", "many"),
        ("fsrs_lapses", -1),
    ],
)
def test_from_row_rejects_bad_values(column: str, value: Any) -> None:
    with pytest.raises(Invalid):
        FsrsState.from_row(_state().to_row() | {column: value})


def test_from_row_rejects_missing_columns() -> None:
    row = _state().to_row()
    del row["storage_strength"]
    with pytest.raises(Invalid) as info:
        FsrsState.from_row(row)
    assert info.value.field == "storage_strength"
