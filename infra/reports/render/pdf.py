"""PDF reports: the HTML report page laid out for A4 by WeasyPrint (docs/decisions)."""

from __future__ import annotations

from weasyprint import HTML

from domain.reports.document import Artefact, ReportDocument
from infra.reports.render.page import page_html

__all__ = ["PDF_NAME", "render_pdf"]

PDF_NAME = "report.pdf"


def render_pdf(document: ReportDocument) -> list[Artefact]:
    pdf = HTML(string=page_html(document, image_format="JPEG")).write_pdf()
    return [Artefact(PDF_NAME, "application/pdf", pdf)]
