"""A report's relative time range ("last 7 days", "7d", "previous calendar week") resolved
to instants in an IANA time zone, so calendar ranges follow local midnights across DST."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.durations import parse_duration
from domain.errors import BadUserInput

__all__ = ["check_range", "check_timezone", "resolve_range"]

_UNITS = {
    "minute": "m",
    "minutes": "m",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "week": "w",
    "weeks": "w",
}
_LAST = re.compile(r"last\s+(\d+)\s+(minutes?|hours?|days?|weeks?)")
_LAST_ONE = re.compile(r"last\s+(minute|hour|day|week)")
_CALENDAR = re.compile(r"(?:previous|last)\s+calendar\s+(day|week|month)")
_THIS = re.compile(r"(?:this|current)\s+(day|week|month)|today")
_HELP = (
    "a time range such as '7d', 'last 24 hours', 'previous calendar week',"
    " 'previous calendar month' or 'this month'"
)


def check_timezone(name: str) -> ZoneInfo:
    refusal = BadUserInput(f"{name[:64]!r} is not an IANA time zone such as Europe/Paris")
    if not 0 < len(name) <= 64:  # the longest IANA name has 32 characters
        raise refusal
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name the OS refuses
        raise refusal from None


def check_range(text: str) -> str:
    """The range, normalised (trimmed, lower case), if it is one Vigil understands."""
    normal = " ".join(text.strip().lower().split())
    resolve_range(normal, "UTC", 0)
    return normal


def resolve_range(text: str, timezone: str, now_us: int) -> tuple[int, int]:
    """[from, to) in microseconds. Relative ranges end now; calendar ones are whole local
    days, weeks (from Monday) or months, whatever their length in hours."""
    zone = check_timezone(timezone)
    normal = " ".join(text.strip().lower().split())
    span = _rolling(normal)
    if span is not None:
        return now_us - span, now_us
    now = datetime.fromtimestamp(now_us / 1e6, UTC).astimezone(zone)
    calendar = _CALENDAR.fullmatch(normal)
    if calendar is not None:
        start = _period_start(now, calendar[1])
        return _us(_previous(start, calendar[1])), _us(start)
    this = _THIS.fullmatch(normal)
    if this is not None:
        start = _period_start(now, this[1] or "day")
        return _us(start), now_us
    if normal == "yesterday":
        start = _period_start(now, "day")
        return _us(_previous(start, "day")), _us(start)
    raise BadUserInput(f"time range {text!r} is not {_HELP}")


def _rolling(normal: str) -> int | None:
    last = _LAST.fullmatch(normal)
    if last is not None:
        text = f"{last[1]}{_UNITS[last[2]]}"
    elif (one := _LAST_ONE.fullmatch(normal)) is not None:
        text = f"1{_UNITS[one[1]]}"
    elif re.fullmatch(r"\d+[smhdw]", normal):
        text = normal
    else:
        return None
    if text.endswith("w"):
        span = parse_duration(f"{int(text[:-1]) * 7}d", "time range")
    else:
        span = parse_duration(text, "time range")
    if span <= 0:
        raise BadUserInput("a time range must be longer than zero")
    return span


def _period_start(now: datetime, unit: str) -> datetime:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if unit == "week":
        day -= timedelta(days=day.weekday())
    elif unit == "month":
        day = day.replace(day=1)
    return day.replace(tzinfo=now.tzinfo)  # local midnight: its offset is the day's own


def _previous(start: datetime, unit: str) -> datetime:
    naive = start.replace(tzinfo=None)
    if unit == "day":
        naive -= timedelta(days=1)
    elif unit == "week":
        naive -= timedelta(days=7)
    else:
        naive = (naive - timedelta(days=1)).replace(day=1)
    return naive.replace(tzinfo=start.tzinfo)


def _us(moment: datetime) -> int:
    # A local wall time's instant: astimezone(UTC) applies the offset in force that day.
    return int(moment.astimezone(UTC).timestamp() * 1_000_000)
