"""UTC timestamps as fixed-width ISO-8601 strings, so SQL compares them as text correctly."""

from __future__ import annotations

from datetime import UTC, datetime

from .errors import Invalid

__all__ = ["format_ts", "now_iso", "parse_datetime", "parse_ts", "to_datetime", "to_utc"]


def to_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_ts(moment: datetime) -> str:
    """``2026-11-21T03:20:03.123456Z``: UTC, microseconds, fixed width."""
    moment = to_utc(moment)
    # isoformat pads the year to four digits (strftime's %Y does not for years before 1000)
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def now_iso() -> str:
    return format_ts(datetime.now(UTC))


def to_datetime(value: str) -> datetime:
    """Parse a timestamp this module wrote (or any ISO-8601 one) into an aware UTC datetime."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return to_utc(datetime.fromisoformat(text))


def parse_datetime(value: str, field: str) -> datetime:
    """``to_datetime``, with unreadable input reported as ``Invalid(field)``."""
    try:
        return to_datetime(value)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 pushed out of range by the offset
        raise Invalid(field, f"cannot read {value[:40]!r} as an ISO-8601 timestamp") from None


def parse_ts(value: object, field: str) -> str:
    """Validate an ISO-8601 timestamp from a client and normalise it; naive times are taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(field, "must be an ISO-8601 timestamp string")
    return format_ts(parse_datetime(value, field))
