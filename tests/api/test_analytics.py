"""Analytics through /graphql on the real app: every kind answered now (HTTP), and as a job
followed over a websocket, on DuckDB and on the MongoDB emulator; limits, cancel, timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from domain.analytics.events import AnalyticsCompletedEvent
from infra.stores.duckdb import DuckDBDatabase
from tests.api.analytics_support import (
    ANALYTICS,
    CANCEL,
    COMPLETED,
    CREATE,
    DAY_S,
    END_S,
    INPUTS,
    JOB,
    JOBS,
    PROGRESS,
    SHIFT_S,
    base_input,
    iso,
    load,
    load_many,
)
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import RunningVigil, make_settings, serve, token, ws_client

ADMIN = token(demo="admin")


@dataclass
class Loaded:
    vigil: RunningVigil
    points: int


async def _duckdb(tmp_path: Path) -> Any:
    return await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb"))


@pytest.fixture(params=[_duckdb, open_mongo_emulated], ids=["duckdb", "mongo-emulated"])
async def loaded(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Loaded]:
    database = await request.param(tmp_path)
    # Generous for a loaded test machine; the sync limit itself has its own test.
    settings = make_settings(tmp_path, analytics_sync_timeout_seconds=60.0, analytics_workers=2)
    try:
        async with serve(settings, database=database) as vigil:
            yield Loaded(vigil, await load(vigil, ADMIN))
    finally:
        await database.close()


async def analyse(vigil: RunningVigil, kind: str, auth: str = ADMIN) -> dict[str, Any]:
    data = await vigil.ok(ANALYTICS, {"p": "demo", "k": kind, "i": INPUTS[kind]}, auth=auth)
    result: dict[str, Any] = data["analytics"]
    return result


def _check(kind: str, result: dict[str, Any]) -> None:
    """What a user reads from each kind's answer on the series of analytics_support."""
    items = {str(sorted(i.get("tags", {}).items())): i for i in result["items"]}
    assert result["kind"] == kind and result["skipped"] == []
    if kind == "TREND":
        h1, h2 = items["[('host', 'h1')]"], items["[('host', 'h2')]"]
        assert h1["direction"] == "increasing" and h1["significant"]
        assert h1["slopeLowPerDay"] <= 30 <= h1["slopeHighPerDay"]  # 30 per day, as built
        # One level shift is no trend once autocorrelation is accounted for (Hamed-Rao).
        assert h2["direction"] == "no trend" and not h2["significant"]
    elif kind == "SEASONALITY":
        (only,) = result["items"]
        assert only["none"] is False and only["periods"][0]["name"] == "day"
        assert len(only["periods"][0]["profile"]) > 0
    elif kind == "CHANGE_POINTS":
        (only,) = result["items"]
        (shift,) = [p for p in only["points"] if abs(_s(p["time"]) - SHIFT_S) <= 600]
        assert shift["meanAfter"] - shift["meanBefore"] == pytest.approx(40, abs=3)
        assert [m["source"] for m in shift["audit"]] == ["marker"]
        assert "deploy {app=web}" in shift["audit"][0]["summary"]
    elif kind == "FORECAST":
        for forecast in result["items"]:
            assert len(forecast["mean"]) == len(forecast["timestamps"]) == 72  # 6 h of 5 min
            assert forecast["timestamps"][0] == END_S * 1000
            assert all(
                lo <= m <= hi
                for lo, m, hi in zip(
                    forecast["lower95"], forecast["mean"], forecast["upper95"], strict=True
                )
            )
            assert forecast["scores"]["origins"] > 0 and forecast["scores"]["mase"] > 0
    elif kind == "CAPACITY":
        (only,) = result["items"]
        assert only["limitTags"] == {} and only["status"] != "already_crossed"
        # The nightly burst (+15) is no reason to say "full within a day".
        assert only["p05"] is None or _s(only["p05"]) > END_S + DAY_S
        assert only["trendCrossing"] is not None and _s(only["trendCrossing"]) > END_S + 5 * DAY_S
    elif kind == "CORRELATION":
        (only,) = result["items"]
        top = only["ranked"][0]
        assert (top["name"], top["tags"]) == ("queue.depth", {"q": "jobs"})
        assert top["statistic"] > 0.9
        assert "web.latency" not in {r["name"] for r in only["ranked"]}  # the changed metric
    elif kind == "COMPARISON":
        (only,) = result["items"]
        assert only["movers"][0]["tags"] == {"host": "h2"}
        assert only["movers"][0]["delta"] == pytest.approx(40, abs=3)
        assert only["current"]["count"] == only["baseline"]["count"] == 2 * 288


def _s(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text).timestamp()


async def test_every_kind_answers_now_over_http(loaded: Loaded) -> None:
    for kind in INPUTS:
        _check(kind, await analyse(loaded.vigil, kind))


