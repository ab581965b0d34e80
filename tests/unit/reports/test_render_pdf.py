"""The PDF report read back: its text per page (pypdf), its pages, and page 1 as an image."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from bench.reports import week_document
from domain.reports.document import ReportDocument, TableSection
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
