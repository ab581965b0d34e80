"""The report scheduler: every tick, each scheduled report's due slot runs once across
instances.

A tick reads the reports that have a schedule and, for each, the newest slot at or before
now that no instance has claimed (slots after the last claimed one, and after the
report's schedule was set). The store's unique claim decides which instance runs it.

- A slot that came while this instance was running: a `schedule` run, however late the
  tick (a long run of another report may delay it).
- A slot that passed before this instance started (more than `grace_us` before its first
  tick), that no other instance ran: Vigil was down over it, and the report's `missed`
  policy decides. RUN_ONCE
  runs the newest missed slot once (`catch_up`); older missed slots are not run. SKIP
  records the slot skipped and runs nothing.
- A claim whose instance died (its claim lapsed unfinished) is claimed again and run,
  unless the run itself was recorded (`ran`): then the claim is finished with it.
- Finished claims older than `keep_us` are pruned, except each report's newest.

After an ok run, `deliver` hands the files to the report's recipients.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from domain.errors import VigilError
from domain.ports import Clock
from domain.reports.schedule import MissedSlots, Schedule, ScheduleSpec, parse_schedule
from domain.reports.slots import ReportSlotStore, SlotClaim, SlotStatus

__all__ = [
    "RunOutcome",
    "ScheduledReport",
    "Scheduler",
    "SchedulerSettings",
]

logger = logging.getLogger("vigil.reports.scheduler")

MINUTE_US = 60_000_000
# How far back a tick looks for the newest due slot: windows tried in turn (a report down
# a whole year with a 5-minute schedule still costs one short walk).
_LOOKBACK_US = (3_600_000_000, 86_400_000_000, 40 * 86_400_000_000, 400 * 86_400_000_000)


@dataclass(frozen=True, slots=True)
class ScheduledReport:
    """What the scheduler needs of a report: its schedule, since when it holds, and who
    gets its files."""

    project: str
    report_id: str
    schedule: ScheduleSpec
    since_us: int  # slots at or before this are not the schedule's (set or changed then)
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RunOutcome:
    run_id: str
    status: str  # ok or failed
    error: str = ""


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    owner: str  # this instance's name
    grace_us: int = 2 * MINUTE_US  # a slot this long before the start was missed
    claim_us: int = 10 * MINUTE_US  # a run not finished in this long is taken over
    keep_us: int = 90 * 1_440 * MINUTE_US  # finished claims older than this are pruned


ListScheduled = Callable[[], Awaitable[list[ScheduledReport]]]
RunScheduled = Callable[[str, str, str, int], Awaitable[RunOutcome]]  # project, id, trigger, slot
Deliver = Callable[[ScheduledReport, RunOutcome, SlotClaim], Awaitable[None]]
# (project, report id, slot) -> the finished run of that slot, if one was recorded.
FindRun = Callable[[str, str, int], Awaitable[RunOutcome | None]]


class Scheduler:
    def __init__(
        self,
        *,
        reports: ListScheduled,
        slots: ReportSlotStore,
        run: RunScheduled,
        clock: Clock,
        settings: SchedulerSettings,
        deliver: Deliver | None = None,
        ran: FindRun | None = None,
    ) -> None:
        self._reports = reports
        self._slots = slots
        self._run = run
        self._clock = clock
        self.settings = settings
        self._deliver = deliver
        self._ran = ran
        self._schedules: dict[ScheduleSpec, Schedule | None] = {}
        self._pruned_us = 0
        self._started_us = 0  # the first tick: slots well before it were missed while down

    async def tick(self) -> list[SlotClaim]:
        """Run what is due now; the claims this instance finished."""
        self._started_us = self._started_us or self._clock.now_us()
        reports = await self._reports()
        await self._prune()
        done = [c for c in await self._retry_lapsed(reports) if c is not None]
        cursors = await self._slots.last_slots()
        for report in reports:
            try:
                last = cursors.get((report.project, report.report_id))
                finished = await self._tick_report(report, last)
            except VigilError as exc:  # the store is down: the next tick tries again
                logger.warning("report %s: scheduling failed: %s", report.report_id, exc)
                continue
            if finished is not None:
                done.append(finished)
        return done

    def due_slot(self, report: ScheduledReport, last: int | None, now_us: int) -> int | None:
        """The newest slot of `report` at or before `now_us` after its `last` claimed one."""
        schedule = self._schedule(report.schedule)
        if schedule is None:
            return None
        after = max(last or 0, report.since_us)
        for window in _LOOKBACK_US:
            slots = schedule.slots_between(max(after, now_us - window), now_us, limit=100_000)
            if slots:
                return slots[-1]
            if now_us - window <= after:
                return None
        return None

    async def _tick_report(self, report: ScheduledReport, last: int | None) -> SlotClaim | None:
        now = self._clock.now_us()
        slot = self.due_slot(report, last, now)
        if slot is None:
            return None
        late = slot < self._started_us - self.settings.grace_us
        if late and report.schedule.missed is MissedSlots.SKIP:
            claim = SlotClaim(
                report.project, report.report_id, slot, self.settings.owner, "catch_up", now
            )
            if not await self._slots.claim_slot(claim, until_us=now + self.settings.claim_us):
                return None
            logger.info("report %s: slot %d missed while down, skipped", report.report_id, slot)
            skipped = claim.finished(SlotStatus.SKIPPED, now)
            return skipped if await self._slots.finish_slot(skipped) else None
        trigger = "catch_up" if late else "schedule"
        claim = SlotClaim(report.project, report.report_id, slot, self.settings.owner, trigger, now)
        return await self._claim_and_run(claim, report)

    async def _retry_lapsed(self, reports: list[ScheduledReport]) -> list[SlotClaim | None]:
        now = self._clock.now_us()
        by_id = {(r.project, r.report_id): r for r in reports}
        done: list[SlotClaim | None] = []
        for dead in await self._slots.lapsed_slots(now):
            claim = SlotClaim(
                dead.project, dead.report_id, dead.slot_us, self.settings.owner, dead.trigger, now
            )
            report = by_id.get((dead.project, dead.report_id))
            if report is None or (
                dead.trigger == "catch_up" and report.schedule.missed is MissedSlots.SKIP
            ):  # deleted, unscheduled, or a skip whose instance died before recording it
                why = "no longer scheduled" if report is None else "missed while down"
                if await self._slots.claim_slot(claim, until_us=now + self.settings.claim_us):
                    await self._slots.finish_slot(
                        claim.finished(SlotStatus.SKIPPED, now, error=why)
                    )
                continue
            if self._ran is not None:
                ran = await self._ran(claim.project, claim.report_id, claim.slot_us)
                if ran is not None:  # it died after the run, before recording it: record it
                    if await self._slots.claim_slot(claim, until_us=now + self.settings.claim_us):
                        status = SlotStatus.OK if ran.status == "ok" else SlotStatus.FAILED
                        await self._slots.finish_slot(
                            claim.finished(status, now, run_id=ran.run_id, error=ran.error)
                        )
                    continue
            logger.info(
                "report %s: slot %d was left unfinished, taken over", claim.report_id, claim.slot_us
            )
            done.append(await self._claim_and_run(claim, report))
        return done

    async def _claim_and_run(self, claim: SlotClaim, report: ScheduledReport) -> SlotClaim | None:
        if not await self._slots.claim_slot(
            claim, until_us=claim.claimed_us + self.settings.claim_us
        ):
            return None  # another instance has it
        try:
            outcome = await self._run(claim.project, claim.report_id, claim.trigger, claim.slot_us)
        except Exception as exc:  # recorded, not raised: the other reports still run
            logger.exception("report %s: scheduled run failed", claim.report_id)
            reason = exc.message if isinstance(exc, VigilError) else type(exc).__name__
            outcome = RunOutcome("", "failed", reason)
        status = SlotStatus.OK if outcome.status == "ok" else SlotStatus.FAILED
        finished = claim.finished(
            status, self._clock.now_us(), run_id=outcome.run_id, error=outcome.error
        )
        if not await self._slots.finish_slot(finished):
            return None  # judged dead and taken over meanwhile: the taker delivers
        if status is SlotStatus.OK and self._deliver is not None and report.recipients:
            try:
                await self._deliver(report, outcome, finished)
            except Exception:  # the run stands; deliveries have their own retries
                logger.exception(
                    "report %s: delivering run %s failed", claim.report_id, outcome.run_id
                )
        return finished

    async def _prune(self) -> None:
        """At most hourly: claims past `keep_us` go (each report's newest stays)."""
        now = self._clock.now_us()
        if now - self._pruned_us >= 60 * MINUTE_US:
            self._pruned_us = now
            await self._slots.prune_slots(now - self.settings.keep_us)

    def _schedule(self, spec: ScheduleSpec) -> Schedule | None:
        if spec not in self._schedules:
            try:
                parsed: Schedule | None = parse_schedule(
                    spec.kind.value, spec.expression, spec.timezone, spec.missed.value
                )
            except VigilError as exc:  # stored before a rule tightened: never runs
                logger.warning("schedule %r cannot run: %s", spec.expression, exc)
                parsed = None
            self._schedules[spec] = parsed
        return self._schedules[spec]
