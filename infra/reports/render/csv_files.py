"""CSV: one file per data section (charts and tables), in a zip when there are several.

A chart is a time column (ISO-8601 in the report's zone) and one column per line; a table
is its columns. Numbers are written as Python's shortest repr, so they read back equal;
an empty bucket is an empty cell. Text sections have no CSV form."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.reports.document import Artefact, ChartSection, ReportDocument, TableSection
from infra.reports.render.naming import iso_time, slug

__all__ = ["CSV_TYPE", "ZIP_TYPE", "render_csv"]

CSV_TYPE = "text/csv; charset=utf-8"
ZIP_TYPE = "application/zip"


def render_csv(document: ReportDocument) -> list[Artefact]:
    zone = ZoneInfo(document.timezone)
    files: list[tuple[str, bytes]] = []
    for index, section in enumerate(document.sections, start=1):
        if isinstance(section, ChartSection):
            body = _chart(section, zone)
        elif isinstance(section, TableSection):
            body = _table(section)
        else:
            continue
        files.append((f"{index:02d}-{slug(section.title, 'section')}.csv", body))
    if not files:
        raise ValueError("a CSV report needs at least one chart or table section")
    if len(files) == 1:
        name, body = files[0]
        return [Artefact(name, CSV_TYPE, body)]
    return [Artefact(f"{slug(document.title)}.zip", ZIP_TYPE, _zip(files, document))]


def _chart(section: ChartSection, zone: ZoneInfo) -> bytes:
    out, writer = _writer()
    writer.writerow(["time", *(line.label for line in section.lines)])
    first = section.lines[0].times_us if section.lines else []
    if all(line.times_us == first for line in section.lines):  # the usual chart: one grid
        # The csv module writes None as an empty cell and a float as its repr, in C.
        times = [iso_time(t, zone) for t in first]
        writer.writerows(zip(times, *(line.values for line in section.lines), strict=True))
        return out.getvalue().encode()
    every = sorted({t for line in section.lines for t in line.times_us})
    by_time = [dict(zip(line.times_us, line.values, strict=True)) for line in section.lines]
    for t in every:
        writer.writerow([iso_time(t, zone), *(_cell(c.get(t)) for c in by_time)])
    return out.getvalue().encode()


def _table(section: TableSection) -> bytes:
    out, writer = _writer()
    writer.writerow(section.columns)
    for row in section.rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode()


def _writer() -> tuple[io.StringIO, Any]:
    out = io.StringIO(newline="")
    return out, csv.writer(out, lineterminator="\r\n")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _zip(files: list[tuple[str, bytes]], document: ReportDocument) -> bytes:
    """Entries dated when the report was generated, so one document gives one zip."""
    at = datetime.fromtimestamp(document.generated_at_us / 1e6, UTC)
    stamp = (max(at.year, 1980), at.month, at.day, at.hour, at.minute, at.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), body, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
