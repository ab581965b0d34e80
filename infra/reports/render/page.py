"""The one report page: a ReportDocument through templates/report.html.j2 to HTML text.

HTML files and PDFs are both made from this text (the PDF is this page laid out for print
by its `@page` rules), so the two formats cannot drift apart.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from domain.reports.document import ChartSection, ReportDocument, TableSection, TextSection
from infra.reports.render.charts import ImageFormat, draw_chart, has_points

__all__ = ["MAX_TABLE_ROWS", "PrintedCell", "format_cell", "page_html"]

# Rows a table shows in HTML and PDF. WeasyPrint lays a table out at ~4.7 ms of CPU a row
# (a 2,000-row table: ~9 s, 45 pages); past this a page report is no longer read but
# searched, which the CSV and JSON formats are for (docs/reports-rendering.md).
MAX_TABLE_ROWS = 2_000

_ENV = Environment(
    loader=PackageLoader("infra.reports.render", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# CommonMark with raw HTML off: an author's <script> or <img src=...> prints as text.
# Images off too: `![](https://...)` would make the report fetch from elsewhere (a tracking
# pixel in a mailed report, a request from the server while the PDF is laid out); it reads
# as a link instead. markdown-it refuses javascript:, vbscript: and file: links itself.
_MARKDOWN = (
    MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("image")
)


@dataclass(frozen=True, slots=True)
class PrintedCell:
    """A table cell as the page prints it; numeric cells align right."""

    text: str
    numeric: bool


def format_cell(value: str | int | float | None) -> PrintedCell:
    """A table cell as printed: integers in full, floats to 4 decimals (cents survive) with
    trailing zeros trimmed, tiny floats in 3 significant digits, None as an empty cell."""
    if value is None:
        return PrintedCell("", False)
    if isinstance(value, bool):
        return PrintedCell(str(value).lower(), False)
    if isinstance(value, int):
        return PrintedCell(str(value), True)
    if isinstance(value, float):
        if not math.isfinite(value):
            return PrintedCell(str(value), True)
        if value == 0 or abs(value) >= 0.01:
            text = f"{value:.4f}".rstrip("0").rstrip(".")
            return PrintedCell("0" if text == "-0" else text, True)
        return PrintedCell(f"{value:.3g}", True)
    return PrintedCell(str(value), False)


def _when(us: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(us / 1_000_000, tz).strftime("%Y-%m-%d %H:%M %Z")


def _chart(section: ChartSection, doc: ReportDocument, fmt: ImageFormat) -> dict[str, object]:
    view: dict[str, object] = {"kind": "chart", "title": section.title, "image": None}
    notes = [section.note] if section.note else []
    if has_points(section):
        image = draw_chart(
            section, doc.timezone, from_us=doc.from_us, to_us=doc.to_us, image_format=fmt
        )
        if image.lines_drawn < image.lines_total:
            notes.append(f"Showing the {image.lines_drawn} highest of {image.lines_total} lines.")
        view |= {
            "image": f"data:{image.media_type};base64,"
            + base64.b64encode(image.data).decode("ascii"),
            "width": image.width_px,
            "height": image.height_px,
            "alt": f"{section.title}: {image.lines_total} line(s), {section.unit or 'value'}"
            f" over time ({doc.timezone})",
        }
    view["caption"] = " ".join(notes)
    return view


def _table(section: TableSection) -> dict[str, object]:
    rows = [[format_cell(cell) for cell in row] for row in section.rows[:MAX_TABLE_ROWS]]
    notes = [section.note] if section.note else []
    if len(section.rows) > MAX_TABLE_ROWS:
        notes.append(
            f"Showing the first {MAX_TABLE_ROWS:,} of {len(section.rows):,} rows; "
            "the CSV and JSON formats hold them all."
        )
    # A column of numbers is aligned right, its heading too.
    numeric = [
        any(row[i].numeric for row in rows if i < len(row))
        and all(row[i].numeric or not row[i].text for row in rows if i < len(row))
        for i in range(len(section.columns))
    ]
    return {
        "kind": "table",
        "title": section.title,
        "widths": _column_widths(section.columns, rows),
        "columns": list(zip(section.columns, numeric, strict=True)),
        "rows": rows,
        "caption": " ".join(notes),
    }


def _column_widths(columns: list[str], rows: list[list[PrintedCell]]) -> list[float]:
    """Percent of the table's width per column, by the longest value it holds (between 4
    and 40 characters, a heading's longest word included): the layout is fixed (fast to
    lay out), so it must be told that a series name needs more room than a count."""
    wants = []
    for i, name in enumerate(columns):
        longest = max((len(row[i].text) for row in rows if i < len(row)), default=0)
        word = max((len(w) for w in name.split()), default=0)
        wants.append(min(max(longest, word, 4), 40))
    total = sum(wants) or 1
    return [round(100 * want / total, 2) for want in wants]


def _text(section: TextSection) -> dict[str, object]:
    # Safe: raw HTML is off in _MARKDOWN, so its output holds only the tags it generates.
    return {
        "kind": "text",
        "title": section.title,
        "html": Markup(_MARKDOWN.render(section.markdown)),
    }


def page_html(document: ReportDocument, *, image_format: ImageFormat = "PNG") -> str:
    """The report as one self-contained HTML page: styles inline, charts as data URIs
    (PNG for the HTML file; the PDF asks for JPEG, which WeasyPrint embeds as it is)."""
    tz = ZoneInfo(document.timezone)
    sections: list[dict[str, object]] = []
    for section in document.sections:
        if isinstance(section, ChartSection):
            sections.append(_chart(section, document, image_format))
        elif isinstance(section, TableSection):
            sections.append(_table(section))
        else:
            sections.append(_text(section))
    return _ENV.get_template("report.html.j2").render(
        doc=document,
        sections=sections,
        range_text=f"{_when(document.from_us, tz)} \N{EN DASH} {_when(document.to_us, tz)}",
        generated_text=_when(document.generated_at_us, tz),
    )
