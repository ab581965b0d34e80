"""The PDF report read back: its text per page (pypdf), its pages, and page 1 as an image."""

from __future__ import annotations

import base64
import http.server
import io
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from bench.reports import week_document
from domain.reports.document import ReportDocument, TableSection, TextSection
from infra.reports.render import pdf as pdf_module
from infra.reports.render import render
from tests.tools import need_tool
from tests.unit.reports.documents import small_document


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def small_pdf() -> bytes:
    (artefact,) = render(small_document(), "PDF")
    assert artefact.name == "report.pdf"
    assert artefact.media_type == "application/pdf"
    assert artefact.content.startswith(b"%PDF-")
    return artefact.content


@pytest.fixture(scope="module")
def week() -> tuple[ReportDocument, bytes]:
    document = week_document()
    return document, render(document, "PDF")[0].content


def test_the_first_page_names_title_project_range_and_time_zone(small_pdf: bytes) -> None:
    first = pages_text(small_pdf)[0]
    assert "Weekly <ops> report" in first
    assert "acme-prod" in first
    assert "2026-03-28 00:00 CET \N{EN DASH} 2026-03-31 01:00 CEST" in first
    assert "Europe/Paris" in first


def test_every_page_is_numbered(small_pdf: bytes) -> None:
    texts = pages_text(small_pdf)
    assert len(texts) >= 2  # the 120-row table runs over a page
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text
        assert "Weekly <ops> report · acme-prod" in text  # the running footer


def test_markdown_and_notices_print(small_pdf: bytes) -> None:
    text = "\n".join(pages_text(small_pdf))
    assert "No data in this range." in text
    assert "<script>alert('x')</script>" in text
    assert "served from the 1h rollup" in text


def test_a_long_table_runs_over_pages_with_every_row_and_its_heading(
    week: tuple[ReportDocument, bytes],
) -> None:
    document, pdf = week
    texts = pages_text(pdf)
    usage = next(s for s in document.sections if s.title == "Usage by series")
    assert isinstance(usage, TableSection)
    pages_with_rows = [
        i for i, text in enumerate(texts) if any(str(row[0]) in text for row in usage.rows)
    ]
    assert len(pages_with_rows) >= 2
    joined = "\n".join(texts)
    for row in usage.rows:  # nothing cut off at a page break: every row, every value
        found = re.search(re.escape(str(row[0])) + r"\s+(\d+)\s+(\d+)\s+(\d+)", joined)
        assert found, row[0]
        assert [int(v) for v in found.groups()] == row[1:]
    for i in pages_with_rows[1:]:  # the heading repeats on each page the table continues on
        assert re.search(r"series\s+points\s+bytes\s+queries", texts[i]), i


def test_the_week_report_has_its_twelve_sections(week: tuple[ReportDocument, bytes]) -> None:
    document, pdf = week
    text = "\n".join(pages_text(pdf))
    assert len(document.sections) == 12
    for section in document.sections:
        assert section.title in text
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 4


def test_page_one_as_an_image_is_a_page_not_a_blank(small_pdf: bytes, tmp_path: Path) -> None:
    pdftoppm = need_tool("pdftoppm", install="apt-get install poppler-utils")
    (tmp_path / "report.pdf").write_bytes(small_pdf)
    subprocess.run(
        [pdftoppm, "-png", "-r", "80", "-f", "1", "-l", "1", "report.pdf", "page"],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    (png,) = tmp_path.glob("page*.png")
    image = Image.open(png).convert("L")
    assert image.size == (662, 936)  # A4 at 80 dpi
    pixels = np.asarray(image, dtype=np.float64)
    assert pixels.std() > 20  # text and a chart, not an empty page
    # The chart's lines: a good share of the page carries ink, more than text alone would.
    assert (pixels < 200).mean() > 0.03


class _Receiver(http.server.BaseHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(_PIXEL)

    def log_message(self, *args: object) -> None:
        pass


_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server that counts what is asked of it."""
    _Receiver.paths = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Receiver.paths
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_markdown_images_are_links_and_nothing_is_fetched(
    receiver: tuple[str, list[str]],
) -> None:
    url, paths = receiver
    text = TextSection("Look", f"![pixel]({url}/md.png) and [docs]({url}/docs)")
    document = small_document(sections=[text])
    html = render(document, "HTML")[0].content.decode()
    assert f'<a href="{url}/md.png">pixel</a>' in html
    assert "<img" not in html
    render(document, "PDF")
    assert paths == []


def test_the_pdf_layout_fetches_nothing_but_data_uris(
    receiver: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Unit test of the fetcher alone: a page that asks for remote and local files.
    secret = tmp_path / "secret.png"
    secret.write_bytes(_PIXEL)
    url, paths = receiver
    page = (
        f'<html><head><link rel="stylesheet" href="{url}/s.css"></head><body>'
        f'<img src="{url}/a.png"><img src="file://{secret}">'
        f'<img src="data:image/png;base64,{base64.b64encode(_PIXEL).decode()}"></body></html>'
    )
    monkeypatch.setattr(pdf_module, "page_html", lambda document, image_format: page)
    (artefact,) = pdf_module.render_pdf(small_document())
    assert paths == []
    images = PdfReader(io.BytesIO(artefact.content)).pages[0].images
    assert len(images) == 1  # the data: URI only


def test_a_wide_table_wraps_rather_than_cutting_values_off() -> None:
    columns = [f"column {i}" for i in range(12)]
    rows: list[list[str | int | float | None]] = [
        [f"service-{r}-{'x' * 30}-end{r}", *[10**9 + r * 1000 + c for c in range(11)]]
        for r in range(5)
    ]
    document = small_document(sections=[TableSection("Wide", columns, rows)])
    text = re.sub(r"\s+", "", "".join(pages_text(render(document, "PDF")[0].content)))
    for row in rows:
        for value in row:
            assert str(value) in text, value
