"""A real `vigil serve` killed with SIGKILL while an analytics job runs and another waits:
after a restart both are picked up from the store and finish; the dead server's worker
processes do not outlive it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import psutil
import pytest

from tests.api.analytics_support import CREATE, DAY_S, END_S, INGEST, INPUTS, JOB, iso, points
from tests.e2e.conftest import VigilProcess
from tests.support import token

pytestmark = pytest.mark.e2e

ADMIN = token(demo="admin")
SERIES, BUCKETS = 16, 8_000  # enough series that the job is still computing when killed


def gql(vigil: VigilProcess, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{vigil.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def load(vigil: VigilProcess) -> dict[str, Any]:
    sent = points()
    for start in range(0, len(sent), 10_000):
        gql(vigil, INGEST, {"p": "demo", "points": sent[start : start + 10_000]})
    rng = np.random.default_rng(3)
    t = np.arange(END_S - BUCKETS * 60, END_S, 60)
    for s in range(SERIES):
        values = 50 + 10 * np.sin(2 * np.pi * (t % DAY_S) / DAY_S) + rng.normal(0, 1, len(t))
        batch = [
            {"name": "many", "value": float(v), "timestamp": int(x) * 1000, "tags": {"s": str(s)}}
            for x, v in zip(t, values, strict=True)
        ]
        gql(vigil, INGEST, {"p": "demo", "points": batch})
    return {
        "metric": "many",
        "step": "1m",
        "from": iso(END_S - BUCKETS * 60),
        "to": iso(END_S),
        "groupBy": ["s"],
        "horizon": "1d",
    }


def job_of(vigil: VigilProcess, job_id: str) -> dict[str, Any]:
    found: dict[str, Any] = gql(vigil, JOB, {"p": "demo", "id": job_id, "first": 1})["analyticsJob"]
    return found


def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


def test_jobs_queued_or_running_when_the_server_is_killed_finish_after_a_restart(
    vigil_process: Callable[..., VigilProcess],
) -> None:
    vigil = vigil_process(VIGIL_ANALYTICS_WORKERS="1", VIGIL_ANALYTICS_MAX_JOBS="1")
    spec = load(vigil)
    create = {"p": "demo", "job": {"kind": "FORECAST", "input": spec}}
    running = gql(vigil, CREATE, create)["createAnalyticsJob"]["id"]
    waiting = gql(vigil, CREATE, {"p": "demo", "job": {"kind": "TREND", "input": INPUTS["TREND"]}})
    queued = waiting["createAnalyticsJob"]["id"]
    until(
        lambda: job_of(vigil, running)["phase"] == "computing",
        timeout=60,
        what="the first job computes",
    )
    assert job_of(vigil, queued)["state"] == "QUEUED"  # one job at a time here
    assert vigil.process is not None
    tree = psutil.Process(vigil.process.pid).children(recursive=True)
    assert tree, "no worker processes"

    vigil.kill()
    vigil.start()  # same port, so the same instance name: its leases are its own at once

    first = until(
        lambda: (j := job_of(vigil, running))["state"] in ("SUCCEEDED", "FAILED") and j,
        timeout=120,
        what="the interrupted job finishes",
    )
    assert (first["state"], first["attempt"], first["error"]) == ("SUCCEEDED", 2, None)
    assert first["result"]["total"] == SERIES
    second = until(
        lambda: (j := job_of(vigil, queued))["state"] in ("SUCCEEDED", "FAILED") and j,
        timeout=60,
        what="the queued job finishes",
    )
    assert (second["state"], second["attempt"]) == ("SUCCEEDED", 1)
    until(
        lambda: not [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE],
        timeout=30,
        what="the killed server's worker processes exit",
    )
