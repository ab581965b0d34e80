"""PDF reports: the HTML report page laid out for A4 by WeasyPrint.

One template makes both formats (docs/decisions/0030-report-rendering.md says why
WeasyPrint rather than fpdf2). Charts go in as JPEG here: WeasyPrint embeds a JPEG as it
is, where it decodes and re-compresses a PNG.
"""

from __future__ import annotations

from domain.reports.document import Artefact, ReportDocument
from infra.reports.render.page import page_html

try:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher
except OSError as exc:  # WeasyPrint loads Pango with cffi when imported
    raise RuntimeError(
        "PDF reports need Pango: install libpango-1.0-0, libpangoft2-1.0-0 and "
        f"libharfbuzz-subset0 (Debian) or your system's equivalent ({exc})"
    ) from exc

__all__ = ["PDF_NAME", "render_pdf"]

PDF_NAME = "report.pdf"


def render_pdf(document: ReportDocument) -> list[Artefact]:
    html = page_html(document, image_format="JPEG")
    # The page is self-contained: fetch nothing but its own data: URIs (no file, no network).
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    pdf = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return [Artefact(PDF_NAME, "application/pdf", pdf)]
