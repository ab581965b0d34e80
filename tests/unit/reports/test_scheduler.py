"""The report scheduler with a moved clock: on-time slots run once, missed ones per the
report's policy, a dead instance's claim is taken over, DST does not move 09:00."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from domain.reports.schedule import MissedSlots, ScheduleKind, ScheduleSpec
from domain.reports.scheduler import (
    RunOutcome,
    ScheduledReport,
    Scheduler,
    SchedulerSettings,
)
from domain.reports.slots import SlotClaim, SlotStatus
from infra.reports import schedules
from tests.unit.fakes import FakeClock
from tests.unit.reports.fakes import MemorySlotStore

MIN = 60_000_000
BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, tz: ZoneInfo = BERLIN) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=tz).timestamp() * 1_000_000)


def local(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, BERLIN).isoformat()


@pytest.fixture(autouse=True)
def _parsers() -> None:
    schedules.install()


class Runs:
    """The run function: records each call and answers ok (or what a test sets)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, int]] = []
        self.status = "ok"
        self.hold: asyncio.Event | None = None

    async def __call__(self, project: str, report_id: str, trigger: str, slot: int) -> RunOutcome:
        self.calls.append((project, report_id, trigger, slot))
        if self.hold is not None:
            await self.hold.wait()
        return RunOutcome(f"run-{len(self.calls)}", self.status, "" if self.status == "ok" else "x")


def report(
    expression: str = "0 9 * * *",
    *,
    missed: MissedSlots = MissedSlots.RUN_ONCE,
    since: str = "2026-03-09T10:00",
    recipients: tuple[str, ...] = (),
) -> ScheduledReport:
    spec = ScheduleSpec(ScheduleKind.CRON, expression, "Europe/Berlin", missed)
    return ScheduledReport("demo", "r1", spec, at(since), recipients)


def scheduler(
    reports: list[ScheduledReport],
    store: MemorySlotStore,
    runs: Runs,
    clock: FakeClock,
    owner: str = "a",
    delivered: list[tuple[str, str]] | None = None,
) -> Scheduler:
    async def listed() -> list[ScheduledReport]:
        return reports

    async def deliver(r: ScheduledReport, outcome: RunOutcome, claim: SlotClaim) -> None:
        assert delivered is not None
        delivered.append((outcome.run_id, claim.trigger))

    return Scheduler(
        reports=listed,
        slots=store,
        run=runs,
        clock=clock,
        settings=SchedulerSettings(owner=owner),
        deliver=deliver if delivered is not None else None,
    )


async def test_each_slot_runs_once_on_time_and_nothing_between() -> None:
    clock, store, runs = FakeClock(at("2026-03-10T08:59")), MemorySlotStore(), Runs()
    s = scheduler([report()], store, runs, clock)
    assert await s.tick() == []
    clock.set(at("2026-03-10T09:00:05"))
    [claim] = await s.tick()
    assert (claim.status, claim.trigger, claim.run_id) == (SlotStatus.OK, "schedule", "run-1")
    for minutes in (1, 30, 600):
        clock.set(at("2026-03-10T09:00:05") + minutes * MIN)
        assert await s.tick() == []
    clock.set(at("2026-03-11T09:00:01"))
    await s.tick()
    assert [(t, local(slot)) for _, _, t, slot in runs.calls] == [
        ("schedule", "2026-03-10T09:00:00+01:00"),
        ("schedule", "2026-03-11T09:00:00+01:00"),
    ]


async def test_nine_oclock_berlin_runs_at_nine_local_through_the_spring_change() -> None:
    clock, store, runs = FakeClock(at("2026-03-27T00:00")), MemorySlotStore(), Runs()
    s = scheduler([report(since="2026-03-27T00:00")], store, runs, clock)
    while clock.now_us() < at("2026-03-31T00:00"):
        await s.tick()
        clock.advance(60)
    assert [local(slot) for *_, slot in runs.calls] == [
        "2026-03-27T09:00:00+01:00",
        "2026-03-28T09:00:00+01:00",
        "2026-03-29T09:00:00+02:00",
        "2026-03-30T09:00:00+02:00",
    ]
    assert {t for _, _, t, _ in runs.calls} == {"schedule"}


