"""Analytics workers run below the server: nice 10 and, on Linux, SCHED_IDLE by default, so
a job computes only on CPU no server thread wants (docs/performance.md measures it)."""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection

import pytest

from infra.analytics.workers import _init_worker
from infra.config import Settings


def _report(nice: int, idle: bool, out: Connection) -> None:
    _init_worker(nice, idle)
    out.send((os.sched_getscheduler(0), os.nice(0)))


def _policy_of_a_worker(nice: int, idle: bool) -> tuple[int, int]:
    receive, send = multiprocessing.Pipe(duplex=False)
    worker = multiprocessing.get_context("spawn").Process(target=_report, args=(nice, idle, send))
    worker.start()
    policy: tuple[int, int] = receive.recv()
    worker.join(30)
    return policy


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
def test_by_default_a_worker_runs_only_on_idle_cpu() -> None:
    settings = Settings()
    policy, nice = _policy_of_a_worker(
        settings.analytics_worker_nice, settings.analytics_worker_idle
    )
    assert policy == os.SCHED_IDLE
    assert nice == os.nice(0) + 10


def test_without_idle_a_worker_is_only_niced() -> None:
    policy, nice = _policy_of_a_worker(10, idle=False)
    assert policy == os.SCHED_OTHER and nice == os.nice(0) + 10
