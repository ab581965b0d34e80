"""A chart's lines are found again read after read (the store keeps the last few series
groupings): what it keeps must never stand for another set of series, another grouping or
another project's series."""

from __future__ import annotations

from pathlib import Path

from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesResult
from infra.stores.duckdb.database import DuckDBDatabase
from tests.contract.data import NOW_US, Point, point_batch

M = 60_000_000
START = NOW_US - 10 * M


def _points(hosts: range, scale: float = 1.0) -> list[Point]:
    return [
        Point("cpu", {"host": f"h{h}", "dc": f"d{h % 2}"}, START + i * M, scale * (10 * h + i))
        for h in hosts
        for i in range(5)
    ]


def _query(project: str, group_by: tuple[str, ...] | None = None) -> GetMetricSeriesQuery:
    return GetMetricSeriesQuery(
        project, "cpu", START, START + 5 * M, step_us=M, group_by=group_by, use_tiers=False
    )


def _lines(result: SeriesResult) -> dict[str, list[float | None]]:
    return {
        ",".join(f"{k}={v}" for k, v in sorted(s.tags.items())): s.values for s in result.series
    }


async def test_a_series_added_between_two_reads_is_in_the_second(tmp_path: Path) -> None:
    async with await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb")) as db:
        await db.metrics.append(point_batch("p", _points(range(3))))
        first = _lines(await db.metrics.aggregate(_query("p")))
        assert _lines(await db.metrics.aggregate(_query("p"))) == first
        await db.metrics.append(point_batch("p", _points(range(3, 4))))
        again = _lines(await db.metrics.aggregate(_query("p")))
    assert len(first) == 3
    assert again == first | {"dc=d1,host=h3": [30.0, 31.0, 32.0, 33.0, 34.0]}


async def test_each_grouping_of_the_same_series_has_its_own_lines(tmp_path: Path) -> None:
    async with await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb")) as db:
        await db.metrics.append(point_batch("p", _points(range(4))))
        apart = _lines(await db.metrics.aggregate(_query("p")))
        by_dc = _lines(await db.metrics.aggregate(_query("p", ("dc",))))
        by_host = _lines(await db.metrics.aggregate(_query("p", ("host",))))
        assert _lines(await db.metrics.aggregate(_query("p"))) == apart
    assert by_dc == {
        "dc=d0": [10.0, 11.0, 12.0, 13.0, 14.0],
        "dc=d1": [20.0, 21.0, 22.0, 23.0, 24.0],
    }
    assert by_host["host=h3"] == [30.0, 31.0, 32.0, 33.0, 34.0] and len(apart) == len(by_host) == 4


async def test_two_projects_read_their_own_series(tmp_path: Path) -> None:
    async with await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb")) as db:
        await db.metrics.append(point_batch("p", _points(range(3))))
        await db.metrics.append(point_batch("q", _points(range(1, 4), scale=-1.0)))
        mine = _lines(await db.metrics.aggregate(_query("p")))
        theirs = _lines(await db.metrics.aggregate(_query("q")))
    assert sorted(mine) == ["dc=d0,host=h0", "dc=d0,host=h2", "dc=d1,host=h1"]
    assert sorted(theirs) == ["dc=d0,host=h2", "dc=d1,host=h1", "dc=d1,host=h3"]
    assert mine["dc=d0,host=h2"] == [20.0, 21.0, 22.0, 23.0, 24.0]
    assert theirs["dc=d0,host=h2"] == [-20.0, -21.0, -22.0, -23.0, -24.0]
