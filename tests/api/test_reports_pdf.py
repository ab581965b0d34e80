"""PDF and HTML reports end to end: runReport through the real app, the files downloaded
and read back (pypdf for the PDF's pages and text, the HTML's structure and its chart)."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader

from tests.api.reports_support import (
    SERIES,
    VIEWER,
    create_report,
    report_input,
    run_now,
    send_cpu,
)
from tests.support import RunningVigil


def _document(fmt: str) -> dict[str, Any]:
    document = report_input(fmt)
    document["sections"].append({"kind": "ALERTS", "title": "Alerts"})
    return document


async def _ran(vigil: RunningVigil, fmt: str) -> tuple[dict[str, Any], Any]:
    await send_cpu(vigil)
    report = await create_report(vigil, _document(fmt))
    run = await run_now(vigil, report["id"])
    assert run["status"] == "ok", run["error"]
    response = await vigil.http.get(run["downloadUrl"])
    assert response.status_code == 200
    return run, response


async def test_a_pdf_report_reads_back_with_its_title_sections_and_text(
    vigil: RunningVigil,
) -> None:
    run, response = await _ran(vigil, "PDF")
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert run["files"][0]["name"] == "report.pdf" and len(response.content) == run["bytes"]
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) >= 1
    text = "\n".join(page.extract_text() for page in reader.pages)
    for expected in ("Weekly CPU", "CPU by host", "Notes", "Alerts", "no alert fired"):
        assert expected in text, (expected, text[:500])
    assert "good" in text  # the Markdown section's text ("All **good**.")


async def test_an_html_report_is_one_page_with_every_section_and_no_script(
    vigil: RunningVigil,
) -> None:
    run, response = await _ran(vigil, "HTML")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]  # never shown inline
    html = response.text
    assert "<script" not in html.lower()
    assert re.search(r"<h1[^>]*>\s*Weekly CPU\s*</h1>", html)
    for heading in ("CPU by host", "Notes", "Alerts"):
        assert re.search(rf"<h2[^>]*>\s*{heading}\s*</h2>", html), heading
    assert "<strong>good</strong>" in html
    # The chart is one self-contained image with as many lines as the query has series.
    data = await vigil.ok(
        SERIES,
        {"p": "demo", "m": "cpu", "from": run["from"], "to": run["to"], "step": "10m",
         "agg": "MAX", "groupBy": ["host"]},
        auth=VIEWER,
    )  # fmt: skip
    lines = len(data["metricSeries"]["series"])
    (image,) = re.findall(r'<img src="(data:image/[a-z]+;base64,[^"]+)"[^>]*alt="([^"]*)"', html)
    assert image[0].startswith("data:image/png;base64,")
    assert image[1].startswith(f"CPU by host: {lines} line(s), %")
