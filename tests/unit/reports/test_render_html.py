"""The HTML report read back as a reader's browser would parse it: headings, tables, images."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from PIL import Image

from domain.reports.document import ChartSection, TableSection
from infra.reports.render import render
from infra.reports.render.page import format_cell
from tests.unit.reports.documents import small_document


@dataclass
class Page(HTMLParser):
    """The parts of an HTML page the tests look at."""

    headings: dict[str, list[str]] = field(default_factory=lambda: {"h1": [], "h2": []})
    tables: list[list[list[str]]] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    _open: list[str] = field(default_factory=list)
    _cell: list[str] | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        self.urls += [v for k, v in values.items() if k in ("src", "href", "action")]
        if tag == "img":
            self.images.append(values)
            return
        self._open.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._open and self._open[-1] in self.headings:
            self.headings[self._open[-1]].append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def page() -> Page:
    (artefact,) = render(small_document(), "HTML")
    assert artefact.name == "report.html"
    assert artefact.media_type == "text/html; charset=utf-8"
    return parse(artefact.content.decode("utf-8"))


def test_the_title_and_every_section_heading_in_order(page: Page) -> None:
    document = small_document()
    assert page.headings["h1"] == [document.title]
    assert page.headings["h2"] == [s.title for s in document.sections]


def test_the_first_lines_say_project_range_and_time_zone(page: Page) -> None:
    text = " ".join(page.text)
    assert "acme-prod" in text
    # Times print in the report's zone, each end with its own offset name (CET, then CEST).
    assert "2026-03-28 00:00 CET \N{EN DASH} 2026-03-31 01:00 CEST" in text
    assert "Europe/Paris" in text


def test_one_inline_png_per_chart_with_data_and_nothing_fetched(page: Page) -> None:
    assert len(page.images) == 1  # the empty chart has a notice instead
    src = page.images[0]["src"]
    assert src.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    assert image.format == "PNG"
    assert image.size == (int(page.images[0]["width"]), int(page.images[0]["height"]))
    assert "CPU <busy> by host" in page.images[0]["alt"]
    assert all(not url.startswith(("http:", "https:", "//")) for url in page.urls)
    assert "link" not in page.tags and "script" not in page.tags


def test_an_empty_chart_says_so(page: Page) -> None:
    assert "No data in this range." in page.text


def test_table_cells_are_the_documents_values(page: Page) -> None:
    document = small_document()
    tables = [s for s in document.sections if isinstance(s, TableSection)]
    html_tables = page.tables
    assert len(html_tables) == len(tables)
    for section, table in zip(tables, html_tables, strict=True):
        assert table[0] == section.columns
        assert len(table) == len(section.rows) + 1
        for row, cells in zip(section.rows, table[1:], strict=True):
            assert cells == [format_cell(v).text for v in row]
            for value, text in zip(row, cells, strict=True):
                if isinstance(value, float) and abs(value) >= 0.01:
                    assert float(text) == pytest.approx(value, abs=5e-5)
    cost = html_tables[0]
    assert cost[1] == ["checkout", "1234.56", "0.625", ""]
    assert cost[2] == ["search", "80", "0.00042", "<b>cheap</b>"]  # escaped, shown as text
    assert cost[3][1] == "0.3"  # 0.1 + 0.2 prints as people expect


def test_markdown_renders_but_raw_html_stays_text(page: Page) -> None:
    assert "strong" in page.tags and "code" in page.tags
    text = "".join(page.text)
    assert "<script>alert('x')</script>" in text  # shown, not run
    assert "script" not in page.tags
    assert page.tags.count("img") == 1  # the chart only: the author's <img> is text
    assert not any(url.startswith("javascript:") for url in page.urls)


def test_titles_are_escaped(page: Page) -> None:
    assert "ops" not in page.tags and "busy" not in page.tags


def test_a_chart_caption_says_which_lines_are_left_out() -> None:
    from infra.reports.render.charts import MAX_LINES
    from tests.unit.reports.documents import line

    lines = [line(f"s{i}", i, step_us=6 * 3_600_000_000) for i in range(MAX_LINES + 7)]
    document = small_document(sections=[ChartSection("Many", lines, unit="B")])
    page = parse(render(document, "HTML")[0].content.decode())
    assert f"Showing the {MAX_LINES} highest of {MAX_LINES + 7} lines." in " ".join(page.text)


def test_format_cell() -> None:
    assert format_cell(None).text == ""
    assert format_cell(12).text == "12" and format_cell(12).numeric
    assert format_cell(-0.0001).text == "-0.0001"
    assert format_cell(2.5e-7).text == "2.5e-07"
    assert format_cell(1e12 + 0.5).text == "1000000000000.5"
    assert format_cell(float("nan")).text == "nan"
    assert format_cell("x").text == "x" and not format_cell("x").numeric


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="no renderer for 'DOCX'"):
        render(small_document(), "DOCX")


def test_a_table_past_the_row_limit_says_where_the_rest_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.reports.render import page as page_module

    monkeypatch.setattr(page_module, "MAX_TABLE_ROWS", 10)
    rows: list[list[str | int | float | None]] = [[f"s{i}", i] for i in range(25)]
    document = small_document(sections=[TableSection("Big", ["series", "points"], rows)])
    page = parse(render(document, "HTML")[0].content.decode())
    (table,) = page.tables
    assert [r[0] for r in table[1:]] == [f"s{i}" for i in range(10)]
    text = " ".join(page.text)
    assert "Showing the first 10 of 25 rows; the CSV and JSON formats hold them all." in text
