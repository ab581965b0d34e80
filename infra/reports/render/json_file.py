"""JSON: the whole document, times both as ISO-8601 in the report's zone and as
microseconds, for programs that read reports."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from domain.reports.document import (
    Artefact,
    ChartSection,
    ReportDocument,
    Section,
    TableSection,
    TextSection,
)
from infra.reports.render.naming import iso_time, slug

__all__ = ["JSON_TYPE", "document_json", "render_json"]

JSON_TYPE = "application/json"


def render_json(document: ReportDocument) -> list[Artefact]:
    body = json.dumps(document_json(document), ensure_ascii=False, indent=1, allow_nan=False)
    return [Artefact(f"{slug(document.title)}.json", JSON_TYPE, body.encode())]


def document_json(document: ReportDocument) -> dict[str, Any]:
    zone = ZoneInfo(document.timezone)
    return {
        "title": document.title,
        "project": document.project,
        "reportId": document.report_id,
        "runId": document.run_id,
        "timezone": document.timezone,
        "from": iso_time(document.from_us, zone),
        "to": iso_time(document.to_us, zone),
        "generatedAt": iso_time(document.generated_at_us, zone),
        "sections": [_section(s, zone) for s in document.sections],
    }


def _section(section: Section, zone: ZoneInfo) -> dict[str, Any]:
    if isinstance(section, ChartSection):
        return {
            "type": "chart",
            "title": section.title,
            "unit": section.unit,
            "stepSeconds": section.step_seconds,
            "note": section.note,
            "lines": [
                {
                    "label": line.label,
                    "tags": line.tags,
                    "times": [iso_time(t, zone) for t in line.times_us],
                    "timesUs": line.times_us,
                    "values": [_finite(v) for v in line.values],
                }
                for line in section.lines
            ],
        }
    if isinstance(section, TableSection):
        return {
            "type": "table",
            "title": section.title,
            "columns": section.columns,
            "rows": [[_finite(v) if isinstance(v, float) else v for v in r] for r in section.rows],
            "note": section.note,
        }
    assert isinstance(section, TextSection)
    return {"type": "text", "title": section.title, "markdown": section.markdown}


def _finite(value: float | None) -> float | None:
    """JSON has no NaN or infinity: an undefined value is null."""
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return None
    return value
