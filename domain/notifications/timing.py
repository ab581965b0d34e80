"""Mute timings: recurring weekdays and times of day in a time zone (Alertmanager's
`time_intervals`), during which a route sends nothing."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import BadUserInput

__all__ = ["MuteTiming", "TimeInterval"]

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"(\d{2}):(\d{2})")


@dataclass(frozen=True, slots=True)
class TimeInterval:
    """Weekdays (0 = Monday; empty: every day) and [start, end) minute ranges of the day
    (empty: all day), read on the wall clock of `location`."""

    weekdays: frozenset[int] = frozenset()
    times: tuple[tuple[int, int], ...] = ()
    location: str = "UTC"

    def contains(self, at_us: int) -> bool:
        local = datetime.fromtimestamp(at_us / 1e6, UTC).astimezone(ZoneInfo(self.location))
        if self.weekdays and local.weekday() not in self.weekdays:
            return False
        minute = local.hour * 60 + local.minute
        return not self.times or any(start <= minute < end for start, end in self.times)

    def to_dict(self) -> dict[str, Any]:
        return {
            "weekdays": [_DAYS[d] for d in sorted(self.weekdays)],
            "times": [
                {"start_time": _clock_text(s), "end_time": _clock_text(e)} for s, e in self.times
            ],
            "location": self.location,
        }

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> TimeInterval:
        unknown = sorted(set(data) - {"weekdays", "times", "location"})
        if unknown:
            raise BadUserInput(f"unknown time interval fields {unknown}")
        location = str(data.get("location") or "UTC")
        try:
            ZoneInfo(location)
        except (ZoneInfoNotFoundError, ValueError):
            raise BadUserInput(f"unknown time zone {location!r}") from None
        days: set[int] = set()
        for text in _list(data.get("weekdays"), "weekdays"):
            first, _, last = str(text).lower().partition(":")
            start, end = _day(first), _day(last or first)
            if end < start:
                raise BadUserInput(f"weekday range {text!r} runs backwards")
            days.update(range(start, end + 1))
        times = []
        for span in _list(data.get("times"), "times"):
            if not isinstance(span, Mapping):
                raise BadUserInput("a time range is {start_time: HH:MM, end_time: HH:MM}")
            start, end = _minute(span.get("start_time")), _minute(span.get("end_time"))
            if not start < end:
                raise BadUserInput("a time range's start_time must be before its end_time")
            times.append((start, end))
        return cls(frozenset(days), tuple(times), location)


@dataclass(frozen=True, slots=True)
class MuteTiming:
    name: str
    intervals: tuple[TimeInterval, ...]

    def active(self, at_us: int) -> bool:
        return any(interval.contains(at_us) for interval in self.intervals)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "time_intervals": [i.to_dict() for i in self.intervals]}

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> MuteTiming:
        name = str(data.get("name") or "")
        if not name:
            raise BadUserInput("a mute timing needs a name")
        intervals = _list(data.get("time_intervals"), "time_intervals")
        if not intervals:
            raise BadUserInput(f"mute timing {name!r} needs at least one time interval")
        return cls(name, tuple(TimeInterval.parse(i) for i in intervals))


def _list(value: object, name: str) -> Sequence[Any]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise BadUserInput(f"{name} must be a list")
    return value


def _day(text: str) -> int:
    try:
        return _DAYS.index(text.strip())
    except ValueError:
        raise BadUserInput(f"{text!r} is not a weekday (monday ... sunday)") from None


def _minute(value: object) -> int:
    found = _CLOCK.fullmatch(str(value or ""))
    if found is None:
        raise BadUserInput(f"{value!r} is not a time of day such as 08:30")
    hour, minute = int(found[1]), int(found[2])
    if hour == 24 and minute == 0:
        return 24 * 60
    if hour > 23 or minute > 59:
        raise BadUserInput(f"{value!r} is not a time of day such as 08:30")
    return hour * 60 + minute


def _clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
