"""Report schedules (issue 17): what checking a schedule and looking for due slots costs.

- `parse_ms`: parse_schedule of a cron and an RRULE expression, spacing check included
  (what createReport and updateReport pay).
- `year_of_slots_ms`: every slot of a year of `*/5 * * * *` (105,120 slots) in a DST zone.
- `idle_tick_ms`: one scheduler tick over 500 scheduled reports on a DuckDB file when none
  is due (what every instance pays every VIGIL_REPORT_SCHEDULE_SECONDS).
- `due_tick_ms`: a tick where all 500 are due, with a run function that does nothing:
  the claims and their finishing, without rendering (docs/reports.md has render times).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import Context, log, machine
from domain.reports.schedule import MissedSlots, ScheduleKind, ScheduleSpec, parse_schedule
from domain.reports.scheduler import RunOutcome, ScheduledReport, Scheduler, SchedulerSettings
from infra.reports import schedules
from infra.stores.duckdb import DuckDBDatabase

__all__ = ["run"]

REPORTS = 500
HOUR_US = 3_600_000_000


class _Clock:
    def __init__(self, now_us: int) -> None:
        self.now = now_us

    def now_us(self) -> int:
        return self.now


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _parse_ms() -> dict[str, float]:
    found = {}
    for kind, expression in (("CRON", "0 9 * * 1-5"), ("RRULE", "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9")):
        times = []
        for _ in range(20):
            started = time.perf_counter()
            parse_schedule(kind, expression, "Europe/Berlin")
            times.append(time.perf_counter() - started)
        found[kind.lower()] = _ms(statistics.median(times))
    return found


def _year_ms() -> float:
    schedule = parse_schedule("CRON", "*/5 * * * *", "Europe/Berlin")
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1e6)
    started = time.perf_counter()
    slots = schedule.slots_between(start, start + 365 * 24 * HOUR_US, limit=200_000)
    elapsed = time.perf_counter() - started
    assert len(slots) == 105_120, len(slots)
    return _ms(elapsed)


async def _ticks(ctx: Context) -> dict[str, float]:
    db = await DuckDBDatabase.open(str(ctx.tmp / "schedules.duckdb"))
    try:
        since = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp() * 1e6)
        spec = ScheduleSpec(ScheduleKind.CRON, "0 9 * * *", "Europe/Berlin", MissedSlots.SKIP)
        reports = [ScheduledReport("bench", f"r{i}", spec, since) for i in range(REPORTS)]

        async def listed() -> list[ScheduledReport]:
            return reports

        async def run_nothing(project: str, report: str, trigger: str, slot: int) -> RunOutcome:
            return RunOutcome(f"{report}-{slot}", "ok")

        clock = _Clock(since + 7 * HOUR_US + 60_000_000)  # 08:01 Berlin: nothing due
        scheduler = Scheduler(
            reports=listed,
            slots=db.report_slots,
            run=run_nothing,
            clock=clock,
            settings=SchedulerSettings(owner="bench"),
        )
        idle = []
        for _ in range(5):
            started = time.perf_counter()
            assert await scheduler.tick() == []
            idle.append(time.perf_counter() - started)
        clock.now += HOUR_US  # 09:01: every report is due
        started = time.perf_counter()
        done = await scheduler.tick()
        due = time.perf_counter() - started
        assert len(done) == REPORTS
        return {"idle_tick_ms": _ms(statistics.median(idle)), "due_tick_ms": _ms(due)}
    finally:
        await db.close()


def run(ctx: Context) -> dict[str, Any]:
    schedules.install()
    log("schedules: parsing")
    result: dict[str, Any] = {"bench": "schedules", "reports": REPORTS}
    result["parse_ms"] = _parse_ms()
    log("schedules: a year of five-minute slots")
    result["year_of_slots_ms"] = _year_ms()
    log(f"schedules: ticks over {REPORTS} reports on DuckDB")
    result.update(asyncio.run(_ticks(ctx)))
    result["machine"] = machine()
    return result
