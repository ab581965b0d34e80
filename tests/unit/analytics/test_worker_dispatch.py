"""A job's tasks start in the gaps between requests; a query's tasks never wait for them.
A task computing beside a request slows it whatever the worker's priority, through what
the cores share (docs/performance.md, "Analytics")."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from domain.analytics.results import AnalyticsKind
from domain.analytics.series import Grid
from domain.analytics.work import Task
from infra.admission.inflight import InflightBudget
from infra.analytics import workers
from infra.analytics.workers import ProcessComputer

TASK = Task(
    AnalyticsKind.TREND, (Grid(0, 60_000_000, np.arange(200, dtype=np.float64)),), {"alpha": 0.05}
)
WAIT_S = 1.0


@pytest.fixture
async def computer(monkeypatch: pytest.MonkeyPatch) -> ProcessComputer:
    monkeypatch.setattr(workers, "DISPATCH_QUIET_SECONDS", WAIT_S)
    return ProcessComputer(1)


async def test_a_jobs_task_waits_for_no_request_in_flight(computer: ProcessComputer) -> None:
    inflight = InflightBudget(max_bytes=10**9, max_requests=100, max_points=10**9)
    await computer.start(inflight)
    try:
        await computer.run([TASK])  # the pool is up and warm
        assert inflight.enter(0) is None  # a request in flight...
        job = asyncio.create_task(computer.run_stored([TASK]))
        await asyncio.sleep(0.3)
        assert not job.done()
        inflight.leave(0)  # ...ends: the task starts at once
        started = time.monotonic()
        await asyncio.wait_for(job, 30)
        assert time.monotonic() - started < WAIT_S

        assert inflight.enter(0) is None  # one that never ends: the wait is bounded
        started = time.monotonic()
        await computer.run_stored([TASK])
        assert WAIT_S <= time.monotonic() - started < 10 * WAIT_S
    finally:
        await computer.close()


async def test_a_querys_task_does_not_wait(computer: ProcessComputer) -> None:
    inflight = InflightBudget(max_bytes=10**9, max_requests=100, max_points=10**9)
    await computer.start(inflight)
    try:
        await computer.run([TASK])
        assert inflight.enter(0) is None  # the query's own request
        started = time.monotonic()
        items = await computer.run([TASK], urgent=True)
        assert time.monotonic() - started < WAIT_S and items
    finally:
        await computer.close()
