"""Report schedules: an RRULE or a cron expression read on the wall clock of a time zone.

The domain holds the model and the rules every schedule obeys; the expression languages
are parsed by libraries in infra (infra/reports/schedules.py, python-dateutil's rrule and
cronsim), installed once at start-up through `use_schedule_parser` (decision record
"report-schedule-parsers"). The rules:

- Slots are instants (epoch microseconds, UTC) computed from wall-clock times in the zone,
  so a 09:00 report runs at 09:00 local on both sides of a DST change.
- A wall time that does not exist (02:30 on a spring-forward day) runs once, at the first
  valid time after the gap (03:00); a wall time that happens twice (autumn) runs once, at
  its first occurrence. Cron expressions whose minute or hour field is `*`-based keep their
  real-time spacing through a change, as Debian's cron does.
- No schedule fires more often than every `MIN_INTERVAL_S` seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import BadUserInput

__all__ = [
    "MIN_INTERVAL_S",
    "MissedSlots",
    "Schedule",
    "ScheduleKind",
    "ScheduleParser",
    "ScheduleSpec",
    "check_spacing",
    "local_instant_us",
    "parse_schedule",
    "use_schedule_parser",
    "zone",
]

MIN_INTERVAL_S = 300
MAX_EXPRESSION = 500


class ScheduleKind(StrEnum):
    RRULE = "RRULE"
    CRON = "CRON"


class MissedSlots(StrEnum):
    """What a restart does with the slots that passed while Vigil was down."""

    RUN_ONCE = "RUN_ONCE"  # one catch-up run, for the newest missed slot
    SKIP = "SKIP"


class Schedule(Protocol):
    """The slots of one schedule, as UTC instants in epoch microseconds."""

    @property
    def spec(self) -> ScheduleSpec: ...

    def slots_between(self, after_us: int, until_us: int, *, limit: int = 1000) -> list[int]:
        """The slots s with after_us < s <= until_us, oldest first, at most `limit`."""
        ...

    def next_slot(self, after_us: int) -> int | None:
        """The first slot after `after_us`; None if the schedule has ended (RRULE UNTIL)."""
        ...


class ScheduleParser(Protocol):
    def __call__(self, spec: ScheduleSpec) -> Schedule:
        """A schedule for a spec whose kind and zone are valid; BadUserInput for a bad
        expression."""
        ...


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """What a report stores: the expression, its zone, and the policy for missed slots."""

    kind: ScheduleKind
    expression: str
    timezone: str = "UTC"
    missed: MissedSlots = MissedSlots.RUN_ONCE

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "expression": self.expression,
            "timezone": self.timezone,
            "missed": self.missed.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScheduleSpec:
        return cls(
            ScheduleKind(data["kind"]),
            str(data["expression"]),
            str(data.get("timezone") or "UTC"),
            MissedSlots(data.get("missed") or MissedSlots.RUN_ONCE.value),
        )


_parser: ScheduleParser | None = None


def use_schedule_parser(parser: ScheduleParser) -> None:
    """Install the expression parser (infra does at start-up, before any command runs)."""
    global _parser
    _parser = parser


def parse_schedule(
    kind: str, expression: str, timezone: str, missed: str = MissedSlots.RUN_ONCE.value
) -> Schedule:
    """A validated schedule; BadUserInput naming what is wrong (the kind, the expression,
    the zone, or a schedule firing more often than every 5 minutes)."""
    try:
        schedule_kind = ScheduleKind(str(kind).upper())
    except ValueError:
        raise BadUserInput(f"schedule kind must be RRULE or CRON, not {kind!r}") from None
    try:
        missed_slots = MissedSlots(str(missed).upper())
    except ValueError:
        raise BadUserInput(f"missed must be RUN_ONCE or SKIP, not {missed!r}") from None
    text = " ".join(str(expression).split()) if schedule_kind is ScheduleKind.CRON else expression
    text = text.strip()
    if not text:
        raise BadUserInput("a schedule needs an expression")
    if len(text) > MAX_EXPRESSION:
        raise BadUserInput(f"a schedule expression is at most {MAX_EXPRESSION} characters")
    zone(timezone)
    if _parser is None:
        raise RuntimeError("no schedule parser installed (infra.reports.schedules.install)")
    schedule = _parser(ScheduleSpec(schedule_kind, text, timezone, missed_slots))
    check_spacing(schedule)
    return schedule


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; BadUserInput if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadUserInput(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
        ) from None


def check_spacing(schedule: Schedule, *, horizon_days: int = 400, sample: int = 600) -> None:
    """BadUserInput if two slots among the first `sample` of the coming `horizon_days`
    (from 2030-01-01, so DST changes of that year are inside) are closer than
    MIN_INTERVAL_S; also if the schedule has no slot at all."""
    start = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp() * 1e6)
    slots = schedule.slots_between(start, start + horizon_days * 86_400_000_000, limit=sample)
    gap = _smallest_gap_s(slots)
    if gap is not None and gap < MIN_INTERVAL_S:
        raise BadUserInput(
            f"a report schedule fires at most every {MIN_INTERVAL_S // 60} minutes;"
            f" this one fires {gap:g} s apart"
        )


def _smallest_gap_s(slots: Sequence[int]) -> float | None:
    gaps = [(b - a) / 1e6 for a, b in pairwise(slots)]
    return min(gaps) if gaps else None


def local_instant_us(wall: datetime, tz: ZoneInfo) -> int:
    """The instant a naive wall-clock time names in `tz`: its first occurrence when the hour
    repeats, the end of the gap (the first valid time after it) when it does not exist."""
    first = wall.replace(tzinfo=tz, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        # In a gap: fold=0 read it with the offset before the change; the gap ends at the
        # first instant whose offset is the later one.
        later = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
        instant = _gap_end(min(instant, later), max(instant, later), tz)
    return int(instant.timestamp()) * 1_000_000 + instant.microsecond


def _gap_end(low: datetime, high: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in [low, high] with the offset `high` has (the change), to the second."""
    offset = high.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(tz).utcoffset() == offset:
            high = mid
        else:
            low = mid
    return high.replace(microsecond=0)
