"""A report's USAGE section is the project's usage over the report's range: the groups'
points and series, the project's totals, a chart per group; read back from the JSON file."""

from __future__ import annotations

import json
from typing import Any

from tests.api.reports_support import create_report, run_now
from tests.api.usage_support import runner, send
from tests.support import RunningVigil, token


async def test_a_usage_section_holds_the_usage_by_group(vigil: RunningVigil) -> None:
    sent = await send(vigil, token(demo="admin"))
    await runner(vigil).flush(everything=True)
    section: dict[str, Any] = {"kind": "USAGE", "title": "Usage", "step": "1h", "groupBy": ["team"]}
    report = await create_report(
        vigil,
        {"title": "Usage today", "timeRange": "last 1 day", "timezone": "UTC",
         "format": "JSON", "sections": [section]},
    )  # fmt: skip
    run = await run_now(vigil, report["id"])
    assert run["status"] == "ok", run["error"]
    response = await vigil.http.get(run["downloadUrl"])
    assert response.status_code == 200, response.text
    table, totals, chart = json.loads(response.content)["sections"]
    assert table["columns"] == ["group", "points", "series (most in a bucket)", "new series"]
    assert table["rows"] == [
        ["team=", 1, 1, 1],
        ["team=data", 5, 2, 2],
        ["team=web", 13, 3, 3],
    ]
    figures = dict(map(tuple, totals["rows"]))
    assert figures["bytes.raw"] == 0  # no lease holder sampled bytes in this test
    assert set(figures) >= {"queries", "query_cpu_seconds", "reports_rendered"}
    assert chart["type"] == "chart" and chart["unit"] == "points"
    assert sum(sum(v or 0 for v in line["values"]) for line in chart["lines"]) == sent
