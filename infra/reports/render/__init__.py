"""Renderers: a ReportDocument to files, one module per format, all in-process.

`render` is the one entry point; it is CPU work (matplotlib, PDF layout), so callers run it
off the event loop."""

from __future__ import annotations

from domain.reports.document import Artefact, ReportDocument

__all__ = ["FORMATS", "render"]

FORMATS = ("PDF", "HTML", "CSV", "JSON")


def render(document: ReportDocument, fmt: str) -> list[Artefact]:
    """The files of `document` in `fmt` (one of FORMATS); the first is the main file."""
    if fmt == "PDF":
        from infra.reports.render.pdf import render_pdf

        return render_pdf(document)
    if fmt == "HTML":
        from infra.reports.render.html import render_html

        return render_html(document)
    if fmt == "CSV":
        from infra.reports.render.csv_files import render_csv

        return render_csv(document)
    if fmt == "JSON":
        from infra.reports.render.json_file import render_json

        return render_json(document)
    raise ValueError(f"no renderer for {fmt!r}: one of {', '.join(FORMATS)}")
