"""ANALYTICS sections through the real app: a stored job's result, one row per item."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.analytics_support import CREATE, INPUTS, JOB, load
from tests.api.reports_support import ADMIN, create_report, report_input, run_now
from tests.support import RunningVigil, make_settings, serve


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    settings = make_settings(tmp_path, analytics_workers=1, analytics_max_jobs=1)
    async with serve(settings) as running:
        yield running


async def _finished(vigil: RunningVigil, job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            job: dict[str, Any] = (await vigil.ok(JOB, {"p": "demo", "id": job_id}, auth=ADMIN))[
                "analyticsJob"
            ]
            if job["state"] in ("SUCCEEDED", "FAILED"):
                return job
            await asyncio.sleep(0.1)


async def test_an_analytics_section_is_the_jobs_result(vigil: RunningVigil) -> None:
    await load(vigil, ADMIN)
    job = {"kind": "TREND", "input": INPUTS["TREND"]}
    job_id = (await vigil.ok(CREATE, {"p": "demo", "job": job}, auth=ADMIN))["createAnalyticsJob"][
        "id"
    ]
    report = await create_report(
        vigil, report_input(sections=[{"kind": "ANALYTICS", "analyticsJobId": job_id}])
    )
    finished = await _finished(vigil, job_id)
    assert finished["state"] == "SUCCEEDED", finished["error"]

    run = await run_now(vigil, report["id"])
    assert run["status"] == "ok", run["error"]
    (table,) = json.loads((await vigil.http.get(run["downloadUrl"])).content)["sections"]
    assert table["title"] == "Analytics: trend"
    rows = [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]
    items = finished["result"]["items"]
    assert [json.loads(r["tags"]) for r in rows] == [i["tags"] for i in items]
    assert [r["direction"] for r in rows] == [i["direction"].lower() for i in items]
    assert [r["n"] for r in rows] == [i["n"] for i in items]
