"""Point lists: newest first, keyset pages, filters by name, time and tag matchers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.matchers import MatchOp, TagMatcher
from domain.metrics.model import decode_point_id
from domain.metrics.ports import MetricStore
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery
from tests.contract.data import MINUTE, NOW_US, SECOND, Point, point_batch, sid_of

HOSTS = ["web-1", "web-2", "db-1"]


async def walk(metrics: MetricStore, query: GetMetricsListQuery) -> list[tuple[int, int]]:
    """Every (timestamp, series id) of a query, page by page, checking has_next_page."""
    seen: list[tuple[int, int]] = []
    after = None
    while True:
        page = await metrics.list_points(replace(query, after=after))
        keys = []
        for item in page.items:
            decoded = decode_point_id(item.id)
            assert decoded is not None
            keys.append((decoded[1], decoded[0]))
        seen += keys
        if not page.has_next_page:
            return seen
        assert len(page.items) == query.first
        after = keys[-1]


@pytest.fixture
async def loaded(metrics: MetricStore) -> list[Point]:
    """Three hosts reporting on the same seconds (ties on time), plus noise elsewhere."""
    points = [
        Point("cpu", {"host": host}, NOW_US + s * SECOND, float(s))
        for s in range(20)
        for host in HOSTS
    ]
    points.append(Point("cpu", {}, NOW_US + 5 * SECOND, 99.0))  # a series without tags
    await metrics.append(point_batch("alpha", points))
    await metrics.append(point_batch("alpha", [Point("mem", {"host": "web-1"}, NOW_US, 1.0)]))
    await metrics.append(point_batch("beta", [Point("cpu", {"host": "web-1"}, NOW_US, 1.0)]))
    return points


@pytest.mark.parametrize("first", [1, 7, 61, 100])
async def test_pages_cover_every_point_once_newest_first(
    metrics: MetricStore, loaded: list[Point], first: int
) -> None:
    seen = await walk(metrics, GetMetricsListQuery("alpha", name="cpu", first=first))

    expected = sorted(((p.ts, sid_of("alpha", p.name, p.tags)) for p in loaded), reverse=True)
    assert seen == expected


async def test_without_a_name_every_metric_of_the_project_is_listed(
    metrics: MetricStore, loaded: list[Point]
) -> None:
    assert len(await walk(metrics, GetMetricsListQuery("alpha", first=10))) == len(loaded) + 1
    assert len(await walk(metrics, GetMetricsListQuery("beta", first=10))) == 1
    assert await walk(metrics, GetMetricsListQuery("gamma")) == []


async def test_time_range_includes_start_and_excludes_end(
    metrics: MetricStore, loaded: list[Point]
) -> None:
    start, end = NOW_US + 3 * SECOND, NOW_US + 6 * SECOND
    query = GetMetricsListQuery("alpha", name="cpu", start_us=start, end_us=end, first=5)

    seen = await walk(metrics, query)

    assert sorted({ts for ts, _ in seen}) == [start, start + SECOND, start + 2 * SECOND]
    assert len(seen) == 3 * len(HOSTS) + 1


async def test_the_last_page_has_no_next_page(metrics: MetricStore, loaded: list[Point]) -> None:
    page = await metrics.list_points(GetMetricsListQuery("alpha", name="mem", first=1))
    assert (len(page.items), page.has_next_page) == (1, False)
    page = await metrics.list_points(GetMetricsListQuery("alpha", name="nothing"))
    assert (page.items, page.has_next_page) == ([], False)


MATCHER_CASES = [
    ([TagMatcher("host", MatchOp.EQ, "web-1")], {"web-1"}),
    ([TagMatcher("host", MatchOp.NEQ, "web-1")], {"web-2", "db-1", ""}),
    ([TagMatcher("host", MatchOp.EQ, "")], {""}),
    ([TagMatcher("host", MatchOp.REGEX, "web-.*")], {"web-1", "web-2"}),
    ([TagMatcher("host", MatchOp.REGEX, "web")], set()),  # a regex matches the whole value
    ([TagMatcher("host", MatchOp.REGEX, "web-1|db-1")], {"web-1", "db-1"}),
    ([TagMatcher("host", MatchOp.NOT_REGEX, "web-.*")], {"db-1", ""}),
    ([TagMatcher("host", MatchOp.NOT_REGEX, "-1")], {"web-1", "web-2", "db-1", ""}),
    (
        [TagMatcher("host", MatchOp.REGEX, ".*-1"), TagMatcher("host", MatchOp.NEQ, "db-1")],
        {"web-1"},
    ),
]


@pytest.mark.parametrize(("matchers", "hosts"), MATCHER_CASES)
async def test_tag_matchers_select_series_in_lists_and_charts(
    metrics: MetricStore, loaded: list[Point], matchers: list[TagMatcher], hosts: set[str]
) -> None:
    page = await metrics.list_points(
        GetMetricsListQuery("alpha", name="cpu", matchers=tuple(matchers), first=1000)
    )
    chart = await metrics.aggregate(
        GetMetricSeriesQuery("alpha", "cpu", NOW_US, NOW_US + MINUTE, matchers=tuple(matchers))
    )

    assert {item.tags.get("host", "") for item in page.items} == hosts
    assert {s.tags.get("host", "") for s in chart.series} == hosts
