"""The storage bench's pure parts: the MetricsQL equivalent of each chart query, the bucket
alignment between the two, the value-by-value comparison, and the table."""

from __future__ import annotations

from bench.storage_bodies import gauges
from bench.storage_cases import Case, compare, from_victoria, from_vigil
from bench.storage_table import Row, render, rows_of

MIN = 60_000
START = 1_700_000_012_345  # not on a minute
END = START + 10 * MIN


def test_one_series_average_asks_each_bucket_at_its_last_millisecond() -> None:
    case = Case("a", "a", "bench.metric", "AVG", START, END, MIN, lines="one", series_tag="s7")
    path, params = case.victoria_request()
    first = START - START % MIN
    assert path == "/api/v1/query_range"
    assert params["query"] == 'avg_over_time({__name__="bench.metric",series="s7"}[60000ms])'
    # The window (t - 60 s, t] at t = b + 59.999 s reads exactly Vigil's bucket [b, b + 60 s).
    assert params["start"] == f"{(first + MIN - 1) // 1000}.999"
    assert case.buckets == 11  # [first, END) in whole minutes, the last one partial
    assert params["end"] == f"{(first + 11 * MIN - 1) // 1000}.999"
    assert params["step"] == "60000ms" and params["nocache"] == "1"
    assert case.vigil_variables("p")["matchers"] == [{"key": "series", "op": "EQ", "value": "s7"}]
    assert case.vigil_variables("p")["step"] == "1m"


def test_each_shape_has_its_metricsql() -> None:
    every = Case("b", "b", "m", "AVG", START, END, 5 * MIN, lines="all")
    by_tag = Case("c", "c", "m", "MAX", START, END, 10 * MIN)
    last = Case("d", "d", "m", "LAST", START, END)
    assert every.metricsql() == 'avg(avg_over_time({__name__="m"}[300000ms]))'
    assert every.vigil_variables("p")["groupBy"] == []
    assert by_tag.metricsql() == 'max by (series) (max_over_time({__name__="m"}[600000ms]))'
    assert by_tag.vigil_variables("p")["groupBy"] == ["series"]
    assert last.metricsql() == f'last_over_time({{__name__="m"}}[{END - START}ms])'
    path, params = last.victoria_request()
    assert (
        path == "/api/v1/query" and params["time"] == f"{(END - 1) // 1000}.{(END - 1) % 1000:03d}"
    )
    assert "step" not in last.vigil_variables("p") and "groupBy" not in last.vigil_variables("p")


def test_answers_meet_on_bucket_starts_and_mismatches_are_counted() -> None:
    case = Case("c", "c", "m", "MAX", START, END, 10 * MIN)
    first = case.first_ms
    vigil = {
        "timestamps": [first, first + 10 * MIN],
        "series": [
            {"tags": {"series": "s0"}, "values": [1.5, None]},
            {"tags": {"series": "s1"}, "values": [2.0, 3.0]},
        ],
    }
    shift = 10 * MIN - 1
    peer = {
        "data": {
            "result": [
                {"metric": {"series": "s0"}, "values": [[(first + shift) / 1000, "1.5"]]},
                {
                    "metric": {"series": "s1"},
                    "values": [
                        [(first + shift) / 1000, "2"],
                        [(first + 10 * MIN + shift) / 1000, "3.5"],
                    ],
                },
            ]
        }
    }
    ours, theirs = from_vigil(case, vigil), from_victoria(case, peer)
    assert ours[("s1", first + 10 * MIN)] == 3.0 and theirs[("s1", first + 10 * MIN)] == 3.5
    assert compare(ours, theirs) == {
        "values": 3,
        "peer_values": 3,
        "differ": 1,
        "only_vigil": 0,
        "only_peer": 0,
        "mismatches": 1,
    }
    theirs.pop(("s0", first))
    assert compare(ours, theirs)["only_vigil"] == 1


def test_the_table_judges_ratio_and_absolute_targets() -> None:
    result = {
        "vigil": {
            "ingest": {"cpu_us_per_point": 4.0, "visible_after_ms": 20.0},
            "disk": {"bytes_per_point": 15.0},
            "after_queries": {"rss_mb": 300.0, "children_rss_mb": 100.0},
        },
        "victoria_metrics": {
            "ingest": {"cpu_us_per_point": 1.0, "visible_after_ms": 2000.0},
            "disk": {"bytes_per_point": 1.5},
            "after_queries": {"rss_mb": 100.0, "children_rss_mb": 0.0},
        },
        "cases": {
            "a_x": {"label": "one", "vigil_ms": 1.2, "victoria_metrics_ms": 0.3},
            "d_x": {"label": "last", "vigil_ms": 30.0, "victoria_metrics_ms": 10.0},
        },
    }
    rows = rows_of(result, {"a_x": (None, 1.5), "d_x": (2.0, None)})
    by_name = {row.figure: row for row in rows}
    assert by_name["disk per point (1M points)"].met is False  # 10x against <= 3x
    assert by_name["a. one"].met is True  # 1.2 ms against <= 1.5 ms, whatever the ratio
    assert by_name["d. last"].met is False  # 3x against <= 2x
    assert by_name["RSS after ingest and queries"].ratio == 3.0
    assert by_name["ingest, server CPU per point"].met is None  # reported only
    table = render(rows)
    assert "| d. last | 10.0 ms | 30.0 ms | 3.00x | <= 2.00x VM | **no** |" in table
    assert "| a. one | 0.3 ms | 1.20 ms | 4.00x | <= 1.50 ms | yes |" in table


def test_a_missing_peer_leaves_ratios_empty() -> None:
    row = Row("disk", "B", None, 15.0, max_ratio=3.0)
    assert row.ratio is None and row.met is None
    assert render([row]).endswith("| disk | - | 15.0 B |  | <= 3.00x VM |  |")


def test_gauges_are_the_same_every_run_and_have_two_decimals() -> None:
    values = gauges(3, 50, seed=13)
    assert values == gauges(3, 50, seed=13)
    assert len(values) == 3 and all(len(row) == 50 for row in values)
    assert all(round(v, 2) == v for row in values for v in row)
    assert len({v for row in values for v in row}) > 100  # not a constant step