async def test_the_spring_gap_slot_runs_once_at_three_and_the_autumn_repeat_once() -> None:
    clock, store, runs = FakeClock(at("2026-03-28T12:00")), MemorySlotStore(), Runs()
    reports = [report("30 2 * * *", since="2026-03-28T12:00")]
    s = scheduler(reports, store, runs, clock)
    while clock.now_us() < at("2026-03-29T12:00"):
        await s.tick()
        clock.advance(60)
    clock.set(at("2026-10-24T12:00"))
    reports[0] = report("30 2 * * *", since="2026-10-24T12:00")
    while clock.now_us() < at("2026-10-25T12:00"):
        await s.tick()
        clock.advance(60)
    assert [local(slot) for *_, slot in runs.calls] == [
        "2026-03-29T03:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
    ]


async def test_after_downtime_run_once_runs_the_newest_missed_slot_once() -> None:
    clock, store, runs = FakeClock(at("2026-03-10T09:00:10")), MemorySlotStore(), Runs()
    delivered: list[tuple[str, str]] = []
    reports = [report(recipients=("ch-1",))]
    await scheduler(reports, store, runs, clock, delivered=delivered).tick()
    # Down from the 10th to the 14th at noon: slots of the 11th..14th were missed.
    clock.set(at("2026-03-14T12:00"))
    restarted = scheduler(reports, store, runs, clock, owner="b", delivered=delivered)
    [claim] = await restarted.tick()
    assert await restarted.tick() == []
    assert [(t, local(slot)) for _, _, t, slot in runs.calls][1:] == [
        ("catch_up", "2026-03-14T09:00:00+01:00")
    ]
    assert (claim.trigger, claim.owner) == ("catch_up", "b")
    assert delivered == [("run-1", "schedule"), ("run-2", "catch_up")]


async def test_after_downtime_skip_runs_nothing_and_records_the_skip() -> None:
    clock, store, runs = FakeClock(at("2026-03-14T12:00")), MemorySlotStore(), Runs()
    s = scheduler([report(missed=MissedSlots.SKIP, since="2026-03-10T00:00")], store, runs, clock)
    [skipped] = await s.tick()
    assert (skipped.status, local(skipped.slot_us)) == (
        SlotStatus.SKIPPED,
        "2026-03-14T09:00:00+01:00",
    )
    assert runs.calls == []
    clock.set(at("2026-03-15T09:00:30"))
    [claim] = await s.tick()
    assert claim.trigger == "schedule" and len(runs.calls) == 1


async def test_slots_before_the_schedule_was_set_never_run() -> None:
    clock, store, runs = FakeClock(at("2026-03-10T12:00")), MemorySlotStore(), Runs()
    s = scheduler([report(since="2026-03-10T11:00")], store, runs, clock)
    assert await s.tick() == []  # 09:00 today was before the report existed
    assert runs.calls == []


async def test_two_instances_ticking_together_run_each_slot_once() -> None:
    clock, store, runs = FakeClock(at("2026-03-10T08:00")), MemorySlotStore(), Runs()
    reports = [report("*/5 * * * *")]
    a = scheduler(reports, store, runs, clock, owner="a")
    b = scheduler(reports, store, runs, clock, owner="b")
    for _ in range(120):
        clock.advance(30)
        await asyncio.gather(a.tick(), b.tick())
    slots = [slot for *_, slot in runs.calls]
    assert len(slots) == 13 and len(set(slots)) == 13  # 08:00 to 09:00


async def test_a_dead_instances_claim_is_taken_over_once_it_lapses() -> None:
    clock, store, runs = FakeClock(at("2026-03-10T09:00:01")), MemorySlotStore(), Runs()
    reports = [report()]
    runs.hold = asyncio.Event()
    dying = asyncio.create_task(scheduler(reports, store, runs, clock, owner="a").tick())
    await asyncio.sleep(0.01)  # a claimed the slot and is running it; then a dies
    dying.cancel()
    runs.hold = None
    b = scheduler(reports, store, runs, clock, owner="b")
    clock.advance(60)
    assert await b.tick() == []  # a's claim holds for 10 minutes
    clock.advance(600)
    [claim] = await b.tick()
    assert (claim.owner, claim.status, local(claim.slot_us)) == (
        "b",
        SlotStatus.OK,
        "2026-03-10T09:00:00+01:00",
    )
    assert len(runs.calls) == 2 and runs.calls[0][3] == runs.calls[1][3]


