"""Analytics jobs with several instances: two real apps sharing one store and the real Redis
bus. Each job runs exactly once, whichever instance received it; a project's concurrency
bound holds across instances; a job whose instance stops is finished by the other.
The two apps run in one process because they share one embedded store (see
test_alerting_cluster.py); everything between them goes through the store and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from domain.analytics.events import AnalyticsCompletedEvent
from domain.analytics.model import AnalyticsJob, JobState
from infra.config import Settings
from infra.stores.duckdb import DuckDBDatabase
from tests.api.analytics_support import COMPLETED, CREATE, INPUTS, load, load_many
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import make_settings, serve, token, ws_client

pytestmark = pytest.mark.redis

JOBS = 8


async def _duckdb(tmp_path: Path) -> Any:
    return await DuckDBDatabase.open(str(tmp_path / "shared.duckdb"))


Opener = Callable[[Path], Awaitable[Any]]


@pytest.fixture(params=[_duckdb, open_mongo_emulated], ids=["duckdb", "mongo-emulated"])
async def shared(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    database = await request.param(tmp_path)
    try:
        yield database
    finally:
        await database.close()


def settings_for(tmp_path: Path, name: str, lease_seconds: float = 1.5) -> Settings:
    """Short leases let a takeover happen quickly; a test that must see no takeover passes
    longer ones, so a renewal held up on a loaded machine does not count as a death."""
    base = make_settings(
        tmp_path,
        bus_url="redis://127.0.0.1:6379/0",
        analytics_lease_seconds=lease_seconds,
        analytics_poll_seconds=0.2,
        analytics_max_jobs=2,
        analytics_max_jobs_per_project=1,
        analytics_workers=1,
        analytics_sync_timeout_seconds=60.0,
    )
    return replace(base, instance=f"{name}-{uuid.uuid4().hex[:6]}")


async def stored(database: Any, project: str, job_id: str) -> AnalyticsJob:
    job = await database.analytics.get_job(project, job_id, now_us=0)
    assert job is not None
    return job  # type: ignore[no-any-return]


async def test_each_job_runs_once_and_a_project_runs_one_at_a_time(
    shared: Any, tmp_path: Path
) -> None:
    project = f"p-{uuid.uuid4().hex[:6]}"
    auth = token(**{project: "admin"})
    async with (
        serve(settings_for(tmp_path, "a", lease_seconds=10), database=shared) as a,
        serve(settings_for(tmp_path, "b", lease_seconds=10), database=shared) as b,
    ):
        await load(a, auth, project)
        async with ws_client(a.ws_url, auth) as on_a, ws_client(b.ws_url, auth) as on_b:
            subs = [await ws.subscribe(COMPLETED, {"p": project}) for ws in (on_a, on_b)]
            for via in (a, b):
                await via.listening(AnalyticsCompletedEvent.channel_for(project))
            ids = []
            for i in range(JOBS):  # half through each instance
                via = (a, b)[i % 2]
                job = {"kind": "TREND", "input": INPUTS["TREND"]}
                created = await via.ok(CREATE, {"p": project, "job": job}, auth=auth)
                ids.append(created["createAnalyticsJob"]["id"])
            seen: list[list[str]] = [[], []]
            for ws, op, found in zip((on_a, on_b), subs, seen, strict=True):
                while len(found) < JOBS:
                    message = await ws.next_for(op, timeout=60)
                    found.append(message["payload"]["data"]["analyticsCompleted"]["jobId"])
                with contextlib.suppress(TimeoutError):  # and nothing more: no second run
                    extra = await ws.next_for(op, timeout=1.0)
                    raise AssertionError(f"a job completed twice: {extra}")
    assert sorted(seen[0]) == sorted(seen[1]) == sorted(ids)
    jobs = [await stored(shared, project, i) for i in ids]
    assert all(j.state is JobState.SUCCEEDED and j.attempt == 1 for j in jobs)
    # One slot for the project across both instances: no two runs overlapped in time.
    spans = sorted((j.started_us or 0, j.finished_us or 0) for j in jobs)
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))
    assert {j.owner for j in jobs} <= {
        a.app.state.vigil.settings.instance_name,
        b.app.state.vigil.settings.instance_name,
    }


async def test_a_job_whose_instance_stops_is_finished_by_the_other(
    shared: Any, tmp_path: Path
) -> None:
    project = f"p-{uuid.uuid4().hex[:6]}"
    auth = token(**{project: "admin"})
    async with serve(settings_for(tmp_path, "b"), database=shared) as b:
        b_runner = b.app.state.vigil.runtimes.analytics.runner
        async with serve(settings_for(tmp_path, "a"), database=shared) as a:
            spec = await load_many(a, auth, series=30, buckets=3_000, project=project)
            # Only A may take it: B is at its limit of jobs until A has it.
            b_runner.settings = replace(b_runner.settings, max_jobs=0)
            created = await a.ok(
                CREATE, {"p": project, "job": {"kind": "FORECAST", "input": spec}}, auth=auth
            )
            job_id = created["createAnalyticsJob"]["id"]
            a_runner = a.app.state.vigil.runtimes.analytics.runner
            async with asyncio.timeout(30):
                while job_id not in a_runner.running:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            b_runner.settings = replace(b_runner.settings, max_jobs=2)
        # A stopped mid-job: its leases were given back, the job stays RUNNING, B takes it.
        async with asyncio.timeout(120):
            while (job := await stored(shared, project, job_id)).state is not JobState.SUCCEEDED:
                assert job.state in (JobState.RUNNING, JobState.QUEUED), job.error
                await asyncio.sleep(0.1)
    assert job.attempt == 2 and job.owner == b.app.state.vigil.settings.instance_name
    assert job.result_count == 30