async def test_every_kind_runs_as_a_job_followed_over_a_websocket(loaded: Loaded) -> None:
    vigil = loaded.vigil
    async with ws_client(vigil.ws_url, ADMIN) as ws:
        done = await ws.subscribe(COMPLETED, {"p": "demo"})
        await vigil.listening(AnalyticsCompletedEvent.channel_for("demo"))
        ids = {}
        for kind, spec in INPUTS.items():
            job = {"kind": kind, "input": spec}
            created = (await vigil.ok(CREATE, {"p": "demo", "job": job}, auth=ADMIN))[
                "createAnalyticsJob"
            ]
            assert created["state"] in ("QUEUED", "RUNNING")
            ids[created["id"]] = kind
        ended = {}
        while len(ended) < len(ids):
            message = await ws.next_for(done, timeout=60)
            event = message["payload"]["data"]["analyticsCompleted"]
            assert event["jobId"] not in ended, "a job completed twice"
            ended[event["jobId"]] = event
    for job_id, kind in ids.items():
        event = ended[job_id]
        assert (event["kind"], event["state"], event["error"]) == (kind, "SUCCEEDED", None)
        job = (await vigil.ok(JOB, {"p": "demo", "id": job_id}, auth=ADMIN))["analyticsJob"]
        assert (job["state"], job["progress"], job["attempt"]) == ("SUCCEEDED", 1.0, 1)
        assert job["duration"] == pytest.approx(event["duration"])
        _check(kind, job["result"])
        # The job's result is the synchronous answer: same methods, same data.
        assert job["result"]["items"] == (await analyse(vigil, kind))["items"]


async def test_a_result_is_paged_and_jobs_are_listed(loaded: Loaded) -> None:
    vigil = loaded.vigil
    job = {"kind": "TREND", "input": INPUTS["TREND"]}
    job_id = (await vigil.ok(CREATE, {"p": "demo", "job": job}, auth=ADMIN))["createAnalyticsJob"][
        "id"
    ]
    await _until_state(vigil, job_id, "SUCCEEDED")
    first = (await vigil.ok(JOB, {"p": "demo", "id": job_id, "first": 1}, auth=ADMIN))[
        "analyticsJob"
    ]["result"]
    assert first["total"] == 2 and first["pageInfo"]["hasNextPage"]
    after = first["pageInfo"]["endCursor"]
    rest = (await vigil.ok(JOB, {"p": "demo", "id": job_id, "after": after}, auth=ADMIN))[
        "analyticsJob"
    ]["result"]
    assert [i["tags"] for i in first["items"] + rest["items"]] == [{"host": "h1"}, {"host": "h2"}]
    listed = (await vigil.ok(JOBS, {"p": "demo", "state": "SUCCEEDED"}, auth=ADMIN))[
        "analyticsJobs"
    ]
    assert [j["id"] for j in listed["items"]] == [job_id]


async def _until_state(vigil: RunningVigil, job_id: str, *states: str, timeout: float = 60) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            job = (await vigil.ok(JOB, {"p": "demo", "id": job_id}, auth=ADMIN))["analyticsJob"]
            if job["state"] in states:
                return job
            await asyncio.sleep(0.1)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    settings = make_settings(
        tmp_path, analytics_sync_max_points=2_000, analytics_workers=1, analytics_max_jobs=1
    )
    async with serve(settings) as vigil:
        await load(vigil, ADMIN)
        yield vigil


async def test_a_large_synchronous_analysis_is_refused_with_a_hint_to_use_a_job(
    app: RunningVigil,
) -> None:
    body = await app.gql(ANALYTICS, {"p": "demo", "k": "TREND", "i": INPUTS["TREND"]}, auth=ADMIN)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["hint"] == "createAnalyticsJob"
    assert error["extensions"]["limit"] == 2_000
    assert "run it as a job" in error["message"]
    # The same input as a job runs.
    job = {"kind": "TREND", "input": INPUTS["TREND"]}
    job_id = (await app.ok(CREATE, {"p": "demo", "job": job}, auth=ADMIN))["createAnalyticsJob"][
        "id"
    ]
    assert (await _until_state(app, job_id, "SUCCEEDED"))["result"]["total"] == 2


@pytest.mark.parametrize(
    ("kind", "spec", "message"),
    [
        ("FORECAST", base_input("cpu"), "FORECAST needs a positive horizon"),
        ("CAPACITY", base_input("cpu", horizon="1d"), "CAPACITY needs a limit or a limit series"),
        ("TREND", base_input("cpu", step="0s"), "step must be positive"),
        ("TREND", base_input("cpu", **{"from": iso(END_S), "to": iso(END_S - 1)}), "from must"),
        ("TREND", base_input("cpu", step="1s"), "buckets per series"),
    ],
)
async def test_bad_input_is_refused_and_stores_nothing(
    app: RunningVigil, kind: str, spec: dict[str, Any], message: str
) -> None:
    job = {"kind": kind, "input": spec}
    for body in (
        await app.gql(CREATE, {"p": "demo", "job": job}, auth=ADMIN),
        await app.gql(ANALYTICS, {"p": "demo", "k": kind, "i": spec}, auth=ADMIN),
    ):
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and message in error["message"]
    listed = (await app.ok(JOBS, {"p": "demo"}, auth=ADMIN))["analyticsJobs"]
    assert listed["items"] == []


