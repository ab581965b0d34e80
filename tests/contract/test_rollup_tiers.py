"""Rollup tiers: every tier bucket equals its recomputation from raw points, and a chart
served from tiers equals the chart from raw points, with late, out-of-order and re-sent
points and counter resets (issue 13, items 1 and 2)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, cast

import pytest

from domain.metrics.model import Aggregation, MetricType
from domain.metrics.ports import MetricStore
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesResult
from domain.storage.ports import RollupStore
from domain.storage.rollups import rollup_of
from domain.storage.tiers import HOUR, MINUTE, ROLLUP_TIERS, Tier
from tests.contract.conftest import StoreDatabase
from tests.contract.data import NOW_US, SECOND, Point, point_batch, sid_of

H = HOUR.resolution_us
M = MINUTE.resolution_us
BASE = NOW_US - 8 * H  # on a whole hour
PROJECT = "tiers"
OTHER = "elsewhere"
SERIES = [
    ("reqs", {"host": "a", "dc": "eu"}, MetricType.COUNTER),
    ("reqs", {"host": "b", "dc": "eu"}, MetricType.COUNTER),
    ("reqs", {"host": "c", "dc": "us"}, MetricType.COUNTER),
    ("temp", {"host": "a", "dc": "eu"}, MetricType.GAUGE),
    ("temp", {"host": "c", "dc": "us"}, MetricType.GAUGE),
]
SLICE = H


@pytest.fixture
def rollups(store_db: StoreDatabase) -> RollupStore:
    return cast(RollupStore, cast(Any, store_db).rollups)  # both stores have tiers


class Model:
    """What the store must hold: (project, series, timestamp) -> value, last write wins."""

    def __init__(self) -> None:
        self.points: dict[tuple[str, int, int], float] = {}
        self.names: dict[int, str] = {}

    def add(self, project: str, points: Iterable[Point]) -> None:
        for p in points:
            sid = sid_of(project, p.name, p.tags)
            self.names[sid] = p.name
            self.points[project, sid, p.ts] = p.value

    def buckets(self, project: str, tier: Tier) -> dict[tuple[int, int], list[tuple[int, float]]]:
        r = tier.resolution_us
        cells: dict[tuple[int, int], list[tuple[int, float]]] = defaultdict(list)
        for (proj, sid, ts), value in self.points.items():
            if proj == project:
                cells[sid, ts // r * r].append((ts, value))
        return cells


def series_points(rng: random.Random, start: int, end: int, *, late: bool = False) -> list[Point]:
    """Points of every series in [start, end): quarter values (sums are exact in any order),
    counters that grow and sometimes reset, gauges that wander, some stamps sent twice."""
    points = []
    for name, tags, kind in SERIES:
        ts = start + rng.randrange(0, 20 * SECOND)
        counter = rng.randrange(0, 100) * 1.0
        while ts < end:
            if kind is MetricType.COUNTER:
                counter = (
                    rng.randrange(0, 8) * 1.0
                    if rng.random() < 0.03
                    else counter + rng.randrange(0, 40) * 0.25
                )
                value = counter
            else:
                value = rng.randrange(-4000, 4000) * 0.25
            points.append(Point(name, tags, ts, value, kind))
            if rng.random() < 0.02:  # the same stamp again, a new value: last write wins
                points.append(Point(name, tags, ts, value + 1.0, kind))
            ts += rng.randrange(1, 90 if late else 45) * SECOND + rng.randrange(0, 1000)
    return points


async def append(
    metrics: MetricStore, model: Model, project: str, points: list[Point], rng: random.Random
) -> None:
    rng.shuffle(points)  # out of order within and across batches
    for i in range(0, len(points), 700):
        chunk = points[i : i + 700]
        await metrics.append(point_batch(project, chunk))
        model.add(project, chunk)


async def advance(rollups: RollupStore, tier: Tier, to_us: int) -> None:
    watermark = -1
    while watermark < to_us:
        watermark = await rollups.advance(tier, to_us, slice_us=SLICE)


async def refresh(rollups: RollupStore) -> None:
    for tier in ROLLUP_TIERS:
        while await rollups.refresh_dirty(tier, 50):
            pass
        assert await rollups.dirty_count(tier) == 0


async def check_rows(rollups: RollupStore, model: Model, watermarks: dict[str, int]) -> int:
    checked = 0
    for tier in ROLLUP_TIERS:
        watermark = watermarks[tier.name]
        expected = {
            key: rollup_of(key[0], key[1], [t for t, _ in cell], [v for _, v in cell])
            for key, cell in model.buckets(PROJECT, tier).items()
            if key[1] + tier.resolution_us <= watermark
        }
        rows = await rollups.read_rollups(tier, PROJECT, 0, NOW_US + 10 * H)
        got = {(row.series_id, row.bucket_us): row for row in rows}
        assert set(got) == set(expected), tier.name
        for key, row in expected.items():
            assert got[key] == row, (tier.name, key)
        assert [(r.series_id, r.bucket_us) for r in rows] == sorted(got)
        checked += len(rows)
    return checked


CHARTS = [
    (M, None),  # a tier row is a whole cell (tiered.py reads it without grouping)
    (H, None),
    (2 * M, None),
    (5 * M, ("dc",)),
    (15 * M, ()),
    (2 * H, None),
    (3 * H, ("dc",)),
    (None, ()),
]
# On the emulator (pure Python, ~0.3 s a chart) the tier cells of both tiers, a grouping
# and a whole-range chart; a real server (VIGIL_TEST_MONGO_URL) and DuckDB run them all.
EMULATED_CHARTS = [CHARTS[0], CHARTS[1], CHARTS[3], CHARTS[7]]
EXACT = [
    Aggregation.AVG,
    Aggregation.MIN,
    Aggregation.MAX,
    Aggregation.SUM,
    Aggregation.COUNT,
    Aggregation.LAST,
]


async def chart(
    metrics: MetricStore,
    name: str,
    start: int,
    end: int,
    step: int | None,
    group_by: tuple[str, ...] | None,
    aggregation: Aggregation,
    *,
    use_tiers: bool,
) -> SeriesResult:
    return await metrics.aggregate(
        GetMetricSeriesQuery(
            PROJECT, name, start, end, aggregation, step, group_by=group_by, use_tiers=use_tiers
        )
    )


def lines(result: SeriesResult) -> dict[tuple[tuple[str, str], ...], list[float | None]]:
    return {tuple(sorted(s.tags.items())): s.values for s in result.series}


async def check_charts(
    metrics: MetricStore, rng: random.Random, charts: list[tuple[int | None, Any]] = CHARTS
) -> set[str]:
    """Charts from tiers against charts from raw points over ranges with unaligned ends."""
    served = set()
    for n, (step, group_by) in enumerate(charts):
        start = BASE + rng.randrange(0, 40) * M + rng.randrange(0, M)
        end = NOW_US + rng.randrange(-30, 30) * M + rng.randrange(0, M)
        for name in ("reqs", "temp")[n % 2 :: 2]:
            for aggregation in EXACT:
                tiered = await chart(
                    metrics, name, start, end, step, group_by, aggregation, use_tiers=True
                )
                raw = await chart(
                    metrics, name, start, end, step, group_by, aggregation, use_tiers=False
                )
                assert raw.resolution == "raw"
                assert tiered.timestamps_us == raw.timestamps_us
                assert lines(tiered) == lines(raw), (step, group_by, aggregation)
                served.add(tiered.resolution)
            # Percentiles read raw points whatever the step (tier_choice.choose_tier).
            for aggregation in (Aggregation.P50, Aggregation.P99):
                tiered = await chart(
                    metrics, name, start, end, step, group_by, aggregation, use_tiers=True
                )
                raw = await chart(
                    metrics, name, start, end, step, group_by, aggregation, use_tiers=False
                )
                assert tiered.resolution == "raw" and lines(tiered) == lines(raw)
    return served


@pytest.mark.parametrize("seed", [1])
async def test_tiers_equal_raw_with_late_out_of_order_and_resent_points(
    metrics: MetricStore, rollups: RollupStore, seed: int, request: pytest.FixtureRequest
) -> None:
    rng = random.Random(seed)
    charts = EMULATED_CHARTS if "mongo-emulated" in request.node.name else CHARTS
    model = Model()
    await append(metrics, model, PROJECT, series_points(rng, BASE, BASE + 5 * H), rng)
    await append(metrics, model, OTHER, series_points(rng, BASE, BASE + 2 * H), rng)  # not ours
    for tier in ROLLUP_TIERS:
        await advance(rollups, tier, BASE + 4 * H)
    # Late points (both tiers' buckets), re-sent stamps with new values, and newer points.
    late = series_points(rng, BASE + 30 * M, BASE + 3 * H + 7 * M, late=True)
    resent = [Point(*k, v + 100.0) for k, v in list(model_points(model, PROJECT))[::37]]
    await append(
        metrics, model, PROJECT, late + resent + series_points(rng, BASE + 5 * H, NOW_US), rng
    )
    assert await rollups.dirty_count(MINUTE) > 0 and await rollups.dirty_count(HOUR) > 0
    # Before the runner recomputes them, dirty buckets are served from raw points.
    served = await check_charts(metrics, rng, charts)
    assert {"1m", "1h"} <= served

    await refresh(rollups)
    await advance(rollups, MINUTE, NOW_US - 2 * M)
    await advance(rollups, HOUR, NOW_US - H)
    watermarks = await rollups.watermarks()
    assert watermarks == {"1m": NOW_US - 2 * M, "1h": NOW_US - H}
    assert await check_rows(rollups, model, watermarks) > 400
    await check_charts(metrics, rng, charts)

    # Idempotent: rolling up again changes nothing.
    await rollups.roll_up(MINUTE, BASE, BASE + 2 * H)
    await rollups.roll_up(HOUR, BASE, BASE + 2 * H)
    await check_rows(rollups, model, watermarks)


def model_points(
    model: Model, project: str
) -> Iterable[tuple[tuple[str, dict[str, str], int], float]]:
    specs = {sid_of(project, name, tags): (name, tags) for name, tags, _ in SERIES}
    for (proj, sid, ts), value in sorted(model.points.items()):
        if proj == project:
            name, tags = specs[sid]
            yield (name, tags, ts), value


async def test_the_watermark_starts_at_the_oldest_point_and_jumps_over_an_empty_store(
    metrics: MetricStore, rollups: RollupStore
) -> None:
    assert await rollups.watermarks() in ({}, {"1m": 0, "1h": 0})
    first = await rollups.advance(MINUTE, NOW_US, slice_us=SLICE)
    assert first == NOW_US  # nothing stored: nothing to roll up
    await metrics.append(
        point_batch(PROJECT, [Point("temp", {"host": "a"}, BASE + 90 * M + 5, 1.0)])
    )
    assert await rollups.dirty_count(MINUTE) == 1  # older than the 1m watermark
    assert await rollups.advance(HOUR, NOW_US, slice_us=SLICE) == BASE + 2 * H  # from its hour
    assert await rollups.advance(HOUR, BASE + H, slice_us=SLICE) == BASE + 2 * H  # never back


async def test_expired_rollups_leave_newer_buckets_and_other_names(
    metrics: MetricStore, rollups: RollupStore
) -> None:
    rng = random.Random(9)
    model = Model()
    await append(metrics, model, PROJECT, series_points(rng, BASE, BASE + 4 * H), rng)
    await append(metrics, model, OTHER, series_points(rng, BASE, BASE + 4 * H), rng)
    for tier in ROLLUP_TIERS:
        await advance(rollups, tier, BASE + 4 * H)
    before = BASE + 2 * H + 30 * M
    minute_rows = await rollups.read_rollups(MINUTE, PROJECT, 0, NOW_US)
    doomed = [
        r for r in minute_rows if model.names[r.series_id] == "reqs" and r.bucket_us + M <= before
    ]
    assert await rollups.expire_rollups(MINUTE, PROJECT, before, ["reqs", "temp"], ["temp"]) == len(
        doomed
    )
    left = await rollups.read_rollups(MINUTE, PROJECT, 0, NOW_US)
    assert len(left) == len(minute_rows) - len(doomed)
    assert all(r.bucket_us + M > before for r in left if model.names[r.series_id] == "reqs")
    assert await rollups.expire_rollups(MINUTE, PROJECT, before, [], []) == 0  # no name
    assert await rollups.read_rollups(MINUTE, PROJECT, 0, NOW_US, series_ids=[]) == []
    # An hour bucket ending after `before` stays whole; every name when names is None.
    hours = await rollups.read_rollups(HOUR, PROJECT, 0, NOW_US)
    gone = await rollups.expire_rollups(HOUR, PROJECT, before, None, [])
    assert gone == sum(1 for r in hours if r.bucket_us + H <= before) > 0
    assert {r.bucket_us for r in await rollups.read_rollups(HOUR, PROJECT, 0, NOW_US)} == {
        BASE + 2 * H,
        BASE + 3 * H,
    }
    assert len(await rollups.read_rollups(HOUR, OTHER, 0, NOW_US)) == len(SERIES) * 4  # untouched


class RawKeptSince:
    """Says the raw points before `since` are gone (what retention makes true)."""

    def __init__(self, since: int) -> None:
        self.since = since

    async def raw_kept_since_us(self, project: str, name: str) -> int:
        return self.since


async def test_percentiles_past_raw_retention_come_from_the_sketches(
    metrics: MetricStore, rollups: RollupStore
) -> None:
    rng = random.Random(5)
    model = Model()
    await append(metrics, model, PROJECT, series_points(rng, BASE, BASE + 5 * H), rng)
    for tier in ROLLUP_TIERS:
        await advance(rollups, tier, BASE + 5 * H)
    biggest = max(abs(v) for v in model.points.values())
    metrics.raw_kept = RawKeptSince(BASE + 3 * H + 10 * M)
    compared = 0
    for step, group_by in [(2 * M, None), (H, ("dc",)), (None, ())]:
        for aggregation in (Aggregation.P50, Aggregation.P90, Aggregation.P99):
            args = ("reqs", BASE + 7 * M, BASE + 5 * H, step, group_by, aggregation)
            tiered = await chart(metrics, *args, use_tiers=True)
            raw = await chart(metrics, *args, use_tiers=False)
            assert tiered.resolution in ("1m", "1h"), (step, aggregation)
            exact = lines(raw)
            assert lines(tiered).keys() == exact.keys()
            for key, values in lines(tiered).items():
                for got, want in zip(values, exact[key], strict=True):
                    assert (got is None) == (want is None)
                    if got is not None and want is not None:
                        # The sketch's bound: 0.5% of the order statistics' magnitude.
                        assert abs(got - want) <= 0.005 * biggest + 1e-9, (step, aggregation)
                        compared += 1
    metrics.raw_kept = None
    # While raw points are kept, percentiles read them: exactly raw's answer.
    args = ("reqs", BASE + 7 * M, BASE + 5 * H, 2 * M, None, Aggregation.P99)
    assert lines(await chart(metrics, *args, use_tiers=True)) == lines(
        await chart(metrics, *args, use_tiers=False)
    )
    assert compared > 100


async def test_a_dirty_bucket_whose_points_retention_deleted_keeps_its_row(
    metrics: MetricStore, rollups: RollupStore, store_db: StoreDatabase
) -> None:
    """Raw retention is shorter than the 1m tier's: a bucket marked dirty whose raw points
    are then deleted must keep its row, not be recomputed from nothing."""
    temp = ("temp", {"host": "a"})
    await metrics.append(
        point_batch(PROJECT, [Point(*temp, BASE + m * M + 5, float(m)) for m in range(120)])
    )
    await advance(rollups, MINUTE, BASE + 2 * H)
    # Late points at both ends of the first two hours: marks from minute 1 to minute 100.
    late = [Point(*temp, BASE + M + 7, 50.0), Point(*temp, BASE + 100 * M + 7, 60.0)]
    await metrics.append(point_batch(PROJECT, late))
    assert await rollups.dirty_count(MINUTE) > 0
    deleted = await cast(Any, store_db).retention.expire_points(PROJECT, BASE + H, None, [])
    assert deleted == 61  # minutes 0..59 and the late point of minute 1
    await refresh(rollups)

    rows = {r.bucket_us: r for r in await rollups.read_rollups(MINUTE, PROJECT, 0, NOW_US)}
    assert len(rows) == 120  # the first hour's rows outlive their raw points
    assert rows[BASE + M].count == 1 and rows[BASE + M].max == 1.0  # as rolled up before
    assert rows[BASE + 100 * M].count == 2 and rows[BASE + 100 * M].max == 100.0
    assert rows[BASE + 100 * M].min == 60.0
