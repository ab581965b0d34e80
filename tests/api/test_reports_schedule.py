"""Scheduled reports through the real app, with the schedule clock moved by the test: a slot
runs once, also with two instances on one store; after a restart a missed slot runs once
(or is skipped); 09:00 Berlin stays 09:00 across DST; bad schedules are refused. DuckDB
and the MongoDB emulator."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from infra.config import Settings
from infra.stores.duckdb import DuckDBDatabase
from tests.adjustable_clock import AdjustableClock
from tests.api.reports_support import (
    EDITOR,
    RUNS,
    code_of,
    create_report,
    report_input,
    send_cpu,
)
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import RunningVigil, make_settings, serve

FIVE_MIN_US = 300_000_000


async def open_duckdb(tmp_path: Path) -> Any:
    return await DuckDBDatabase.open(str(tmp_path / "shared.duckdb"))


Opener = Callable[[Path], Awaitable[Any]]


@pytest.fixture(params=[open_duckdb, open_mongo_emulated], ids=["duckdb", "mongo-emulated"])
async def database(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    db = await request.param(tmp_path)
    try:
        yield db
    finally:
        await db.close()


def settings(tmp_path: Path, name: str = "a", **overrides: Any) -> Settings:
    base = make_settings(tmp_path, report_schedule_seconds=0.05, **overrides)
    return replace(base, instance=f"{name}-{uuid.uuid4().hex[:6]}")


def scheduled(expression: str = "*/5 * * * *", missed: str = "RUN_ONCE") -> dict[str, Any]:
    schedule = {"kind": "CRON", "expression": expression, "timezone": "UTC", "missed": missed}
    return report_input(schedule=schedule)


def next_slot(after_us: int, n: int = 1) -> int:
    """The n-th five-minute boundary after `after_us`."""
    return (after_us // FIVE_MIN_US + n) * FIVE_MIN_US


async def runs(vigil: RunningVigil, report_id: str) -> list[dict[str, Any]]:
    data = await vigil.ok(RUNS, {"p": "demo", "id": report_id, "first": 50}, auth=EDITOR)
    items: list[dict[str, Any]] = data["reportRuns"]["items"]
    return items


async def wait_runs(
    vigil: RunningVigil, report_id: str, count: int, timeout: float = 20
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = await runs(vigil, report_id)
        if len(found) >= count and all(r["status"] != "running" for r in found):
            return found
        assert time.monotonic() < deadline, f"{len(found)} runs, wanted {count}: {found}"
        await asyncio.sleep(0.05)


async def settle() -> None:
    """Long enough for a few scheduler ticks (0.05 s apart) to have happened."""
    await asyncio.sleep(0.6)


async def test_a_due_slot_runs_once_and_nothing_runs_between_slots(
    tmp_path: Path, database: Any
) -> None:
    clock = AdjustableClock()
    async with serve(settings(tmp_path), database=database, notifications_clock=clock) as vigil:
        await send_cpu(vigil)
        report = await create_report(vigil, scheduled())
        assert report["schedule"] == {
            "kind": "CRON",
            "expression": "*/5 * * * *",
            "timezone": "UTC",
            "missed": "RUN_ONCE",
        }
        await settle()
        assert await runs(vigil, report["id"]) == []  # the next slot has not come

        clock.set(next_slot(clock.now_us()) + 5_000_000)
        [run] = await wait_runs(vigil, report["id"], 1)
        assert (run["status"], run["trigger"]) == ("ok", "schedule")
        await settle()
        assert len(await runs(vigil, report["id"])) == 1  # once, however many ticks

        clock.set(next_slot(clock.now_us()) + 1_000_000)
        assert [r["trigger"] for r in await wait_runs(vigil, report["id"], 2)] == [
            "schedule",
            "schedule",
        ]


async def test_two_instances_on_one_store_run_each_slot_once(tmp_path: Path, database: Any) -> None:
    clock = AdjustableClock()
    async with (
        serve(settings(tmp_path, "a"), database=database, notifications_clock=clock) as a,
        serve(settings(tmp_path, "b"), database=database, notifications_clock=clock) as b,
    ):
        await send_cpu(a)
        report = await create_report(a, scheduled())
        start = clock.now_us()
        for n in range(1, 4):
            clock.set(next_slot(start, n) + 2_000_000)
            await wait_runs(b, report["id"], n)
            await settle()
        found = await runs(a, report["id"])
        assert len(found) == 3 and {r["trigger"] for r in found} == {"schedule"}
        assert len({r["to"] for r in found}) == 3  # three slots, one run each


@pytest.mark.parametrize(("missed", "expected"), [("RUN_ONCE", ["catch_up"]), ("SKIP", [])])
async def test_slots_missed_while_down_run_once_on_restart_or_are_skipped(
    tmp_path: Path, database: Any, missed: str, expected: list[str]
) -> None:
    clock = AdjustableClock()
    async with serve(settings(tmp_path, "a"), database=database, notifications_clock=clock) as a:
        await send_cpu(a)
        report = await create_report(a, scheduled(missed=missed))
    # Down over three slots; back three minutes after the last (late: past the grace).
    clock.set(next_slot(clock.now_us(), 3) + 180_000_000)
    async with serve(settings(tmp_path, "b"), database=database, notifications_clock=clock) as b:
        await settle()
        if expected:
            [run] = await wait_runs(b, report["id"], 1)
            assert run["status"] == "ok"
        await settle()
        assert [r["trigger"] for r in await runs(b, report["id"])] == expected
        clock.set(next_slot(clock.now_us()) + 1_000_000)  # the next slot runs as usual
        latest = await wait_runs(b, report["id"], len(expected) + 1)
        assert latest[0]["trigger"] == "schedule"


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"kind": "CRON", "expression": "*/2 * * * *", "timezone": "UTC"}, "every 5 minutes"),
        ({"kind": "CRON", "expression": "0 9 * *", "timezone": "UTC"}, "five fields"),
        ({"kind": "RRULE", "expression": "FREQ=DAILY;BYHOUR=9", "timezone": "Mars/X"}, "zone"),
        ({"kind": "RRULE", "expression": "FREQ=SOMETIMES", "timezone": "UTC"}, "needs FREQ"),
    ],
)
async def test_a_bad_schedule_is_refused_and_nothing_is_created(
    tmp_path: Path, schedule: dict[str, Any], message: str
) -> None:
    async with serve(settings(tmp_path)) as vigil:
        body = await vigil.gql(
            "mutation($p: String!, $r: ReportInput!) { createReport(project: $p, report: $r)"
            " { id } }",
            {"p": "demo", "r": report_input(schedule=schedule)},
            auth=EDITOR,
        )
        assert code_of(body) == "BAD_USER_INPUT", body
        assert message in body["errors"][0]["message"]
        listed = await vigil.ok(
            "query($p: String!) { reports(project: $p) { items { id } } }",
            {"p": "demo"},
            auth=EDITOR,
        )
        assert listed["reports"]["items"] == []


async def test_nine_oclock_berlin_runs_at_nine_local_on_both_sides_of_the_spring_change(
    tmp_path: Path,
) -> None:
    berlin = ZoneInfo("Europe/Berlin")

    def at(text: str) -> int:
        return int(datetime.fromisoformat(text).replace(tzinfo=berlin).timestamp() * 1e6)

    clock = AdjustableClock()
    rule = {"kind": "RRULE", "expression": "FREQ=DAILY;BYHOUR=9", "timezone": "Europe/Berlin"}
    async with serve(settings(tmp_path), notifications_clock=clock) as vigil:
        await send_cpu(vigil)
        report = await create_report(vigil, report_input(schedule=rule))
        for n, day in enumerate(("2027-03-27", "2027-03-28"), start=1):  # CET, then CEST
            clock.set(at(f"{day}T09:00:03"))
            await wait_runs(vigil, report["id"], n)
        found = await runs(vigil, report["id"])
    ends = sorted(datetime.fromisoformat(r["to"]).astimezone(berlin) for r in found)
    assert [e.isoformat() for e in ends] == [
        "2027-03-27T09:00:00+01:00",
        "2027-03-28T09:00:00+02:00",
    ]
