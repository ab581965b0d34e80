"""The usage runner on a DuckDB file: instances' counts add up, one instance writes the
`vigil.usage.*` series (the lease), a failed write loses nothing, rules count and read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.errors import VigilError
from domain.metrics.ingest import PointBatch, SeriesSpec, series_id
from domain.metrics.model import MetricType
from domain.usage.meter import MinuteCounts, UsageMeter
from domain.usage.model import MINUTE_US
from domain.usage.runner import LEASE, UsageRunner, UsageSettings
from infra.stores.duckdb import DuckDBDatabase
from tests.unit.fakes import FakeClock

START = 1_800_000_000 * 1_000_000 // MINUTE_US * MINUTE_US
CPU = SeriesSpec(series_id("demo", "cpu", ()), "cpu", {}, MetricType.GAUGE, "", "")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[DuckDBDatabase]:
    db = await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb"))
    await db.metrics.append(PointBatch("demo", [CPU], [0], [START], [1.0]))
    try:
        yield db
    finally:
        await db.close()


def instance(
    db: DuckDBDatabase, clock: FakeClock, name: str, written: list[tuple[str, Any]], **kw: Any
) -> UsageRunner:
    async def write(project: str, points: list[dict[str, Any]]) -> None:
        written.append((project, points))

    return UsageRunner(
        UsageMeter(clock), db.usage, db.leases, clock,
        settings=UsageSettings(owner=name, lag_us=MINUTE_US), write=write, **kw,
    )  # fmt: skip


def by_name(points: list[dict[str, Any]]) -> dict[str, float]:
    return {p["name"] + str(p["tags"].get("tier", "")): p["value"] for p in points}


async def test_two_instances_add_up_and_one_writes_the_series(database: DuckDBDatabase) -> None:
    clock = FakeClock(START)
    written: list[tuple[str, Any]] = []
    one = instance(database, clock, "one", written)
    two = instance(database, clock, "two", written)
    assert await one.publish() == 1  # takes the lease, samples the bytes stored this minute
    one.meter.count_points("demo", [{"id": CPU.id, "source": ""}], [0, 0, 0])
    two.meter.count_points("demo", [{"id": CPU.id, "source": ""}], [0, 0])
    two.meter.count_query("demo", 0.5)
    clock.advance(60)
    assert await one.flush() == 1
    assert await two.flush() == 1
    clock.advance(60)  # the minute is `lag` old: its series are written once
    assert await one.publish() == 2  # the minute before (nothing used) and this one
    assert await two.publish() == 0  # "one" holds the lease
    ((project, points),) = written
    assert project == "demo"
    assert {p["timestamp"] for p in points} == {START // 1000}
    figures = by_name(points)
    assert figures["vigil.usage.points"] == 5
    assert figures["vigil.usage.series"] == 1
    assert figures["vigil.usage.queries"] == 1
    assert figures["vigil.usage.query_cpu_seconds"] == 0.5
    assert figures["vigil.usage.bytesraw"] == 16  # one raw point stored
    clock.advance(60)
    assert await one.publish() == 1  # the next minute, once: nothing counted in it
    assert len(written) == 1  # no project used anything then


class Failing:
    """A UsageStore whose next `record` fails, as a store that is down."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.fail = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def record(self, minutes: list[MinuteCounts]) -> None:
        if self.fail:
            self.fail = False
            raise ConnectionError("store down")
        await self.inner.record(minutes)


async def test_counts_a_failed_write_held_go_with_the_next(database: DuckDBDatabase) -> None:
    clock = FakeClock(START)
    runner = UsageRunner(
        UsageMeter(clock), Failing(database.usage), database.leases, clock,
        settings=UsageSettings(owner="one"),
    )  # fmt: skip
    runner.meter.count_points("demo", [{"id": CPU.id, "source": ""}], [0])
    clock.advance(60)
    with pytest.raises(ConnectionError):
        await runner.flush()
    runner.meter.count_points("demo", [{"id": CPU.id, "source": ""}], [0, 0])
    clock.advance(60)
    assert await runner.flush() == 2
    rows = await database.usage.series_usage("demo", START, START + 2 * MINUTE_US, MINUTE_US, ())
    assert [(r.bucket_us, r.points) for r in rows] == [(START, 1), (START + MINUTE_US, 2)]


async def test_rules_count_one_evaluation_per_tick_and_read_their_metric(
    database: DuckDBDatabase,
) -> None:
    clock = FakeClock(START)
    runner = UsageRunner(
        UsageMeter(clock), database.usage, database.leases, clock,
        settings=UsageSettings(owner="one", rule_tick_seconds=10),
        rules=lambda: [("demo", "cpu"), ("demo", "cpu")],
    )  # fmt: skip
    clock.advance(60)
    await runner.flush(everything=True)
    (row,) = await database.usage.counters("demo", START, START + 2 * MINUTE_US, 2 * MINUTE_US)
    assert (row.figure, row.total) == ("rule_evaluations", 12.0)  # 2 rules x 6 ticks
    assert await database.usage.last_reads("demo") == {"cpu": START + MINUTE_US}


async def test_a_project_refusing_its_series_does_not_hold_up_the_others(
    database: DuckDBDatabase,
) -> None:
    clock = FakeClock(START)
    written: list[str] = []

    async def write(project: str, points: list[dict[str, Any]]) -> None:
        if project == "demo":
            raise Refused("past its series limit")
        written.append(project)

    runner = UsageRunner(
        UsageMeter(clock), database.usage, database.leases, clock,
        settings=UsageSettings(owner="one", lag_us=MINUTE_US), write=write,
    )  # fmt: skip
    await runner.publish()
    for project in ("demo", "other"):
        runner.meter.count_points(project, [{"id": CPU.id, "source": ""}], [0])
    clock.advance(60)
    await runner.flush()
    clock.advance(60)
    assert await runner.publish() == 2
    assert written == ["other"]
    assert runner.written_us == START  # "demo" is not retried for ever


class Refused(VigilError):
    code = "LIMIT_EXCEEDED"


async def test_the_next_lease_holder_goes_on_from_the_last_minute_written(
    database: DuckDBDatabase,
) -> None:
    clock = FakeClock(START)
    written: list[tuple[str, Any]] = []
    first = instance(database, clock, "one", written)
    await first.publish()
    first.meter.count_points("demo", [{"id": CPU.id, "source": ""}], [0])
    clock.advance(60)
    await first.flush()
    await database.leases.release_lease(LEASE, "one")  # it stops
    clock.advance(180)  # three minutes later, another instance takes the lease
    second = instance(database, clock, "two", written)
    assert await second.publish() == 4  # from where "one" stopped: START - 1 min to START + 2
    stamps = [p["timestamp"] for _, ps in written for p in ps if p["name"].endswith(".points")]
    assert stamps == [START // 1000]  # the minute "one" counted, written once
