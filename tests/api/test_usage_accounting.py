"""Usage through /graphql on DuckDB: points and series by any tags, queries and their CPU
time, new series, bytes per tier, the `vigil.usage.*` series, and who may see what."""

from __future__ import annotations

import time

from domain.usage.model import MINUTE_US
from tests.api.usage_support import SERIES, USAGE, iso, runner, send, usage
from tests.support import RunningVigil, token


async def test_usage_groups_points_and_series_by_any_tags(vigil: RunningVigil) -> None:
    admin = token(demo="admin")
    sent = await send(vigil, admin)
    await runner(vigil).flush(everything=True)

    whole = await usage(vigil, admin)
    (total,) = whole["totals"]
    assert (total["points"], total["activeSeries"], total["newSeries"]) == (sent, 6, 6)
    assert whole["rows"] == [
        {k: v for k, v in total.items() if k in whole["rows"][0]} | {"group": {}}
    ]

    by_team = await usage(vigil, admin, group_by=["team"])
    assert by_team["groupBy"] == ["team"]
    assert {r["group"]["team"]: (r["points"], r["activeSeries"]) for r in by_team["rows"]} == {
        "": (1, 1),
        "data": (5, 2),
        "web": (13, 3),
    }
    assert all(r["queries"] is None for r in by_team["rows"])  # project-wide only

    by_two = await usage(vigil, admin, group_by=["team", "service"])
    assert {(r["group"]["team"], r["group"]["service"]): r["points"] for r in by_two["rows"]} == {
        ("", ""): 1,
        ("data", "etl"): 5,
        ("web", "api"): 10,
        ("web", "front"): 3,
    }


async def test_queries_are_counted_with_their_cpu_and_bytes_are_sampled(
    vigil: RunningVigil,
) -> None:
    admin = token(demo="admin")
    await send(vigil, admin)
    since = iso(time.time_ns() // 1000 - 3_600_000_000)
    for _ in range(3):
        await vigil.ok(SERIES, {"p": "demo", "n": "http.requests", "from": since}, auth=admin)
    await runner(vigil).flush(everything=True)
    await runner(vigil).publish()  # the lease holder samples the bytes stored

    (total,) = (await usage(vigil, admin))["totals"]
    assert total["queries"] == 3  # the usage query itself runs after the flush
    assert total["queryCpuSeconds"] > 0
    assert total["bytesRaw"] == 19 * 16  # 19 raw points of 16 bytes
    assert (total["bytes1m"], total["bytes1h"]) == (0, 0)  # no rollup runner in tests
    assert (total["ruleEvaluations"], total["notificationsSent"]) == (0, 0)
    assert (total["analyticsCpuSeconds"], total["reportsRendered"]) == (0, 0)


async def test_usage_is_written_as_series_without_counting_itself(vigil: RunningVigil) -> None:
    admin = token(demo="admin")
    usage_runner = runner(vigil)
    minute = time.time_ns() // 1000 // MINUTE_US * MINUTE_US
    usage_runner.written_us = minute - MINUTE_US  # the lease holder wrote up to here
    sent = await send(vigil, admin)
    await usage_runner.flush(everything=True)
    # As the lease holder would once the minute of the flush is `lag` old.
    flushed = time.time_ns() // 1000 // MINUTE_US * MINUTE_US
    later = flushed + usage_runner.settings.lag_us + MINUTE_US + 1
    assert await usage_runner.publish(now_us=later) >= 1
    since = iso(minute - 60 * MINUTE_US)
    data = await vigil.ok(
        SERIES, {"p": "demo", "n": "vigil.usage.points", "from": since}, auth=admin
    )
    (line,) = data["metricSeries"]["series"]
    assert sum(v for v in line["values"] if v is not None) == sent
    data = await vigil.ok(
        SERIES, {"p": "demo", "n": "vigil.usage.series", "from": since}, auth=admin
    )
    assert [v for v in data["metricSeries"]["series"][0]["values"] if v] == [6]

    await usage_runner.flush(everything=True)
    (total,) = (await usage(vigil, admin))["totals"]
    assert total["points"] == sent  # the usage points are not usage
    assert total["newSeries"] == 6  # nor are their series new series of the project


async def test_readers_see_their_own_usage_and_system_admins_see_all(vigil: RunningVigil) -> None:
    await send(vigil, token(demo="admin"))
    await send(vigil, token(other="admin"), project="other")
    await runner(vigil).flush(everything=True)
    now = time.time_ns() // 1000
    hour_ago, soon = iso(now - 3_600_000_000), iso(now + 60_000_000)
    variables = {"p": "other", "from": hour_ago, "to": soon, "step": "3650d", "g": None}
    viewer = token(demo="viewer")
    assert (await usage(vigil, viewer))["totals"][0]["points"] == 19
    refused = await vigil.gql(USAGE, variables, auth=viewer)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    query = '{ usageAll(step: "3650d") { project totals { points } } }'
    refused = await vigil.gql(query, auth=token(demo="admin"))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    data = await vigil.ok(query, auth=token(system="admin"))
    found = {u["project"]: u["totals"][0]["points"] for u in data["usageAll"] if u["totals"]}
    assert found == {"demo": 19, "other": 19}


async def test_bad_usage_arguments_are_refused(vigil: RunningVigil) -> None:
    admin = token(demo="admin")
    now = time.time_ns() // 1000
    base = {"p": "demo", "from": iso(now), "to": iso(now + 60_000_000), "step": "1m", "g": None}
    for change, words in (
        ({"step": "0s"}, "step"),
        ({"from": iso(now + 120_000_000)}, "before"),
        ({"step": "1s", "from": iso(now - 86_400_000_000)}, "steps"),
        ({"g": ["team", "team"]}, "once"),
    ):
        body = await vigil.gql(USAGE, base | change, auth=admin)
        assert body["data"] is None, change
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert words in error["message"], error
