"""The CSV and JSON renderers: what a program reading the files gets back."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from domain.reports.document import (
    ChartSection,
    ReportDocument,
    SeriesLine,
    TableSection,
    TextSection,
)
from infra.reports.render import render

T0 = 1_774_994_400_000_000  # 2026-03-31T22:00:00Z, midnight in Paris
STEP = 600_000_000


def document(*sections: ChartSection | TableSection | TextSection) -> ReportDocument:
    return ReportDocument(
        title="Ops: weekly!",
        project="demo",
        from_us=T0,
        to_us=T0 + 3 * STEP,
        timezone="Europe/Paris",
        generated_at_us=T0 + 4 * STEP,
        sections=list(sections),
    )


CHART = ChartSection(
    "CPU",
    [
        SeriesLine("web-1", [T0, T0 + STEP, T0 + 2 * STEP], [0.1, None, 1e-9]),
        SeriesLine("web-2", [T0 + STEP], [42.0]),
    ],
    unit="%",
)
TABLE = TableSection("Alerts", ["alert", "fired"], [["cpu high", 2], ["disk, full", None]])
TEXT = TextSection("Notes", "All *good*.")


def test_one_data_section_is_one_csv_with_local_times_and_exact_numbers() -> None:
    (artefact,) = render(document(CHART, TEXT), "CSV")
    assert (artefact.name, artefact.media_type) == ("01-cpu.csv", "text/csv; charset=utf-8")
    rows = list(csv.reader(io.StringIO(artefact.content.decode())))
    assert rows == [
        ["time", "web-1", "web-2"],
        ["2026-04-01T00:00:00+02:00", "0.1", ""],
        ["2026-04-01T00:10:00+02:00", "", "42.0"],
        ["2026-04-01T00:20:00+02:00", "1e-09", ""],
    ]
    assert float(rows[3][1]) == 1e-9


def test_several_data_sections_are_a_zip_of_csvs_the_same_every_time() -> None:
    (artefact,) = render(document(CHART, TEXT, TABLE), "CSV")
    assert (artefact.name, artefact.media_type) == ("ops-weekly.zip", "application/zip")
    archive = zipfile.ZipFile(io.BytesIO(artefact.content))
    assert archive.namelist() == ["01-cpu.csv", "03-alerts.csv"]
    table = list(csv.reader(io.StringIO(archive.read("03-alerts.csv").decode())))
    assert table == [["alert", "fired"], ["cpu high", "2"], ["disk, full", ""]]
    assert render(document(CHART, TEXT, TABLE), "CSV")[0].content == artefact.content


def test_a_csv_report_without_data_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one chart or table"):
        render(document(TEXT), "CSV")


def test_json_holds_every_section_and_no_nan() -> None:
    nan_chart = ChartSection("Odd", [SeriesLine("x", [T0], [float("nan")])])
    (artefact,) = render(document(CHART, TABLE, TEXT, nan_chart), "JSON")
    assert artefact.name == "ops-weekly.json"
    body = json.loads(artefact.content)
    assert body["from"] == "2026-04-01T00:00:00+02:00"
    chart, table, text, odd = body["sections"]
    assert chart["lines"][0]["values"] == [0.1, None, 1e-9]
    assert chart["lines"][1]["times"] == ["2026-04-01T00:10:00+02:00"]
    assert table["rows"] == [["cpu high", 2], ["disk, full", None]]
    assert text == {"type": "text", "title": "Notes", "markdown": "All *good*."}
    assert odd["lines"][0]["values"] == [None]
    assert "times" not in chart  # its lines have buckets of their own
    assert odd["times"] == ["2026-04-01T00:00:00+02:00"] and "times" not in odd["lines"][0]


def test_a_chart_on_one_grid_is_one_csv_row_per_bucket() -> None:
    grid = [T0, T0 + STEP]
    chart = ChartSection(
        "Grid", [SeriesLine("a", grid, [1.0, None]), SeriesLine("b", grid, [2.5, 3.0])]
    )
    (artefact,) = render(document(chart), "CSV")
    assert artefact.content.decode().splitlines() == [
        "time,a,b",
        "2026-04-01T00:00:00+02:00,1.0,2.5",
        "2026-04-01T00:10:00+02:00,,3.0",
    ]


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="no renderer"):
        render(document(TEXT), "DOCX")
