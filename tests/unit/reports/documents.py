"""Hand-built ReportDocuments for the renderer tests: seeded data with known values."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from domain.reports.document import (
    ChartSection,
    ReportDocument,
    SeriesLine,
    TableSection,
    TextSection,
)

__all__ = ["DAY_US", "FROM_US", "HOUR_US", "TO_US", "line", "small_document"]

HOUR_US = 3_600 * 1_000_000
DAY_US = 24 * HOUR_US
# Europe/Paris leaves winter time (CET) on 2026-03-29 at 02:00: the range spans the change.
FROM_US = int(datetime(2026, 3, 27, 23, 0, tzinfo=UTC).timestamp()) * 1_000_000
TO_US = FROM_US + 3 * DAY_US


def line(label: str, seed: int, *, step_us: int = HOUR_US, **tags: str) -> SeriesLine:
    rng = random.Random(seed)
    times = list(range(FROM_US, TO_US, step_us))
    values: list[float | None] = [round(50 + rng.uniform(-20, 20), 3) for _ in times]
    values[5:8] = [None, None, None]  # a gap
    return SeriesLine(label, times, values, dict(tags))


def small_document(**changes: object) -> ReportDocument:
    """Five sections: a chart, an empty chart, a table, Markdown text and a wide table."""
    sections = [
        ChartSection(
            "CPU <busy> by host",
            [line(f"cpu{{host=web-{i}}}", i, host=f"web-{i}", dc="eu") for i in range(3)],
            unit="%",
            step_seconds=3600,
            note="served from the 1h rollup",
        ),
        ChartSection("Queue depth", [SeriesLine("queue", [], [])], unit="jobs"),
        TableSection(
            "Cost by team",
            ["team", "cost (EUR)", "efficiency", "note"],
            [
                ["checkout", 1234.56, 0.625, None],
                ["search", 80, 0.00042, "<b>cheap</b>"],
                ["idle", 0.1 + 0.2, None, "shared by weight"],
            ],
            note="Rows plus idle add up to the total.",
        ),
        TextSection(
            "Notes",
            "Peak on **Saturday**; see `web-2`.\n\n"
            "<script>alert('x')</script>\n\n"
            "[bad link](javascript:alert(1)) and <img src=x onerror=alert(1)>\n",
        ),
        TableSection(
            "Series",
            ["series", "points"],
            [[f"mem.used{{host=web-{i:03d}}}", 1000 + i] for i in range(120)],
        ),
    ]
    fields: dict[str, object] = {
        "title": "Weekly <ops> report",
        "project": "acme-prod",
        "from_us": FROM_US,
        "to_us": TO_US,
        "timezone": "Europe/Paris",
        "generated_at_us": TO_US + 60_000_000,
        "sections": sections,
        "report_id": "rep-1",
        "run_id": "run-9",
    }
    fields.update(changes)
    return ReportDocument(**fields)  # type: ignore[arg-type]
