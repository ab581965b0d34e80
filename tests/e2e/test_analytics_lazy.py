"""VIGIL_ANALYTICS_WORKERS_LAZY: a `vigil serve` that has run no analytics holds no worker
processes; the first analysis starts them and is answered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import psutil
import pytest

from tests.api.analytics_support import ANALYTICS, INGEST, INPUTS, points
from tests.e2e.conftest import VigilProcess
from tests.support import token

pytestmark = pytest.mark.e2e

ADMIN = token(demo="admin")


def gql(vigil: VigilProcess, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{vigil.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=60,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def children(vigil: VigilProcess) -> list[psutil.Process]:
    assert vigil.process is not None
    return psutil.Process(vigil.process.pid).children(recursive=True)


def test_workers_start_at_the_first_analysis(
    vigil_process: Callable[..., VigilProcess],
) -> None:
    # The first analysis waits for the pool to start (imports of scipy and statsmodels):
    # a generous synchronous timeout, on a machine the suite keeps busy.
    vigil = vigil_process(
        VIGIL_ANALYTICS_WORKERS_LAZY="true", VIGIL_ANALYTICS_SYNC_TIMEOUT_SECONDS="60"
    )
    sent = points()
    for start in range(0, len(sent), 5_000):
        gql(vigil, INGEST, {"p": "demo", "points": sent[start : start + 5_000]})
    assert children(vigil) == []
    data = gql(vigil, ANALYTICS, {"p": "demo", "k": "TREND", "i": INPUTS["TREND"]})
    assert data["analytics"]["kind"] == "TREND" and data["analytics"]["total"] == 2
    assert len(children(vigil)) >= 2  # the fork server and its workers
