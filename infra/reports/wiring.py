"""What the report handlers are given: stores, section readers, the renderer, signed
links; and the periodic sweep of files past their retention."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

from domain.messagebus import MessageBus
from domain.reports.commands import ExpireReportArtefactsCommand
from domain.reports.links import ReportLinks
from domain.reports.model import SectionKind
from domain.reports.ports import SectionReader
from domain.reports.readers import default_readers
from infra.auth import load_or_create_secret
from infra.config import Settings
from infra.reports.render import render

__all__ = ["ArtefactSweeper", "report_dependencies", "report_links"]

logger = logging.getLogger("vigil.reports")


def report_links(settings: Settings) -> ReportLinks:
    """Links signed with a key derived from the token secret, which every instance of a
    cluster shares (never the secret itself: a link key never signs a token)."""
    secret = settings.secret.encode() if settings.secret else None
    secret = secret or load_or_create_secret(settings.secret_file)
    key = hmac.new(secret, b"vigil report links v1", hashlib.sha256).digest()
    return ReportLinks(key, settings.report_link_seconds)


def report_dependencies(
    settings: Settings,
    stores: Any,
    extra_readers: Mapping[SectionKind, SectionReader] | None = None,
) -> dict[str, Any]:
    """The handlers' dependencies by name (domain/reports). `extra_readers` adds (or
    replaces) the readers of section kinds this package does not read (USAGE, COST)."""
    readers = default_readers()
    readers.update(extra_readers or {})
    return {
        "reports": stores.reports,
        "report_artefacts": stores.report_artefacts,
        "report_readers": readers,
        "report_renderer": render,
        "report_links": report_links(settings),
    }


class ArtefactSweeper:
    """Every `every_seconds`, the files of runs past their report's retention are removed
    (ExpireReportArtefactsCommand); idempotent, so every instance may run it."""

    def __init__(self, bus: MessageBus, every_seconds: float) -> None:
        self._bus = bus
        self._every = every_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._every > 0:
            self._task = asyncio.create_task(self._loop(), name="report-artefact-sweep")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sweep(self) -> int:
        expired: int = await self._bus.handle(ExpireReportArtefactsCommand())
        return expired

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                expired = await self.sweep()
                if expired:
                    logger.info("report files of %d runs past their retention removed", expired)
            except Exception:
                logger.exception("the report artefact sweep failed")
