"""Time windows named by queries, against a fixed now, and the proximity multiplier."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from engram_core.search.temporal import TimeWindow, find_window, parse_timestamp, proximity_boost

NOW = datetime(2024, 3, 13, 15, 30, tzinfo=UTC)  # a Wednesday


def d(y: int, m: int, day: int, h: float = 0) -> datetime:
    return datetime(y, m, day, tzinfo=UTC) + timedelta(hours=h)


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("what happened on 2023-05-07?", d(2023, 5, 7), d(2023, 5, 8)),
        ("the meeting on May 7, 2023", d(2023, 5, 7), d(2023, 5, 8)),
        ("the meeting on May 7th 2023", d(2023, 5, 7), d(2023, 5, 8)),
        ("on 7 May 2023 we met", d(2023, 5, 7), d(2023, 5, 8)),
        ("the 7th of May, 2023", d(2023, 5, 7), d(2023, 5, 8)),
        ("8 Sept 2022", d(2022, 9, 8), d(2022, 9, 9)),
        ("what did I do in May 2023", d(2023, 5, 1), d(2023, 6, 1)),
        ("December 2023 plans", d(2023, 12, 1), d(2024, 1, 1)),
        ("yesterday", d(2024, 3, 12), d(2024, 3, 13)),
        ("what did we decide today", d(2024, 3, 13), d(2024, 3, 14)),
        ("last week", d(2024, 3, 4), d(2024, 3, 11)),
        ("this week", d(2024, 3, 11), d(2024, 3, 18)),
        ("last month", d(2024, 2, 1), d(2024, 3, 1)),
        ("last year", d(2023, 1, 1), d(2024, 1, 1)),
        ("what was the plan in 2022", d(2022, 1, 1), d(2023, 1, 1)),
        ("3 days ago", d(2024, 3, 10), d(2024, 3, 11)),
        ("three days ago", d(2024, 3, 10), d(2024, 3, 11)),
        ("a day ago", d(2024, 3, 12), d(2024, 3, 13)),
        ("two weeks ago", NOW - timedelta(days=17.5), NOW - timedelta(days=10.5)),
    ],
)
def test_windows(query: str, start: datetime, end: datetime) -> None:
    w = find_window(query, NOW)
    assert w is not None
    assert (w.start, w.end) == (start, end)


def test_last_month_in_january_wraps_year() -> None:
    w = find_window("last month", datetime(2024, 1, 5, tzinfo=UTC))
    assert w is not None and (w.start, w.end) == (d(2023, 12, 1), d(2024, 1, 1))


def test_explicit_date_beats_relative() -> None:
    w = find_window("yesterday I said 2023-05-07", NOW)
    assert w is not None and w.start == d(2023, 5, 7)


@pytest.mark.parametrize(
    "query", ["", "what is my name", "May I ask something", "2023-02-30", "I have 2000 dollars", "99 ago"]
)
def test_no_window(query: str) -> None:
    assert find_window(query, NOW) is None


@pytest.mark.parametrize(
    ("query", "timeline", "start"),
    [
        ("When did she go camping in June?", d(2023, 10, 20), d(2023, 6, 1)),  # an imported history's June
        ("When did she go camping in June?", d(2023, 5, 20), d(2022, 6, 1)),  # not after the timeline's end
        ("plans for mid-July", None, d(2023, 7, 1)),  # no timeline: the wall clock's latest July
        ("what happened during December", d(2023, 12, 3), d(2023, 12, 1)),
    ],
)
def test_month_without_year_on_the_users_timeline(query: str, timeline: datetime | None, start: datetime) -> None:
    window = find_window(query, NOW, timeline)
    assert window is not None and window.start == start and 28 <= window.days <= 31


def test_month_words_that_are_not_months() -> None:
    assert find_window("in may I ask what you did", NOW, d(2023, 10, 1)) is None
    # a month with a day or a year is the dated patterns' (and never resolved on the timeline)
    window = find_window("in June 3, 2021", NOW, d(2023, 10, 1))
    assert window is not None and window.start == d(2021, 6, 3)


def test_naive_now_is_utc() -> None:
    w = find_window("today", datetime(2024, 3, 13, 23, 0))
    assert w is not None and w.start == d(2024, 3, 13)


def test_huge_numbers_do_not_crash() -> None:
    assert find_window("999 years ago", NOW) is not None
    assert find_window("May 9999", NOW) is not None


def test_proximity_boost() -> None:
    w = TimeWindow(d(2023, 5, 7), d(2023, 5, 8), "x")
    assert proximity_boost(d(2023, 5, 7, 12), None) == 1.0
    assert proximity_boost(None, w) == 1.0
    assert proximity_boost("not a date", w) == 1.0
    assert proximity_boost(d(2023, 5, 7, 12), w) == 1.5
    # One day after the end, half-life 1 day (window is one day wide): 1 + 0.5 * 0.5
    assert math.isclose(proximity_boost(d(2023, 5, 9), w), 1.25)
    assert math.isclose(proximity_boost("2023-05-05T00:00:00Z", w), 1.125)
    assert 1.0 <= proximity_boost(d(2020, 1, 1), w) < 1.0001
    # Wider windows decay slower: half-life = half the width.
    month = TimeWindow(d(2023, 5, 1), d(2023, 5, 31), "x")
    assert math.isclose(proximity_boost(d(2023, 6, 15), month), 1 + 0.5 * 0.5 ** (15 / 15))


def test_parse_timestamp() -> None:
    assert parse_timestamp("2023-05-07T10:00:00") == d(2023, 5, 7, 10)
    assert parse_timestamp("2023-05-07T12:00:00+02:00") == d(2023, 5, 7, 10)
    assert parse_timestamp("") is None
