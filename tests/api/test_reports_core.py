"""Reports through the real app on DuckDB: create, run now, download (bearer and signed
link), the JSON and CSV files read back and compared with the same query via /graphql."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import zipfile
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from infra.reports.wiring import report_links
from tests.api.reports_support import (
    EDITOR,
    OTHER,
    SERIES,
    VIEWER,
    create_report,
    report_input,
    run_now,
    send_cpu,
    series_section,
)
from tests.support import RunningVigil


async def _download(vigil: RunningVigil, path: str, auth: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {auth}"} if auth else {}
    return await vigil.http.get(path, headers=headers)


async def _same_query(vigil: RunningVigil, run: dict[str, Any]) -> dict[str, Any]:
    """What metricSeries answers for the run's range, as the report's section asked."""
    data = await vigil.ok(
        SERIES,
        {
            "p": "demo",
            "m": "cpu",
            "from": run["from"],
            "to": run["to"],
            "step": "10m",
            "agg": "MAX",
            "groupBy": ["host"],
        },
        auth=VIEWER,
    )
    series: dict[str, Any] = data["metricSeries"]
    return series


async def test_a_json_report_runs_and_its_file_holds_what_the_query_answers(
    vigil: RunningVigil,
) -> None:
    await send_cpu(vigil)
    report = await create_report(vigil)
    assert report["version"] == 1 and report["timeRange"] == "last 1 hour"
    assert report["createdBy"] == "erin"

    run = await run_now(vigil, report["id"])
    assert run["status"] == "ok", run["error"]
    assert run["files"][0]["name"] == "weekly-cpu.json"
    response = await _download(vigil, f"/reports/{run['id']}/weekly-cpu.json", VIEWER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert 'filename="weekly-cpu.json"' in response.headers["content-disposition"]
    assert hashlib.sha256(response.content).hexdigest() == run["sha256"]
    assert len(response.content) == run["bytes"]

    body = json.loads(response.content)
    assert body["title"] == "Weekly CPU" and body["timezone"] == "Europe/Paris"
    assert body["from"].endswith(("+01:00", "+02:00"))  # printed in the report's zone
    chart, text = body["sections"]
    assert text == {"type": "text", "title": "Notes", "markdown": "All **good**."}
    expected = await _same_query(vigil, run)
    assert expected["timestamps"] == [t // 1000 for t in chart["timesUs"]]
    by_host = {line["tags"]["host"]: line["values"] for line in chart["lines"]}
    assert by_host == {s["tags"]["host"]: s["values"] for s in expected["series"]}
    assert set(by_host) == {"web-1", "web-2"}
    assert chart["unit"] == "%" and chart["stepSeconds"] == 600


async def test_a_csv_report_is_a_zip_of_one_csv_per_data_section(vigil: RunningVigil) -> None:
    await send_cpu(vigil)
    document = report_input("CSV")
    document["sections"].append({"kind": "ALERTS", "title": "Alerts"})
    report = await create_report(vigil, document)
    run = await run_now(vigil, report["id"])
    assert run["status"] == "ok", run["error"]
    (main,) = run["files"]
    assert main["name"] == "weekly-cpu.zip"

    response = await _download(vigil, main["url"])  # the signed link, no token
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == [
        "01-cpu-by-host.csv",
        "03-alerts.csv",
        "04-alerts-incidents.csv",
    ]
    rows = list(csv.reader(io.StringIO(archive.read("01-cpu-by-host.csv").decode())))
    header, values = rows[0], rows[1:]
    assert header == ["time", "host=web-1", "host=web-2"]
    expected = await _same_query(vigil, run)
    assert [datetime.fromisoformat(r[0]).timestamp() * 1000 for r in values] == expected[
        "timestamps"
    ]
    by_host = {s["tags"]["host"]: s["values"] for s in expected["series"]}
    for column, host in ((1, "web-1"), (2, "web-2")):
        read = [float(r[column]) if r[column] else None for r in values]
        assert read == by_host[host]
    assert all("+01:00" in r[0] or "+02:00" in r[0] for r in values)  # Europe/Paris
    alerts = list(csv.reader(io.StringIO(archive.read("03-alerts.csv").decode())))
    assert alerts == [
        ["alert", "severity", "state now", "fired", "firing seconds", "acknowledged by"]
    ]


async def test_downloads_refuse_foreign_unknown_and_forged_requests(vigil: RunningVigil) -> None:
    await send_cpu(vigil)
    report = await create_report(vigil)
    run = await run_now(vigil, report["id"])
    name = run["files"][0]["name"]
    path = f"/reports/{run['id']}/{name}"

    assert (await _download(vigil, path)).status_code == 401  # no credential
    foreign = await _download(vigil, path, OTHER)
    unknown = await _download(vigil, f"/reports/{'0' * 32}/{name}", VIEWER)
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == {"error": f"no report run {run['id']!r}"}
    assert (await _download(vigil, f"/reports/{run['id']}/other.json", VIEWER)).status_code == 404

    query = parse_qs(urlsplit(run["downloadUrl"]).query)
    exp, sig = query["exp"][0], query["sig"][0]
    forged = await _download(vigil, f"{path}?exp={int(exp) + 1}&sig={sig}")
    assert forged.status_code == 403
    other_file = await _download(vigil, f"/reports/{run['id']}/x.json?exp={exp}&sig={sig}")
    assert other_file.status_code == 403
    assert (await _download(vigil, run["downloadUrl"])).status_code == 200
    assert (await _download(vigil, path, EDITOR)).status_code == 200

    # A link this instance signed, a day and a second ago: its day is over.
    links = report_links(vigil.app.state.vigil.settings)
    a_day_ago = int((time.time() - 86_401) * 1e6)
    expired = await _download(vigil, links.signed(run["id"], name, now_us=a_day_ago))
    assert expired.status_code == 401
    assert expired.json() == {"error": "link refused: expired"}


async def test_a_series_sections_matchers_choose_its_lines(vigil: RunningVigil) -> None:
    await send_cpu(vigil)
    section = series_section(matchers=[{"key": "host", "op": "NEQ", "value": "web-1"}])
    report = await create_report(vigil, report_input(sections=[section]))
    run = await run_now(vigil, report["id"])
    assert run["status"] == "ok", run["error"]
    body = (await _download(vigil, run["downloadUrl"])).json()
    (chart,) = body["sections"]
    assert [line["tags"] for line in chart["lines"]] == [{"host": "web-2"}]
