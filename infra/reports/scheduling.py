"""The report scheduler of one instance, wired to the stores, the bus and the notification
outbox: a loop that ticks domain.reports.scheduler.Scheduler every few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from domain.messagebus import MessageBus
from domain.notifications.model import Channel
from domain.ports import Clock
from domain.reports.commands import RunReportCommand
from domain.reports.delivery import FileRef, report_deliveries
from domain.reports.links import ReportLinks
from domain.reports.model import ReportRun
from domain.reports.scheduler import (
    RunOutcome,
    ScheduledReport,
    Scheduler,
    SchedulerSettings,
)
from domain.reports.slots import SlotClaim
from infra.config import Settings
from infra.notifications.wiring import Notifications

__all__ = ["ReportSchedules"]

logger = logging.getLogger("vigil.reports.scheduler")


class ReportSchedules:
    """Build, `start` once the bus runs, `close` before the store closes."""

    def __init__(
        self,
        settings: Settings,
        stores: Any,
        bus: MessageBus,
        notifications: Notifications,
        links: ReportLinks,
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._stores = stores
        self._bus = bus
        self._outbox = notifications.worker
        self._links = links
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        # Email reads a report delivery's files from the store when it sends them.
        notifications.mail.files = self._file
        self.scheduler = Scheduler(
            reports=self._scheduled,
            slots=stores.report_slots,
            run=self._run,
            clock=clock,
            settings=SchedulerSettings(owner=settings.instance_name),
            deliver=self._deliver,
            ran=self._ran,
        )

    def start(self) -> None:
        if self._settings.report_schedule_seconds > 0:
            self._task = asyncio.create_task(self._loop(), name="report-schedules")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.scheduler.tick()
            except Exception:  # the store is down, say: the next tick tries again
                logger.exception("the report schedule tick failed")
            await asyncio.sleep(self._settings.report_schedule_seconds)

    async def _scheduled(self) -> list[ScheduledReport]:
        return [
            ScheduledReport(
                r.project,
                r.id,
                r.schedule,
                r.updated_at_us or r.created_at_us,
                tuple(r.recipients),
            )
            for r in await self._stores.reports.list_reports(None)
            if r.schedule is not None
        ]

    async def _run(self, project: str, report_id: str, trigger: str, slot_us: int) -> RunOutcome:
        command = RunReportCommand(project, report_id, trigger, slot_us, actor="scheduler")
        run: ReportRun = await self._bus.handle(command)
        return RunOutcome(run.id, run.status.value, run.error)

    async def _deliver(
        self, report: ScheduledReport, outcome: RunOutcome, claim: SlotClaim
    ) -> None:
        stored = await self._stores.reports.get_report(report.project, report.report_id)
        run = await self._stores.reports.get_run(report.project, outcome.run_id)
        if stored is None or run is None:
            return
        files = []
        for name in run.files:
            artefact = await self._stores.report_artefacts.get_artefact(run.project, run.id, name)
            if artefact is not None:
                files.append(FileRef(name, artefact.media_type, len(artefact.content)))
        channels: list[Channel] = []
        for channel_id in report.recipients:
            channel = await self._stores.notifications.get_channel(report.project, channel_id)
            if channel is None:
                logger.warning("report %s: recipient channel %s is gone", run.report_id, channel_id)
                continue
            channels.append(channel)
        deliveries = report_deliveries(
            project=run.project,
            title=stored.title,
            run_id=run.id,
            slot_us=claim.slot_us,
            timezone=report.schedule.timezone,
            trigger=claim.trigger,
            files=files,
            channels=channels,
            link=self._link,
            now_us=self._clock.now_us(),
            attach_limit=self._settings.report_attach_max_bytes,
        )
        for delivery in deliveries:
            # Attempted once now; the worker retries it with backoff, then dead-letters it.
            await self._outbox.send_new(delivery)

    async def _ran(self, project: str, report_id: str, slot_us: int) -> RunOutcome | None:
        for run in await self._stores.reports.list_runs(project, report_id):
            if run.slot_us == slot_us and run.status.value in ("ok", "failed"):
                return RunOutcome(run.id, run.status.value, run.error)
        return None

    def _link(self, run_id: str, name: str) -> str:
        path = self._links.signed(run_id, name, now_us=self._clock.now_us())
        return self._settings.public_url.rstrip("/") + path

    async def _file(self, project: str, run_id: str, name: str) -> bytes | None:
        artefact = await self._stores.report_artefacts.get_artefact(project, run_id, name)
        return artefact.content if artefact is not None else None
