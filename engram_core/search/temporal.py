"""Find the time a query refers to, and boost memories created near it.

:func:`find_window` recognises, relative to a given ``now`` (UTC):

=================================  ==============================================================
query text                         window (start inclusive, end exclusive, UTC)
=================================  ==============================================================
``2023-05-07``                     that day
``May 7, 2023`` / ``7 May 2023``   that day (also ``May 7th 2023``, ``7th of May, 2023``, ``Sept``)
``May 2023``                       that calendar month
``in 2022`` (in/during/of/year)    that calendar year
``in June`` (in/during/since/early/ that month in the latest year where it is not after ``timeline``
late/mid/last + a month, no year)  (the user's newest memory: an imported history's June is its own)
``today`` / ``yesterday``          that day
``this/last week``                 the calendar week (Monday to Sunday) containing now / before it
``this/last month``                the calendar month containing now / before it
``this/last year``                 the calendar year containing now / before it
``3 days ago`` / ``two weeks ago`` one unit wide: the day itself for days; for weeks, months and
                                   years a window of one unit centred on ``now - N units``
=================================  ==============================================================

Numbers may be digits, words up to twelve, ``a``/``an`` (1), ``a couple of`` (2) or ``a few`` (3).
When a query names several times, the most specific pattern wins (explicit dates before relative ones).

:func:`proximity_boost` turns a window into a score multiplier: ``1 + B`` inside the window, decaying
by half every ``half_life`` days outside it, never below 1.0 (memories far from the window are not
penalised, only not favoured). ``B`` defaults to 0.5 and the half-life to half the window's width,
at least one day.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

__all__ = ["MONTHS", "TimeWindow", "find_window", "parse_timestamp", "proximity_boost"]

MONTHS: dict[str, int] = {  # month names and abbreviations -> 1..12 (the facts rules read it too)
    name: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}
_MONTH_RX = "|".join(sorted(MONTHS, key=len, reverse=True))
_MONTH_CAPS = "|".join(sorted((m.capitalize() for m in MONTHS), key=len, reverse=True))  # "in may I" is no month
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a couple of": 2,
    "a few": 3,
}
_NUMBER_RX = r"\d{1,3}|a couple of|a few|" + "|".join(w for w in _NUMBER_WORDS if " " not in w)
_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 30.44, "year": 365.25}


@dataclass(frozen=True)
class TimeWindow:
    """A half-open UTC interval ``[start, end)`` and the query text that named it."""

    start: datetime
    end: datetime
    matched: str

    @property
    def days(self) -> float:
        """Width of the window in days."""
        return (self.end - self.start).total_seconds() / 86400.0

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _day(d: date) -> datetime:
    return datetime.combine(d, time(), tzinfo=UTC)


def _month_start(year: int, month: int) -> datetime:
    # Months before year 1 or after 9999 cannot be represented; clamp instead of failing on odd input.
    year = min(max(year, 1), 9999)
    return datetime(year, month, 1, tzinfo=UTC)


def _next_month(start: datetime) -> datetime:
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1) if start.year < 9999 else start + timedelta(31)
    return start.replace(month=start.month + 1)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _one_day(d: date | None, text: str) -> TimeWindow | None:
    if d is None:
        return None
    start = _day(d)
    return TimeWindow(start, start + timedelta(days=1), text)


_Handler = Callable[[re.Match[str], datetime], "TimeWindow | None"]


def _iso(m: re.Match[str], now: datetime) -> TimeWindow | None:
    return _one_day(_safe_date(int(m["y"]), int(m["m"]), int(m["d"])), m.group())


def _month_day_year(m: re.Match[str], now: datetime) -> TimeWindow | None:
    return _one_day(_safe_date(int(m["y"]), MONTHS[m["mon"].lower()], int(m["d"])), m.group())


def _month_year(m: re.Match[str], now: datetime) -> TimeWindow | None:
    start = _month_start(int(m["y"]), MONTHS[m["mon"].lower()])
    return TimeWindow(start, _next_month(start), m.group())


def _month_only(m: re.Match[str], timeline: datetime) -> TimeWindow:
    month = MONTHS[m["mon"].lower()]
    year = timeline.year if month <= timeline.month else timeline.year - 1
    start = _month_start(year, month)
    return TimeWindow(start, _next_month(start), m.group())


def _year(m: re.Match[str], now: datetime) -> TimeWindow:
    y = int(m["y"])
    return TimeWindow(_month_start(y, 1), _month_start(y + 1, 1), m.group())


def _ago(m: re.Match[str], now: datetime) -> TimeWindow | None:
    raw = m["n"].lower()
    n = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
    unit = m["unit"].lower()
    try:
        centre = now - timedelta(days=n * _UNIT_DAYS[unit])
    except OverflowError:
        return None
    if unit == "day":
        return _one_day(centre.date(), m.group())
    half = timedelta(days=_UNIT_DAYS[unit] / 2)
    return TimeWindow(centre - half, centre + half, m.group())


def _named_day(m: re.Match[str], now: datetime) -> TimeWindow | None:
    offset = {"today": 0, "tonight": 0, "yesterday": 1}[m["w"].lower()]
    return _one_day(now.date() - timedelta(days=offset), m.group())


def _period(m: re.Match[str], now: datetime) -> TimeWindow:
    last = m["which"].lower() in {"last", "previous", "past"}
    unit = m["unit"].lower()
    today = now.date()
    if unit == "week":
        start = _day(today - timedelta(days=today.weekday()))
        if last:
            start -= timedelta(days=7)
        return TimeWindow(start, start + timedelta(days=7), m.group())
    if unit == "month":
        start = _month_start(now.year, now.month)
        if last:
            start = _month_start(now.year - 1, 12) if now.month == 1 else start.replace(month=now.month - 1)
        return TimeWindow(start, _next_month(start), m.group())
    year = now.year - 1 if last else now.year
    return TimeWindow(_month_start(year, 1), _month_start(year + 1, 1), m.group())


_ORD = r"(?:st|nd|rd|th)?"
_PATTERNS: tuple[tuple[re.Pattern[str], _Handler], ...] = tuple(
    (re.compile(rx, re.IGNORECASE), fn)
    for rx, fn in (
        (r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b", _iso),
        (rf"\b(?P<mon>{_MONTH_RX})\.? (?P<d>\d{{1,2}}){_ORD},? (?P<y>\d{{4}})\b", _month_day_year),
        (rf"\b(?P<d>\d{{1,2}}){_ORD} (?:of )?(?P<mon>{_MONTH_RX})\.?,? (?P<y>\d{{4}})\b", _month_day_year),
        (rf"\b(?P<mon>{_MONTH_RX})\.?,? (?:of )?(?P<y>\d{{4}})\b", _month_year),
        (rf"\b(?P<n>{_NUMBER_RX}) (?P<unit>day|week|month|year)s? ago\b", _ago),
        (r"\b(?P<w>today|tonight|yesterday)\b", _named_day),
        (r"\b(?P<which>this|last|previous|past) (?P<unit>week|month|year)\b", _period),
        (r"\b(?:in|during|of|year|since) (?P<y>(?:19|20)\d\d)\b", _year),
        (
            rf"\b(?:in|during|since|early|late|mid|last)[- ](?P<mon>(?-i:{_MONTH_CAPS}))\b(?!\.?,? ?(?:of )?\d)",
            _month_only,
        ),
    )
)
_ON_TIMELINE = frozenset({_month_only})
"""Handlers resolved against the user's timeline rather than the wall clock."""


