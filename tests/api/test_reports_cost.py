"""A report's COST section is the project's costReport: the hand example of
tests/unit/cost/test_cost_compute.py in a JSON report, to the cent, on both stores."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.cost_support import app_duckdb, load_example
from tests.api.reports_support import create_report, run_now
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import RunningVigil, make_settings, serve


@pytest.fixture(params=[app_duckdb, open_mongo_emulated], ids=["duckdb", "mongo-emulated"])
async def vigil(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningVigil]:
    database = await request.param(tmp_path)
    try:
        async with serve(make_settings(tmp_path), database=database) as running:
            yield running
    finally:
        if database is not None:
            await database.close()


async def test_a_cost_section_holds_the_cost_report_to_the_cent(vigil: RunningVigil) -> None:
    await load_example(vigil)  # eight hours, two days ago
    section: dict[str, Any] = {"kind": "COST", "title": "Cost", "step": "1h", "groupBy": ["owner"]}
    report = await create_report(
        vigil,
        {
            "title": "Cost this week",
            "timeRange": "last 3 days",
            "timezone": "UTC",
            "format": "JSON",
            "sections": [section],
        },
    )
    run = await run_now(vigil, report["id"])
    assert run["status"] == "ok", run["error"]
    response = await vigil.http.get(run["downloadUrl"])
    assert response.status_code == 200, response.text
    table, chart = json.loads(response.content)["sections"]
    assert table["type"] == "table" and table["columns"][:2] == ["group", "cost (USD)"]
    costs = {row[0]: row[1] for row in table["rows"]}
    assert costs == {
        "owner=api": "0.75",
        "owner=batch": "0.44",
        "owner=web": "0.31",
        "idle": "0.76",
        "total": "2.26",
    }
    assert chart["type"] == "chart" and chart["unit"] == "USD" and chart["stepSeconds"] == 3600
    by_line = {line["label"]: line for line in chart["lines"]}
    assert sum(v or 0.0 for v in by_line["owner=api"]["values"]) == pytest.approx(0.748)