async def test_a_failed_run_is_recorded_failed_and_not_delivered() -> None:
    clock, store, runs = FakeClock(at("2026-03-10T09:00:01")), MemorySlotStore(), Runs()
    runs.status = "failed"
    delivered: list[tuple[str, str]] = []
    s = scheduler([report(recipients=("ch",))], store, runs, clock, delivered=delivered)
    [claim] = await s.tick()
    assert claim.status is SlotStatus.FAILED and delivered == []
    clock.set(at("2026-03-10T09:30"))
    assert await s.tick() == []  # a failed slot is not retried by the schedule


async def test_an_ok_run_is_delivered_once() -> None:
    clock, store, runs = FakeClock(at("2026-03-10T09:00:01")), MemorySlotStore(), Runs()
    delivered: list[tuple[str, str]] = []
    s = scheduler([report(recipients=("ch",))], store, runs, clock, delivered=delivered)
    await s.tick()
    await s.tick()
    assert delivered == [("run-1", "schedule")]


async def test_old_claims_are_pruned_and_the_cursor_stays() -> None:
    clock, store, runs = FakeClock(at("2026-01-01T00:00")), MemorySlotStore(), Runs()
    s = scheduler([report(since="2026-01-01T00:00")], store, runs, clock)
    while clock.now_us() < at("2026-05-01T00:00"):  # 120 daily slots
        await s.tick()
        clock.advance(3600)
    assert len(runs.calls) == 120
    kept = sorted(slot for *_, slot in store.rows)
    assert local(kept[0]) >= "2026-01-31" and len(kept) <= 91
    assert local(kept[-1]) == "2026-04-30T09:00:00+02:00"


async def test_a_slot_that_came_while_running_runs_even_if_the_tick_is_late() -> None:
    # SKIP is about downtime: a tick delayed by other reports' runs still runs the slot.
    clock, store, runs = FakeClock(at("2026-03-10T08:00")), MemorySlotStore(), Runs()
    s = scheduler([report(missed=MissedSlots.SKIP)], store, runs, clock)
    assert await s.tick() == []
    clock.set(at("2026-03-10T09:20"))  # no tick for 80 minutes, but never down
    [claim] = await s.tick()
    assert (claim.status, claim.trigger) == (SlotStatus.OK, "schedule")


async def test_a_skip_left_unrecorded_by_a_dead_instance_is_recorded_not_run() -> None:
    clock, store, runs = FakeClock(at("2026-03-14T12:00")), MemorySlotStore(), Runs()
    reports = [report(missed=MissedSlots.SKIP)]
    dead = SlotClaim("demo", "r1", at("2026-03-14T09:00"), "dead", "catch_up", clock.now_us())
    assert await store.claim_slot(dead, until_us=clock.now_us() + 1)
    clock.advance(60)
    assert await scheduler(reports, store, runs, clock, owner="b").tick() == []
    [stored] = await store.slot_claims("demo", "r1", first=5)
    assert (stored.status, stored.owner, runs.calls) == (SlotStatus.SKIPPED, "b", [])


async def test_a_run_recorded_by_a_dead_instance_is_not_run_again() -> None:
    clock, store, runs = FakeClock(at("2026-03-10T09:00:30")), MemorySlotStore(), Runs()
    slot = at("2026-03-10T09:00")
    dead = SlotClaim("demo", "r1", slot, "dead", "schedule", clock.now_us())
    assert await store.claim_slot(dead, until_us=clock.now_us() + 1)

    async def ran(project: str, report_id: str, slot_us: int) -> RunOutcome | None:
        return RunOutcome("run-of-dead", "ok") if slot_us == slot else None

    async def listed() -> list[ScheduledReport]:
        return [report()]

    clock.advance(60)
    s = Scheduler(
        reports=listed,
        slots=store,
        run=runs,
        clock=clock,
        settings=SchedulerSettings(owner="b"),
        ran=ran,
    )
    await s.tick()
    [stored] = await store.slot_claims("demo", "r1", first=5)
    assert (stored.status, stored.run_id, runs.calls) == (SlotStatus.OK, "run-of-dead", [])
