"""Report schedules: RRULE and cron on the wall clock of a zone, across DST changes.

Europe/Berlin changes on 2026-03-29 (02:00 CET -> 03:00 CEST) and 2026-10-25 (03:00 CEST ->
02:00 CET); America/New_York on 2026-03-08 and 2026-11-01.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from domain.errors import BadUserInput
from domain.reports.schedule import MissedSlots, ScheduleKind, ScheduleSpec, parse_schedule
from infra.reports import schedules

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def _parsers() -> None:
    schedules.install()


def us(text: str, tz: tzinfo = UTC) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=tz).timestamp() * 1_000_000)


def local(slots: list[int], tz: ZoneInfo = BERLIN) -> list[str]:
    return [datetime.fromtimestamp(s / 1e6, tz).isoformat() for s in slots]


DAILY_NINE = [("CRON", "0 9 * * *"), ("RRULE", "FREQ=DAILY;BYHOUR=9;BYMINUTE=0")]
DAILY_0230 = [("CRON", "30 2 * * *"), ("RRULE", "RRULE:FREQ=DAILY;BYHOUR=2;BYMINUTE=30")]


@pytest.mark.parametrize(("kind", "expression"), DAILY_NINE)
def test_nine_oclock_stays_nine_oclock_local_across_both_changes(
    kind: str, expression: str
) -> None:
    schedule = parse_schedule(kind, expression, "Europe/Berlin")
    spring = schedule.slots_between(us("2026-03-27T12:00"), us("2026-03-31T00:00"))
    autumn = schedule.slots_between(us("2026-10-23T12:00"), us("2026-10-27T00:00"))
    assert local(spring) == [
        "2026-03-28T09:00:00+01:00",
        "2026-03-29T09:00:00+02:00",
        "2026-03-30T09:00:00+02:00",
    ]
    assert local(autumn) == [
        "2026-10-24T09:00:00+02:00",
        "2026-10-25T09:00:00+01:00",
        "2026-10-26T09:00:00+01:00",
    ]
    # 23 and 25 hours apart in real time: the wall clock decides, not a fixed period.
    assert spring[1] - spring[0] == 23 * 3_600_000_000
    assert autumn[1] - autumn[0] == 25 * 3_600_000_000


@pytest.mark.parametrize(("kind", "expression"), DAILY_0230)
def test_a_time_in_the_spring_gap_runs_once_at_the_end_of_the_gap(
    kind: str, expression: str
) -> None:
    schedule = parse_schedule(kind, expression, "Europe/Berlin")
    slots = schedule.slots_between(us("2026-03-27T12:00"), us("2026-03-31T00:00"))
    assert local(slots) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:00:00+02:00",  # 02:30 does not exist that day: 03:00, the next valid time
        "2026-03-30T02:30:00+02:00",
    ]


@pytest.mark.parametrize(("kind", "expression"), DAILY_0230)
def test_a_time_in_the_repeated_autumn_hour_runs_once(kind: str, expression: str) -> None:
    schedule = parse_schedule(kind, expression, "Europe/Berlin")
    slots = schedule.slots_between(us("2026-10-24T12:00"), us("2026-10-26T12:00"))
    assert local(slots) == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]


def test_new_york_weekday_mornings_by_cron_and_by_rrule_agree() -> None:
    cron = parse_schedule("CRON", "0 8 * * 1-5", "America/New_York")
    rule = parse_schedule("RRULE", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8", "America/New_York")
    window = (us("2026-03-01T00:00"), us("2026-03-15T00:00"))
    assert cron.slots_between(*window) == rule.slots_between(*window)
    ny = ZoneInfo("America/New_York")
    assert local(cron.slots_between(*window), ny)[4:6] == [
        "2026-03-06T08:00:00-05:00",
        "2026-03-09T08:00:00-04:00",  # Monday after the change: still 08:00 local
    ]


def test_a_cron_wildcard_keeps_real_time_spacing_through_the_repeated_hour() -> None:
    schedule = parse_schedule("CRON", "*/30 * * * *", "Europe/Berlin")
    slots = schedule.slots_between(us("2026-10-24T23:00"), us("2026-10-25T02:00"))
    assert local(slots) == [
        "2026-10-25T01:30:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]
    assert {b - a for a, b in pairwise(slots)} == {1_800_000_000}


def test_slots_between_excludes_after_includes_until_and_respects_limit() -> None:
    schedule = parse_schedule("CRON", "0 * * * *", "UTC")
    slots = schedule.slots_between(us("2026-01-01T00:00"), us("2026-01-01T03:00"))
    assert slots == [us("2026-01-01T01:00"), us("2026-01-01T02:00"), us("2026-01-01T03:00")]
    assert schedule.slots_between(us("2026-01-01T00:00"), us("2026-01-02T00:00"), limit=2) == [
        us("2026-01-01T01:00"),
        us("2026-01-01T02:00"),
    ]


@pytest.mark.parametrize(
    ("kind", "expression", "expected"),
    [
        ("CRON", "0 9 * * 1", "2026-01-05T09:00:00+01:00"),  # the next Monday
        ("CRON", "@monthly", "2026-02-01T00:00:00+01:00"),
        ("RRULE", "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=18", "2026-01-31T18:00:00+01:00"),
        (
            "RRULE",
            "DTSTART:20251229T070000\nRRULE:FREQ=WEEKLY;INTERVAL=2",
            "2026-01-12T07:00:00+01:00",
        ),
    ],
)
def test_next_slot(kind: str, expression: str, expected: str) -> None:
    schedule = parse_schedule(kind, expression, "Europe/Berlin")
    after = us("2026-01-01T12:00", BERLIN)
    assert local([schedule.next_slot(after) or 0]) == [expected]


def test_an_interval_keeps_its_phase_however_far_from_its_start() -> None:
    # Every 7 hours from the fixed anchor (2000-01-03 00:00 local): asked in 2026 and in
    # 2031, both answers lie on the same 7-hour grid, so every instance agrees.
    schedule = parse_schedule("RRULE", "FREQ=HOURLY;INTERVAL=7", "UTC")
    anchor = us("2000-01-03T00:00")
    for start in (us("2026-06-01T00:00"), us("2031-02-03T04:05")):
        slots = schedule.slots_between(start, start + 3 * 86_400_000_000)
        assert slots and all((s - anchor) % (7 * 3_600_000_000) == 0 for s in slots)


def test_an_rrule_that_ended_has_no_next_slot() -> None:
    schedule = parse_schedule(
        "RRULE", "DTSTART:20250101T090000\nRRULE:FREQ=DAILY;COUNT=3", "Europe/Berlin"
    )
    assert schedule.next_slot(us("2026-01-01T00:00")) is None


def test_the_spec_round_trips_and_names_its_policy() -> None:
    schedule = parse_schedule("cron", "0  9 * * *", "Europe/Berlin", "skip")
    assert schedule.spec == ScheduleSpec(
        ScheduleKind.CRON, "0 9 * * *", "Europe/Berlin", MissedSlots.SKIP
    )
    assert ScheduleSpec.from_dict(schedule.spec.to_dict()) == schedule.spec


@pytest.mark.parametrize(
    ("kind", "expression", "timezone", "message"),
    [
        ("WEEKLY", "0 9 * * *", "UTC", "RRULE or CRON"),
        ("CRON", "0 9 * *", "UTC", "five fields"),
        ("CRON", "61 9 * * *", "UTC", "bad cron expression"),
        ("CRON", "0 9 * * *", "Mars/Olympus", "unknown time zone"),
        ("CRON", "*/2 * * * *", "UTC", "at most every 5 minutes"),
        ("CRON", "0,3 9 * * *", "UTC", "at most every 5 minutes"),
        ("RRULE", "FREQ=MINUTELY;INTERVAL=4", "UTC", "at most every 5 minutes"),
        ("RRULE", "FREQ=DAILY;BYHOUR=25", "UTC", "bad RRULE"),
        ("RRULE", "FREQ=FORTNIGHTLY", "UTC", "needs FREQ"),
        ("RRULE", "BYHOUR=9", "UTC", "needs FREQ"),
        ("RRULE", "FREQ=DAILY;COUNT=3", "UTC", "needs a DTSTART"),
        ("RRULE", "DTSTART;TZID=Europe/Paris:20260101T090000\nFREQ=DAILY", "UTC", "local time"),
        ("RRULE", "FREQ=DAILY;UNTIL=20300101T000000Z", "UTC", "UNTIL is a local time"),
        ("RRULE", "FREQ=DAILY\nEXDATE:20260101T000000", "UTC", "one RRULE"),
        ("CRON", "   ", "UTC", "needs an expression"),
    ],
)
def test_bad_schedules_say_what_is_wrong(
    kind: str, expression: str, timezone: str, message: str
) -> None:
    with pytest.raises(BadUserInput, match=message):
        parse_schedule(kind, expression, timezone)


def test_five_minutes_apart_is_allowed() -> None:
    schedule = parse_schedule("CRON", "*/5 * * * *", "Europe/Berlin")
    assert len(schedule.slots_between(us("2026-01-01T00:00"), us("2026-01-01T01:00"))) == 12
