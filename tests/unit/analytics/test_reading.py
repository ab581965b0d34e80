"""read_grids: slices of the range assembled into one grid per series; a job's reads pause
between slices so the store serves other callers meanwhile, and give way to a request that
comes in while a slice is read."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import numpy as np
import pytest

from domain.analytics import reading
from domain.analytics.model import SeriesSelector
from domain.analytics.reading import TooLarge, background, read_grids
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesData, SeriesResult
from infra.admission.inflight import InflightBudget

STEP_US = 60_000_000
SLICE_S = 0.05  # how long the fake store takes for each slice


class SlowStore:
    """Answers chart queries like the store would, taking SLICE_S per slice; a bucket's
    value is its index, and every third bucket of series "b" is empty."""

    def __init__(self) -> None:
        self.slices = 0

    async def __call__(self, query: Any) -> SeriesResult:
        assert isinstance(query, GetMetricSeriesQuery) and query.step_us == STEP_US
        self.slices += 1
        await asyncio.sleep(SLICE_S)
        first = query.start_us // STEP_US
        index = np.arange(first, query.end_us // STEP_US, dtype=np.float64)
        gaps = index.copy()
        gaps[index % 3 == 0] = np.nan
        stamps = (index * STEP_US).astype(np.int64).tolist()
        dense = cast(list[float | None], index.tolist())
        return SeriesResult(
            stamps, [SeriesData({"s": "a"}, dense), SeriesData.from_array({"s": "b"}, gaps)]
        )


async def _read(store: SlowStore, buckets: int) -> list[Any]:
    return await read_grids(
        store,
        "p",
        SeriesSelector("m"),
        start_us=0,
        end_us=buckets * STEP_US,
        step_us=STEP_US,
        max_points=10**9,
    )


async def test_slices_are_assembled_with_empty_buckets_as_nan() -> None:
    store = SlowStore()
    grids = await _read(store, 60_000)
    assert store.slices > 2
    a, b = grids
    assert np.array_equal(a.values, np.arange(60_000))
    assert np.isnan(b.values[::3]).all() and np.array_equal(b.values[1::3], np.arange(1, 60_000, 3))


async def test_a_jobs_reads_pause_between_slices_and_a_querys_do_not() -> None:
    async def timed(in_background: bool) -> tuple[float, int]:
        if in_background:
            background()
        store = SlowStore()
        started = time.monotonic()
        await _read(store, 60_000)
        return time.monotonic() - started, store.slices

    query_s, slices = await asyncio.create_task(timed(False))
    job_s, _ = await asyncio.create_task(timed(True))
    busy_s = slices * SLICE_S
    assert query_s < 1.5 * busy_s
    assert job_s >= 1.9 * busy_s  # as long again as the store worked, after each slice


class CountedStore(SlowStore):
    """Notes how many requests `inflight` had in flight as each slice started."""

    def __init__(self, inflight: InflightBudget) -> None:
        super().__init__()
        self.inflight = inflight
        self.in_flight_at_start: list[int] = []

    async def __call__(self, query: Any) -> SeriesResult:
        self.in_flight_at_start.append(self.inflight.requests)
        return await super().__call__(query)


async def test_a_jobs_slice_starts_between_requests() -> None:
    """Requests of 30 ms every 40 ms: each slice waits for the gap between two."""
    inflight = InflightBudget(max_bytes=10**9, max_requests=100, max_points=10**9)

    async def requests() -> None:
        while True:
            assert inflight.enter(0) is None
            await asyncio.sleep(0.03)
            inflight.leave(0)
            await asyncio.sleep(0.01)

    sender = asyncio.create_task(requests())
    await asyncio.sleep(0.005)  # the first request is in flight

    async def job() -> CountedStore:
        background(inflight)
        store = CountedStore(inflight)
        await _read(store, 60_000)
        return store

    try:
        store = await asyncio.create_task(job())
    finally:
        sender.cancel()
    assert store.slices > 2 and store.in_flight_at_start == [0] * store.slices


async def test_a_busy_foreground_delays_a_slice_a_bounded_time() -> None:
    inflight = InflightBudget(max_bytes=10**9, max_requests=100, max_points=10**9)
    assert inflight.enter(0) is None  # never leaves
    started = time.monotonic()
    await inflight.quiet(0.1)
    assert 0.09 <= time.monotonic() - started < 1.0
    inflight.leave(0)
    started = time.monotonic()
    await inflight.quiet(5.0)  # none in flight: at once
    assert time.monotonic() - started < 0.05


class DisturbedStore(SlowStore):
    """A request comes in 10 ms into each read that `disturb(n)` picks (n counts the
    reads, abandoned ones included) and ends 10 ms later; abandoned reads are counted."""

    def __init__(self, inflight: InflightBudget, disturb: Any) -> None:
        super().__init__()
        self.inflight = inflight
        self.disturb = disturb
        self.reads = 0
        self.abandoned = 0

    async def __call__(self, query: Any) -> SeriesResult:
        if self.disturb(self.reads):
            loop = asyncio.get_running_loop()
            loop.call_later(0.01, self.inflight.enter, 0)
            loop.call_later(0.02, self.inflight.leave, 0)
        self.reads += 1
        try:
            return await super().__call__(query)
        except asyncio.CancelledError:
            self.abandoned += 1
            raise


async def _disturbed(disturb: Any, *, in_background: bool = True) -> tuple[DisturbedStore, Any]:
    inflight = InflightBudget(max_bytes=10**9, max_requests=100, max_points=10**9)

    async def job() -> tuple[DisturbedStore, Any]:
        if in_background:
            background(inflight)
        store = DisturbedStore(inflight, disturb)
        return store, await _read(store, 30_000)

    return await asyncio.create_task(job())


async def test_a_jobs_slice_a_request_comes_into_is_abandoned_and_read_again() -> None:
    undisturbed = await _read(SlowStore(), 30_000)
    store, grids = await _disturbed(lambda n: n % 2 == 0)  # each slice's first try
    slices = store.reads - store.abandoned
    assert slices > 2 and store.abandoned == slices
    for got, expected in zip(grids, undisturbed, strict=True):
        assert got.tags == expected.tags
        assert np.array_equal(got.values, expected.values, equal_nan=True)


async def test_a_slice_is_abandoned_a_bounded_number_of_times() -> None:
    store, grids = await _disturbed(lambda n: True)  # a request comes into every try
    slices = store.reads - store.abandoned
    assert slices > 2 and store.abandoned == slices * reading.MOST_YIELDS
    assert np.array_equal(grids[0].values, np.arange(30_000))


async def test_a_querys_slices_are_never_abandoned() -> None:
    store, _ = await _disturbed(lambda n: True, in_background=False)
    assert store.abandoned == 0 and store.reads > 2


WEIGHTS = {"a": 1.0, "b": 2.0, "c": 3.0}
SPANS = {"a": (0, 10**9), "b": (0, 200), "c": (300, 10**9)}


class ShiftingStore:
    """Lines that come and go: "a" answers every slice, "b" only before bucket 200, "c"
    only from bucket 300; every other slice lists them in reverse, and every third one
    carries them as a matrix too. A bucket's value is its index times the line's weight."""

    def __init__(self) -> None:
        self.slices = 0

    async def __call__(self, query: Any) -> SeriesResult:
        self.slices += 1
        index = np.arange(query.start_us // STEP_US, query.end_us // STEP_US, dtype=np.float64)
        lines = []
        for name, (low, high) in SPANS.items():
            inside = (index >= low) & (index < high)
            if inside.any():
                lines.append((name, np.where(inside, index * WEIGHTS[name], np.nan)))
        if self.slices % 2:
            lines.reverse()
        series = [SeriesData.from_array({"s": name}, values) for name, values in lines]
        matrix = np.vstack([v for _, v in lines]) if lines and self.slices % 3 == 0 else None
        stamps = (index * STEP_US).astype(np.int64).tolist()
        return SeriesResult(stamps, series, matrix=matrix)


async def test_lines_that_come_and_go_between_slices_keep_their_own_buckets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reading, "CHUNK_VALUES", 128)  # 64-bucket slices
    store = ShiftingStore()
    grids = await _read(store, 1_000)
    assert store.slices > 10
    index = np.arange(1_000, dtype=np.float64)
    for grid in grids:
        name = grid.tags["s"]
        low, high = SPANS[name]
        inside = (index >= low) & (index < high)
        expected = np.where(inside, index * WEIGHTS[name], np.nan)
        assert np.array_equal(grid.values, expected, equal_nan=True), name
    assert [g.tags["s"] for g in grids] == ["a", "b", "c"]


async def test_a_line_past_the_limit_is_refused_with_the_points_it_would_make() -> None:
    with pytest.raises(TooLarge) as refused:
        await read_grids(
            ShiftingStore(),
            "p",
            SeriesSelector("m"),
            start_us=0,
            end_us=1_000 * STEP_US,
            step_us=STEP_US,
            max_points=2_500,  # two lines of 1,000 buckets; "c" is the third
        )
    assert (refused.value.points, refused.value.limit) == (3_000, 2_500)
