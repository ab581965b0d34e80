"""COST sections through the real app: the costReport of the run's range, to the cent,
as a table (rows, idle, total) and a chart per bucket."""

from __future__ import annotations

from tests.api.cost_support import REPORT as COST_REPORT
from tests.api.cost_support import load_example
from tests.api.reports_support import VIEWER, create_report, report_input, run_now
from tests.support import RunningVigil


async def test_a_cost_section_is_the_cost_report_of_the_runs_range(vigil: RunningVigil) -> None:
    await load_example(vigil)  # eight hours, two days ago; the hand-computed example
    section = {"kind": "COST", "title": "What it cost", "step": "1h"}
    report = await create_report(
        vigil, report_input(sections=[section], timeRange="last 3 days", timezone="UTC")
    )
    run = await run_now(vigil, report["id"])
    assert run["status"] == "ok", run["error"]
    table, chart = (await vigil.http.get(run["downloadUrl"])).json()["sections"]

    answer = (
        await vigil.ok(
            COST_REPORT,
            {"p": "demo", "from": run["from"], "to": run["to"], "step": "1h"},
            auth=VIEWER,
        )
    )["costReport"]
    assert answer["total"] == "2.26"  # the example, to the cent
    assert table["title"] == "What it cost"
    assert table["columns"] == ["owner", "cost (USD)", "efficiency"]
    expected = [
        [f"owner={r['tags']['owner']}", r["cost"], round(r["efficiency"], 4)]
        for r in answer["rows"]
    ]
    expected.append(["(idle capacity)", answer["idle"]["cost"], None])
    expected.append(["total", "2.26", None])
    assert table["rows"] == expected
    assert [line["label"] for line in chart["lines"]] == [
        "owner=api",
        "owner=batch",
        "owner=web",
        "(idle)",
    ]
    assert chart["unit"] == "USD" and chart["stepSeconds"] == 3_600
    assert [t // 1000 for t in chart["timesUs"]] == answer["timestamps"]
    assert chart["lines"][0]["values"] == answer["rows"][0]["values"]
