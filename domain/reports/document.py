"""What a renderer is given: a report with every section's data already read.

A report's definition names sections (a dashboard, a series query, an analytics result, an
alert summary, usage, cost, text); running it reads each into one of the three shapes
below. Renderers (infra/reports/render) turn a ReportDocument into files and never read a
store, so one document gives the same numbers in PDF, HTML, CSV and JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Artefact",
    "ChartSection",
    "ReportDocument",
    "Section",
    "SeriesLine",
    "TableSection",
    "TextSection",
]

Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class SeriesLine:
    """One line of a chart: a series' label and its points (None where a bucket is empty)."""

    label: str
    times_us: list[int]
    values: list[float | None]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChartSection:
    """A time chart: lines over the report's range; `unit` labels the value axis."""

    title: str
    lines: list[SeriesLine]
    unit: str = ""
    step_seconds: int = 0
    note: str = ""  # what served it or what is missing, printed under the chart


@dataclass(frozen=True, slots=True)
class TableSection:
    """A table: alert summaries, usage and cost rows, analytics results."""

    title: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""


@dataclass(frozen=True, slots=True)
class TextSection:
    """Markdown text, written by the report's author."""

    title: str
    markdown: str


Section = ChartSection | TableSection | TextSection


@dataclass(frozen=True, slots=True)
class ReportDocument:
    """A report run's content: what every format renders."""

    title: str
    project: str
    from_us: int
    to_us: int
    timezone: str  # IANA name; times are printed in it
    generated_at_us: int
    sections: list[Section]
    report_id: str = ""
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class Artefact:
    """One produced file: `name` is what `/reports/{runId}/{name}` serves."""

    name: str
    media_type: str
    content: bytes
