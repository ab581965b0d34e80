"""Usage query handlers with a stub store: totals add the groups, limits answer clearly."""

from __future__ import annotations

import pytest

from domain.errors import BadUserInput
from domain.usage.model import MINUTE_US, CounterRow, NewSeriesRow, SeriesUsageRow
from domain.usage.queries import GetUsageQuery
from domain.usage.query_handlers import MAX_ROWS, usage

START = 1_800_000_000 * 1_000_000 // MINUTE_US * MINUTE_US


class Store:
    def __init__(self, rows: list[SeriesUsageRow]) -> None:
        self.rows = rows

    async def series_usage(self, *args: object) -> list[SeriesUsageRow]:
        return self.rows

    async def new_series(self, *args: object) -> list[NewSeriesRow]:
        return [NewSeriesRow(START, ("web",), 2)]

    async def counters(self, *args: object) -> list[CounterRow]:
        return [
            CounterRow(START, "queries", 4.0, 1.0),
            CounterRow(START, "bytes.raw", 300.0, 160.0),  # a gauge: the last sample
        ]


async def test_totals_add_the_groups_and_gauges_take_the_last_sample() -> None:
    store = Store([SeriesUsageRow(START, ("web",), 10, 2), SeriesUsageRow(START, ("db",), 5, 1)])
    query = GetUsageQuery("demo", START, START + MINUTE_US, MINUTE_US, ("team",))
    report = await usage(query, usage_store=store)  # type: ignore[arg-type]
    assert [(r.group, r.points, r.active_series, r.new_series) for r in report.rows] == [
        ({"team": "db"}, 5, 1, 0),
        ({"team": "web"}, 10, 2, 2),
    ]
    assert all(r.figures is None for r in report.rows)
    (total,) = report.totals
    assert (total.points, total.active_series, total.new_series) == (15, 3, 2)
    assert total.figures is not None
    assert (total.figures["queries"], total.figures["bytes.raw"]) == (4.0, 160.0)


async def test_a_usage_of_too_many_rows_is_refused_with_what_to_do() -> None:
    store = Store([SeriesUsageRow(START, (str(i),), 1, 1) for i in range(MAX_ROWS + 1)])
    query = GetUsageQuery("demo", START, START + MINUTE_US, MINUTE_US, ("host",))
    with pytest.raises(BadUserInput, match="coarser step"):
        await usage(query, usage_store=store)  # type: ignore[arg-type]
