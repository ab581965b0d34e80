"""MARKDOWN sections: the author's text, as written."""

from __future__ import annotations

from domain.messagebus import Ask
from domain.reports.document import Section, TextSection
from domain.reports.model import SectionSpec
from domain.reports.ports import Window

__all__ = ["read_markdown"]


async def read_markdown(ask: Ask, project: str, spec: SectionSpec, window: Window) -> list[Section]:
    return [TextSection(spec.title, spec.markdown)]