def find_window(query: str, now: datetime, timeline: datetime | None = None) -> TimeWindow | None:
    """The time window ``query`` names, relative to ``now``, or ``None`` if it names none.

    Args:
        query: Free text.
        now: The reference time; a naive datetime is taken as UTC.
        timeline: Where the user's memories end (the newest one's date; default ``now``): a month named
            without a year is its latest occurrence up to there.
    """
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    reference = now if timeline is None else min(now, timeline.replace(tzinfo=UTC) if timeline.tzinfo is None
                                                 else timeline.astimezone(UTC))  # fmt: skip
    text = " ".join(query.split())
    for rx, handler in _PATTERNS:
        for m in rx.finditer(text):
            window = handler(m, reference if handler in _ON_TIMELINE else now)
            if window is not None:
                return window
    return None


def parse_timestamp(value: datetime | str | None) -> datetime | None:
    """An aware UTC datetime from a datetime or an ISO-8601 string (naive = UTC); None if unreadable."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def proximity_boost(
    created_at: datetime | str | None,
    window: TimeWindow | None,
    *,
    max_boost: float = 0.5,
    half_life_days: float | None = None,
) -> float:
    """Score multiplier for a memory created at ``created_at`` given the query's time window.

    Returns 1.0 without a window or a readable timestamp; ``1 + max_boost`` inside the window; outside it
    ``1 + max_boost * 0.5 ** (distance_days / half_life_days)``, where the distance is to the nearest edge
    and the half-life defaults to half the window's width (at least one day).
    """
    if window is None:
        return 1.0
    moment = parse_timestamp(created_at)
    if moment is None:
        return 1.0
    if window.contains(moment):
        return 1.0 + max_boost
    edge = window.start if moment < window.start else window.end
    distance = abs((moment - edge).total_seconds()) / 86400.0
    half_life = half_life_days if half_life_days is not None else max(1.0, window.days / 2)
    return 1.0 + max_boost * float(0.5 ** (distance / half_life))
