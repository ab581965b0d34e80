"""Charts: every aggregation against numpy, grouping, dense buckets and a single bucket."""

from __future__ import annotations

import random

import pytest

from domain.metrics.model import Aggregation
from domain.metrics.ports import MetricStore
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesResult
from tests.contract.data import MINUTE, NOW_US, SECOND, Point, point_batch, reference

NAME = "http.latency"
STEP = 5 * MINUTE
START = NOW_US + 90 * SECOND  # not on a bucket boundary: the first bucket starts at NOW_US
END = NOW_US + 30 * MINUTE
GAP = range(NOW_US + 10 * MINUTE, NOW_US + 20 * MINUTE)  # no series reports in here
SERIES = [
    {"host": "a", "region": "eu"},
    {"host": "b", "region": "eu"},
    {"host": "c", "region": "us"},
    {"host": "d"},  # no region: groups under region ""
]
GROUPINGS = [None, ("region",), ()]


def make_points() -> list[Point]:
    rng = random.Random(5)
    points = []
    for n, tags in enumerate(SERIES):
        ts = NOW_US + n * 1_013  # offsets per series: no two series share a timestamp
        while ts < END + MINUTE:
            if ts not in GAP:
                points.append(Point(NAME, tags, ts, round(rng.lognormvariate(3, 1), 3)))
            ts += rng.randint(20, 50) * SECOND
    return points


POINTS = make_points()


@pytest.fixture(autouse=True)
async def loaded(metrics: MetricStore) -> None:
    # Sent in several batches, as collectors would, interleaving the series.
    for i in range(0, len(POINTS), 37):
        await metrics.append(point_batch("alpha", POINTS[i : i + 37]))
    old = [Point(NAME, {"host": "e", "region": "eu"}, NOW_US - MINUTE, 1.0)]
    other = [Point("http.errors", {"host": "a", "region": "eu"}, NOW_US + SECOND, 1e6)]
    await metrics.append(point_batch("alpha", old + other))
    await metrics.append(point_batch("beta", [Point(NAME, SERIES[0], NOW_US + SECOND, 1e9)]))


def assert_chart(
    result: SeriesResult,
    expected: tuple[list[int], dict[tuple[tuple[str, str], ...], list[float | None]]],
) -> None:
    starts, by_tags = expected
    assert result.timestamps_us == starts
    got = {tuple(sorted(s.tags.items())): s.values for s in result.series}
    assert len(got) == len(result.series)
    assert got.keys() == by_tags.keys()
    for key, values in by_tags.items():
        assert [v is None for v in got[key]] == [v is None for v in values], key
        assert [v for v in got[key] if v is not None] == pytest.approx(
            [v for v in values if v is not None], rel=1e-9
        )


@pytest.mark.parametrize("group_by", GROUPINGS, ids=["per-series", "by-region", "all"])
@pytest.mark.parametrize("aggregation", list(Aggregation))
async def test_each_aggregation_matches_numpy(
    metrics: MetricStore, aggregation: Aggregation, group_by: tuple[str, ...] | None
) -> None:
    result = await metrics.aggregate(
        GetMetricSeriesQuery("alpha", NAME, START, END, aggregation, STEP, group_by=group_by)
    )

    assert_chart(
        result,
        reference(
            POINTS, start=START, end=END, step=STEP, aggregation=aggregation, group_by=group_by
        ),
    )


@pytest.mark.parametrize("group_by", GROUPINGS, ids=["per-series", "by-region", "all"])
@pytest.mark.parametrize("aggregation", [Aggregation.AVG, Aggregation.LAST, Aggregation.P99])
async def test_no_step_gives_one_bucket_over_the_range(
    metrics: MetricStore, aggregation: Aggregation, group_by: tuple[str, ...] | None
) -> None:
    result = await metrics.aggregate(
        GetMetricSeriesQuery("alpha", NAME, START, END, aggregation, None, group_by=group_by)
    )

    assert result.timestamps_us == [START]
    assert_chart(
        result,
        reference(
            POINTS, start=START, end=END, step=None, aggregation=aggregation, group_by=group_by
        ),
    )


async def test_buckets_are_dense_with_none_where_empty(metrics: MetricStore) -> None:
    result = await metrics.aggregate(
        GetMetricSeriesQuery("alpha", NAME, START, END, Aggregation.COUNT, STEP)
    )

    assert result.timestamps_us == list(range(NOW_US, END, STEP))
    assert all(ts % STEP == 0 for ts in result.timestamps_us)
    assert len(result.series) == len(SERIES)
    for series in result.series:
        assert len(series.values) == len(result.timestamps_us)
        assert series.values[2] is None and series.values[3] is None  # the gap
        assert all(v is not None for i, v in enumerate(series.values) if i not in (2, 3))


async def test_grouped_tags_are_the_group_tags_only(metrics: MetricStore) -> None:
    by_region = await metrics.aggregate(
        GetMetricSeriesQuery("alpha", NAME, START, END, step_us=STEP, group_by=("region",))
    )
    everything = await metrics.aggregate(
        GetMetricSeriesQuery("alpha", NAME, START, END, step_us=STEP, group_by=())
    )

    assert sorted(s.tags["region"] for s in by_region.series) == ["", "eu", "us"]
    assert all(list(s.tags) == ["region"] for s in by_region.series)
    assert [s.tags for s in everything.series] == [{}]


async def test_charts_see_only_their_project_and_metric(metrics: MetricStore) -> None:
    beta = await metrics.aggregate(
        GetMetricSeriesQuery("beta", NAME, NOW_US, END, Aggregation.MAX, group_by=())
    )
    alpha = await metrics.aggregate(
        GetMetricSeriesQuery("alpha", NAME, NOW_US, END, Aggregation.MAX, group_by=())
    )
    gamma = await metrics.aggregate(GetMetricSeriesQuery("gamma", NAME, NOW_US, END))

    assert [s.values for s in beta.series] == [[1e9]]
    assert alpha.series[0].values[0] is not None and alpha.series[0].values[0] < 1e6
    assert gamma.series == []


async def test_series_without_points_in_range_are_left_out(metrics: MetricStore) -> None:
    result = await metrics.aggregate(GetMetricSeriesQuery("alpha", NAME, START, END))

    assert {s.tags["host"] for s in result.series} == {"a", "b", "c", "d"}
