"""HTML reports: the report page as one self-contained file (no scripts, CDN or links out)."""

from __future__ import annotations

from domain.reports.document import Artefact, ReportDocument
from infra.reports.render.page import page_html

__all__ = ["HTML_NAME", "render_html"]

HTML_NAME = "report.html"


def render_html(document: ReportDocument) -> list[Artefact]:
    html = page_html(document)
    return [Artefact(HTML_NAME, "text/html; charset=utf-8", html.encode("utf-8"))]
