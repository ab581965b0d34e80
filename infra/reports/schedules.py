"""The schedule languages behind domain.reports.schedule: RFC 5545 RRULEs with
python-dateutil's rrule, cron expressions with cronsim (Debian cron's rules, DST included).

Both compute wall-clock times in the report's zone and turn them into instants with the
domain's rule (`local_instant_us`): a time in a spring-forward gap runs at the end of the
gap, a repeated time runs once, at its first occurrence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError
from dateutil.rrule import rrule, rrulestr

from domain.errors import BadUserInput
from domain.reports.schedule import (
    Schedule,
    ScheduleKind,
    ScheduleSpec,
    local_instant_us,
    use_schedule_parser,
    zone,
)

__all__ = ["CronSchedule", "RRuleSchedule", "install", "parse"]

# Where an RRULE without DTSTART counts its periods from: a fixed Monday at midnight, so
# every instance and every restart agrees on INTERVAL's phase, FREQ=WEEKLY without BYDAY
# means Mondays, and times not given by BYHOUR/BYMINUTE/BYSECOND are 0.
ANCHOR = datetime(2000, 1, 3)
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Periods an RRULE can be moved forward by without changing what it yields (whole
# multiples of INTERVAL x this), so generating slots in 2030 does not walk from 2000.
_PERIOD = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(days=7),
}
_HORIZONS_DAYS = (2, 40, 400, 4000)
_FREQS = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY")


def install() -> None:
    """Make domain.reports.schedule.parse_schedule use these parsers."""
    use_schedule_parser(parse)


def parse(spec: ScheduleSpec) -> Schedule:
    tz = zone(spec.timezone)
    if spec.kind is ScheduleKind.CRON:
        return CronSchedule.parse(spec, tz)
    return RRuleSchedule.parse(spec, tz)


class _Slots(ABC):
    """next_slot from slots_between, over growing horizons."""

    spec: ScheduleSpec

    @abstractmethod
    def slots_between(self, after_us: int, until_us: int, *, limit: int = 1000) -> list[int]:
        """The slots after `after_us`, up to `until_us`, at most `limit` of them."""

    def next_slot(self, after_us: int) -> int | None:
        for days in _HORIZONS_DAYS:
            found = self.slots_between(after_us, after_us + days * 86_400_000_000, limit=1)
            if found:
                return found[0]
        return None


@dataclass(frozen=True, slots=True)
class CronSchedule(_Slots):
    spec: ScheduleSpec
    expression: str
    tz: ZoneInfo

    @classmethod
    def parse(cls, spec: ScheduleSpec, tz: ZoneInfo) -> CronSchedule:
        expression = _MACROS.get(spec.expression.lower(), spec.expression)
        if len(expression.split()) != 5:
            raise BadUserInput(
                "a cron schedule has five fields: minute hour day-of-month month day-of-week"
                f" (or @daily, @weekly, ...), not {spec.expression!r}"
            )
        try:
            next(iter(CronSim(expression, datetime(2030, 1, 1, tzinfo=tz))))
        except CronSimError as exc:
            raise BadUserInput(f"bad cron expression {spec.expression!r}: {exc}") from None
        except StopIteration:
            raise BadUserInput(f"the cron expression {spec.expression!r} never fires") from None
        return cls(spec, expression, tz)

    def slots_between(self, after_us: int, until_us: int, *, limit: int = 1000) -> list[int]:
        start = datetime.fromtimestamp(after_us / 1e6, UTC).astimezone(self.tz)
        found: list[int] = []
        for moment in CronSim(self.expression, start):
            at = _epoch_us(moment)
            if at > until_us or len(found) >= limit:
                break
            if at > after_us and (not found or at > found[-1]):
                found.append(at)
        return found


@dataclass(frozen=True, slots=True)
class RRuleSchedule(_Slots):
    spec: ScheduleSpec
    rule: rrule
    tz: ZoneInfo
    dtstart: datetime
    period: timedelta | None  # INTERVAL x FREQ when the rule may be moved forward by it

    @classmethod
    def parse(cls, spec: ScheduleSpec, tz: ZoneInfo) -> RRuleSchedule:
        lines = [line.strip() for line in spec.expression.strip().splitlines() if line.strip()]
        starts = [line for line in lines if line.upper().startswith("DTSTART")]
        rules = [line for line in lines if not line.upper().startswith("DTSTART")]
        if len(rules) != 1 or len(starts) > 1 or rules[0].upper().startswith(("EX", "RDATE")):
            raise BadUserInput("a report schedule is one RRULE (and an optional DTSTART line)")
        parts = _rule_parts(rules[0])
        if parts.get("FREQ", "").upper() not in _FREQS:
            raise BadUserInput(f"RRULE {spec.expression!r} needs FREQ, one of {', '.join(_FREQS)}")
        dtstart = _local_start(starts[0]) if starts else ANCHOR
        if parts.get("UNTIL", "").upper().endswith("Z"):
            raise BadUserInput("UNTIL is a local time without Z (the schedule's timezone gives it)")
        if "COUNT" in parts and not starts:
            raise BadUserInput("an RRULE with COUNT needs a DTSTART to count from")
        try:
            parsed = rrulestr(rules[0], dtstart=dtstart, forceset=False)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise BadUserInput(f"bad RRULE {spec.expression!r}: {exc}") from None
        if not isinstance(parsed, rrule):
            raise BadUserInput("a report schedule is one RRULE (and an optional DTSTART line)")
        unit = _PERIOD.get(parts.get("FREQ", ""))
        period = None
        if unit is not None and "COUNT" not in parts:
            period = unit * int(parts.get("INTERVAL", "1"))
        return cls(spec, parsed, tz, dtstart, period)

    def slots_between(self, after_us: int, until_us: int, *, limit: int = 1000) -> list[int]:
        # Wall-clock bounds a day wider than the instants: no zone is a day off UTC.
        low = _wall(after_us - 86_400_000_000, self.tz)
        high = _wall(until_us + 86_400_000_000, self.tz)
        found: list[int] = []
        for wall in self._moved_to(low).xafter(low, inc=True):
            if wall > high or len(found) >= limit:
                break
            at = local_instant_us(wall, self.tz)
            if after_us < at <= until_us and (not found or at > found[-1]):
                found.append(at)
        return found

    def _moved_to(self, low: datetime) -> rrule:
        if self.period is None or low <= self.dtstart:
            return self.rule
        steps = (low - self.dtstart) // self.period
        return self.rule.replace(dtstart=self.dtstart + steps * self.period)


def _rule_parts(line: str) -> dict[str, str]:
    text = line.split(":", 1)[1] if line.upper().startswith("RRULE:") else line
    parts: dict[str, str] = {}
    for part in text.split(";"):
        key, _, value = part.partition("=")
        parts[key.strip().upper()] = value.strip()
    return parts


def _local_start(line: str) -> datetime:
    name, _, value = line.partition(":")
    if ";" in name or value.strip().upper().endswith("Z"):
        raise BadUserInput(
            "DTSTART is a local time without a zone (the schedule's timezone gives it),"
            " such as DTSTART:20260105T090000"
        )
    try:
        return datetime.strptime(value.strip(), "%Y%m%dT%H%M%S")
    except ValueError:
        raise BadUserInput(f"DTSTART {value.strip()!r} is not YYYYMMDDTHHMMSS") from None


def _wall(at_us: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(at_us / 1e6, UTC).astimezone(tz).replace(tzinfo=None)


def _epoch_us(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