async def test_viewers_read_editors_create_and_other_projects_see_nothing(
    app: RunningVigil,
) -> None:
    viewer, stranger = token("vic", demo="viewer"), token("eve", other="admin")
    job = {"kind": "TREND", "input": INPUTS["SEASONALITY"]}
    refused = await app.gql(CREATE, {"p": "demo", "job": job}, auth=viewer)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    job_id = (await app.ok(CREATE, {"p": "demo", "job": job}, auth=ADMIN))["createAnalyticsJob"][
        "id"
    ]
    assert (await app.ok(JOB, {"p": "demo", "id": job_id}, auth=viewer))["analyticsJob"]["id"]
    foreign = await app.gql(JOB, {"p": "other", "id": job_id}, auth=stranger)
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    cancel = await app.gql(CANCEL, {"p": "other", "id": job_id}, auth=stranger)
    assert cancel["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def _cpu_seconds(pids: set[int], over: float) -> float:
    """The CPU time the processes use in the next `over` seconds (one that ends: none)."""

    def total() -> float:
        seconds = 0.0
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = psutil.Process(pid).cpu_times()
                seconds += times.user + times.system
        return seconds

    before = total()
    await asyncio.sleep(over)
    return max(0.0, total() - before)


def _workers() -> set[int]:
    """The analytics worker processes of this test process (children of its fork server)."""
    servers = [p for p in psutil.Process().children() if "forkserver" in " ".join(p.cmdline())]
    return {worker.pid for server in servers for worker in server.children()}


async def test_cancelling_a_running_job_kills_its_worker_and_a_queued_one_never_runs(
    app: RunningVigil,
) -> None:
    long = {"kind": "FORECAST", "input": await load_many(app, ADMIN, series=60, buckets=8_000)}
    running = (await app.ok(CREATE, {"p": "demo", "job": long}, auth=ADMIN))["createAnalyticsJob"]
    queued = (await app.ok(CREATE, {"p": "demo", "job": long}, auth=ADMIN))["createAnalyticsJob"]
    async with ws_client(app.ws_url, ADMIN) as ws:
        progress = await ws.subscribe(PROGRESS, {"p": "demo", "id": running["id"]})
        while True:  # until the fits run in the worker process
            message = await ws.next_for(progress, timeout=30)
            seen = message["payload"]["data"]["analyticsProgress"]
            if seen["phase"] == "computing" and 0 < seen["done"] < seen["total"] // 2:
                break
    busy = _workers()
    assert busy, "no worker process found"

    answer = (await app.ok(CANCEL, {"p": "demo", "id": queued["id"]}, auth=ADMIN))[
        "cancelAnalyticsJob"
    ]
    assert answer["state"] == "CANCELLED"
    answer = (await app.ok(CANCEL, {"p": "demo", "id": running["id"]}, auth=ADMIN))[
        "cancelAnalyticsJob"
    ]
    assert answer["cancelRequested"] is True
    job = await _until_state(app, running["id"], "CANCELLED", "SUCCEEDED", timeout=10)
    assert job["state"] == "CANCELLED"
    assert job["result"] is None and job["error"] is None and job["progress"] < 1
    # Nothing computes for the job any more: the worker running one of its series was
    # killed (and replaced), or, if the cancel came between two series, is idle. Its other
    # 50-odd series would keep it busy for seconds.
    async with asyncio.timeout(3):
        while await _cpu_seconds(busy & _workers(), over=0.5) > 0.1:
            pass
    never = (await app.ok(JOB, {"p": "demo", "id": queued["id"]}, auth=ADMIN))["analyticsJob"]
    assert (never["state"], never["startedAt"], never["attempt"]) == ("CANCELLED", None, 0)


async def test_a_job_past_its_timeout_fails_and_says_so(app: RunningVigil) -> None:
    spec = await load_many(app, ADMIN, series=60, buckets=8_000)
    long = {"kind": "FORECAST", "input": spec, "timeout": "1s"}
    job_id = (await app.ok(CREATE, {"p": "demo", "job": long}, auth=ADMIN))["createAnalyticsJob"][
        "id"
    ]
    job = await _until_state(app, job_id, "FAILED", "SUCCEEDED", timeout=30)
    assert (job["state"], job["error"]) == ("FAILED", "timed out after 1 s")
