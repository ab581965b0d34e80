"""Usage with two instances sharing one store: each counts what it ingested, the counts
add up, and the `vigil.usage.*` series are written once, by the lease holder. Both apps
run in this process because they share one embedded store (see test_alerting_cluster.py);
all that passes between them goes through the store."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.usage.model import MINUTE_US
from infra.stores.duckdb import DuckDBDatabase
from tests.api.usage_support import SERIES, iso, runner, send, usage
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import make_settings, serve, token


async def _duckdb(tmp_path: Path) -> Any:
    return await DuckDBDatabase.open(str(tmp_path / "shared.duckdb"))


@pytest.fixture(params=[_duckdb, open_mongo_emulated], ids=["duckdb", "mongo-emulated"])
async def shared(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    database = await request.param(tmp_path)
    try:
        yield database
    finally:
        await database.close()


async def test_two_instances_add_up_and_write_the_series_once(tmp_path: Path, shared: Any) -> None:
    admin = token(demo="admin")
    async with contextlib.AsyncExitStack() as stack:
        apps = [
            await stack.enter_async_context(
                serve(make_settings(tmp_path / name, instance=name), database=shared)
            )
            for name in ("a", "b")
        ]
        minute = time.time_ns() // 1000 // MINUTE_US * MINUTE_US
        sent = [await send(app, admin) for app in apps]
        runners = [runner(app) for app in apps]
        for usage_runner in runners:
            usage_runner.written_us = minute - MINUTE_US
            await usage_runner.flush(everything=True)
        (total,) = (await usage(apps[1], admin))["totals"]
        assert total["points"] == sum(sent)  # b answers for both
        assert total["activeSeries"] == 6  # the same six series, sent to each

        flushed = time.time_ns() // 1000 // MINUTE_US * MINUTE_US
        later = flushed + runners[0].settings.lag_us + MINUTE_US + 1
        written = [await r.publish(now_us=later) for r in runners]
        assert sorted(w > 0 for w in written) == [False, True]  # one lease holder
        asked = {"p": "demo", "n": "vigil.usage.points", "from": iso(minute - MINUTE_US)}
        data = await apps[0].ok(SERIES, asked, auth=admin)
        (line,) = data["metricSeries"]["series"]
        assert sum(v for v in line["values"] if v is not None) == sum(sent)
