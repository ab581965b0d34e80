"""The analytics job queue's own costs (decision 0018): what one poll of the store costs on
DuckDB holding many finished jobs, and how long a job waits between `createAnalyticsJob`
and its start on the instance that stored it (measured by `analytics_serving`).

A poll is what every instance does each `VIGIL_ANALYTICS_POLL_SECONDS`: the runnable jobs
(`runnable_jobs`) and the live leases (`lease_holders`), as `runner.py` reads them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from domain.analytics.model import AnalyticsInput, AnalyticsJob, JobState, SeriesSelector
from domain.analytics.results import AnalyticsKind
from domain.analytics.runtime.run import LEASE_PREFIX
from domain.analytics.runtime.runner import CANDIDATES
from infra.stores.duckdb.database import DuckDBDatabase

__all__ = ["poll_cost"]

FINISHED_JOBS = 5_000
QUEUED_JOBS = 10
POLLS = 300
MINUTE_US = 60_000_000


def _job(index: int, now_us: int, state: JobState) -> AnalyticsJob:
    spec = AnalyticsInput(
        SeriesSelector("cpu"), now_us - 1_000 * MINUTE_US, now_us, MINUTE_US, horizon_us=MINUTE_US
    )
    job = AnalyticsJob(
        id=f"j{index}",
        project=f"p{index % 50}",
        kind=AnalyticsKind.FORECAST,
        input=spec,
        created_us=now_us - index,
        created_by="bench",
    )
    return replace(job, state=state)


async def _measure(path: Path) -> dict[str, Any]:
    db = await DuckDBDatabase.open(str(path))
    try:
        now_us = time.time_ns() // 1000
        for i in range(FINISHED_JOBS + QUEUED_JOBS):
            state = JobState.QUEUED if i < QUEUED_JOBS else JobState.SUCCEEDED
            await db.analytics.add_job(_job(i, now_us, state))
        polls = []
        for _ in range(POLLS):
            started = time.perf_counter()
            runnable = await db.analytics.runnable_jobs(limit=CANDIDATES)
            await db.leases.lease_holders(LEASE_PREFIX, now_us=now_us)
            polls.append((time.perf_counter() - started) * 1e6)
        assert len(runnable) == QUEUED_JOBS, len(runnable)
    finally:
        await db.close()
    return {
        "jobs_stored": FINISHED_JOBS + QUEUED_JOBS,
        "runnable": QUEUED_JOBS,
        "polls": POLLS,
        "poll_us_p50": round(float(np.percentile(polls, 50))),
        "poll_us_p99": round(float(np.percentile(polls, 99))),
    }


def poll_cost(tmp: Path) -> dict[str, Any]:
    """One poll's time (µs) on a DuckDB file holding 5,000 finished and 10 queued jobs."""
    return asyncio.run(_measure(tmp / "queue.duckdb"))
