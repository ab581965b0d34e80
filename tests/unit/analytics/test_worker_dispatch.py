"""A job's tasks start in the gaps between requests and stop while one is in flight; a
query's tasks never wait for them.
A task computing beside a request slows it whatever the worker's priority, through what
the cores share (docs/performance.md, "Analytics")."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import numpy as np
import pytest

from domain.analytics.results import AnalyticsKind
from domain.analytics.series import Grid
from domain.analytics.work import Task
from infra.admission.inflight import InflightBudget
from infra.analytics import pausing, workers
from infra.analytics.workers import ProcessComputer
from tests.unit.analytics.support import computing

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


# -- a job's running tasks stop while a request is in flight (pausing.py) ------------------


CAN_STOP = os.path.exists("/proc/self/stat") and hasattr(signal, "SIGSTOP")


def _state(pid: int) -> str:
    """The process's state letter: T when stopped."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


async def _until(check: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.01)


@pytest.fixture
async def paused(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[ProcessComputer, InflightBudget]]:
    if not CAN_STOP:
        pytest.skip("stopping workers needs Linux (SIGSTOP, pidfd, /proc)")
    monkeypatch.setattr(pausing, "PAUSE_MOST_SECONDS", CAP_S)
    monkeypatch.setattr(pausing, "PAUSE_GAP_SECONDS", CAP_S)
    computer = ProcessComputer(1)
    inflight = InflightBudget(max_bytes=10**9, max_requests=100, max_points=10**9)
    await computer.start(inflight)
    await computer.run([TASK])  # the pool is up and warm
    yield computer, inflight
    await computer.close()


CAP_S = 0.5


async def _computing(computer: ProcessComputer, seconds: float, *, urgent: bool) -> Any:
    """A task computing for `seconds` of CPU, once it has started on the worker."""
    task, function = cast(Task, seconds), cast(Any, computing)  # a stand-in for a fit
    job = asyncio.create_task(computer._run([task], function, 0 if urgent else 1, None))
    await _until(lambda: sum(computer._running.values()) == 1)
    return job


async def test_a_jobs_running_task_stops_while_a_request_is_in_flight(
    paused: tuple[ProcessComputer, InflightBudget],
) -> None:
    computer, inflight = paused
    job = await _computing(computer, 1.0, urgent=False)
    (pid,) = computer._worker_pids()
    assert _state(pid) != "T"
    assert inflight.enter(0) is None  # a request comes in: the worker stops at once
    await _until(lambda: _state(pid) == "T", 0.2)
    await asyncio.sleep(0.3)
    inflight.leave(0)  # and runs again when it ends
    await _until(lambda: _state(pid) != "T", 0.2)
    (took,) = await asyncio.wait_for(job, 30)
    assert took >= 1.0 + 0.25  # its second of CPU, and the time it stood still


async def test_a_stop_lasts_a_bounded_time_then_the_job_runs_a_while(
    paused: tuple[ProcessComputer, InflightBudget],
) -> None:
    computer, inflight = paused
    job = await _computing(computer, 3.0, urgent=False)
    (pid,) = computer._worker_pids()
    assert inflight.enter(0) is None  # a request that never ends
    started = time.monotonic()
    await _until(lambda: _state(pid) == "T", 0.2)
    await _until(lambda: _state(pid) != "T", 5 * CAP_S)  # after CAP_S at most
    resumed = time.monotonic()
    assert resumed - started >= CAP_S * 0.8
    await _until(lambda: _state(pid) == "T", 5 * CAP_S)  # a gap of CAP_S, then again
    assert time.monotonic() - resumed >= CAP_S * 0.8
    inflight.leave(0)
    await _until(lambda: _state(pid) != "T", 0.2)
    job.cancel()


async def test_a_querys_task_never_stops(paused: tuple[ProcessComputer, InflightBudget]) -> None:
    computer, inflight = paused
    query = await _computing(computer, 0.5, urgent=True)
    (pid,) = computer._worker_pids()
    assert inflight.enter(0) is None
    await asyncio.sleep(0.1)
    assert _state(pid) != "T" and computer._pauses.stops == 0
    await asyncio.wait_for(query, 30)
    inflight.leave(0)


async def test_a_stopped_jobs_task_is_cancelled_at_once(
    paused: tuple[ProcessComputer, InflightBudget],
) -> None:
    computer, inflight = paused
    job = await _computing(computer, 30.0, urgent=False)
    (pid,) = computer._worker_pids()
    assert inflight.enter(0) is None
    await _until(lambda: _state(pid) == "T", 0.2)
    started = time.monotonic()
    job.cancel()  # its worker is resumed, then killed; a fresh one takes its place
    with pytest.raises(asyncio.CancelledError):
        await job
    await _until(lambda: computer._worker_pids() not in ([], [pid]), 10)
    assert time.monotonic() - started < CAP_S * 4
    inflight.leave(0)
    assert await computer.run([TASK])  # the pool still works
