"""A tier with one point a row (one-minute points, one-minute tier) serves charts of many
series at its own step when each line is one series: rows are read as cells, cheaper than
grouping raw points. Few series, or lines of several series, are read from raw points."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from domain.matchers import MatchOp, TagMatcher
from domain.metrics.model import Aggregation
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesResult
from domain.storage.tiers import MINUTE
from infra.stores.duckdb.aggregate import CELLS_FROM_SERIES
from infra.stores.duckdb.database import DuckDBDatabase
from tests.contract.data import NOW_US, Point, point_batch

M = 60_000_000
START = NOW_US - 3 * 60 * M


def _points() -> list[Point]:
    return [
        Point("cpu", {"host": f"h{h}", "dc": f"d{h % 2}"}, START + i * M + h, float(i * h + i % 7))
        for h in range(CELLS_FROM_SERIES)
        for i in range(180)
    ]


def _lines(result: SeriesResult) -> dict[tuple[tuple[str, str], ...], list[float | None]]:
    return {tuple(sorted(s.tags.items())): s.values for s in result.series}


async def test_one_point_a_row_serves_single_series_lines_and_equals_raw(tmp_path: Path) -> None:
    async with await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb")) as db:
        await db.metrics.append(point_batch("p", _points()))
        while await db.rollups.advance(MINUTE, NOW_US, slice_us=60 * M) < NOW_US:
            pass
        for aggregation in (Aggregation.AVG, Aggregation.MAX, Aggregation.LAST):
            for group_by, matchers, served in (
                (None, (), "1m"),
                (("host",), (), "1m"),
                (("dc",), (), "raw"),  # lines of 50 series each
                (("host",), (TagMatcher("host", MatchOp.REGEX, "h[0-9]"),), "raw"),  # 10 series
            ):
                query = GetMetricSeriesQuery(
                    "p",
                    "cpu",
                    START + 7 * M + 5,
                    NOW_US - 3 * M,
                    aggregation=aggregation,
                    step_us=M,
                    matchers=matchers,
                    group_by=group_by,
                )
                tiered = await db.metrics.aggregate(query)
                raw = await db.metrics.aggregate(replace(query, use_tiers=False))
                assert tiered.resolution == served, (aggregation, group_by)
                assert _lines(tiered) == _lines(raw) and len(tiered.series) in (2, 10, 100)
