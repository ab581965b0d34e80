"""The retention runner: applies every project's policy, once per period across instances.

Each instance ticks; the one that takes the lease `retention:run` (held for a whole
period, so no other instance runs within it) deletes, project by project, what each
tier keeps no longer: raw points through the store's PointExpiry, 1-minute and 1-hour
buckets through RollupExpiry (a bucket goes once it starts before the cutoff rounded
down to its resolution, so at most one bucket older than the retention remains). A
project under legal hold loses nothing. Every run writes one audit entry per project
with the counts deleted per tier (or why nothing was), then forgets the idempotency keys
older than their lifetime.

Metric names are grouped by the override that applies to them (the first whose pattern
matches); a group whose duration equals the project's for a tier is deleted with the
project's own call, so a policy without overrides costs one call per tier.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from domain.errors import VigilError
from domain.ports import Clock, LeaseStore
from domain.storage.retention.model import RetentionPolicy
from domain.storage.retention.ports import AuditRecorder, PointExpiry, RollupExpiry
from domain.storage.retention.runtime.book import PolicyBook
from domain.storage.tiers import TIERS, Tier

__all__ = ["ACTION", "ACTOR", "LEASE", "ProjectRun", "RetentionRunner", "RunnerSettings"]

logger = logging.getLogger("vigil.retention")

LEASE = "retention:run"
ACTOR = "vigil:retention"  # who the audit entries of runs name
ACTION = "ApplyRetention"


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    owner: str  # this instance's name among instances
    every_us: int = 3_600_000_000
    key_ttl_us: int = 86_400_000_000  # idempotency keys are forgotten after this
    tick_seconds: float = 30.0


@dataclass(slots=True)
class ProjectRun:
    """What one run did to one project."""

    project: str
    policy_version: int
    held: bool = False
    deleted: dict[str, int | None] = field(default_factory=dict)  # None: tier not wired
    before_us: dict[str, int] = field(default_factory=dict)
    error: str = ""


class RetentionRunner:
    def __init__(
        self,
        book: PolicyBook,
        points: PointExpiry,
        audit: AuditRecorder,
        leases: LeaseStore,
        clock: Clock,
        *,
        settings: RunnerSettings,
        rollups: RollupExpiry | None = None,
    ) -> None:
        self.book = book
        self.settings = settings
        self.rollups = rollups  # None until the rollup tiers' store is wired in
        self.last_run_us = 0
        self._points = points
        self._audit = audit
        self._leases = leases
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_due(self) -> list[ProjectRun] | None:
        """A run if one is due here and no other instance ran in this period; else None."""
        now = self._clock.now_us()
        if self.last_run_us and now - self.last_run_us < self.settings.every_us:
            return None
        return await self.run(now)

    async def run(self, now_us: int | None = None) -> list[ProjectRun] | None:
        """Apply every project's policy now; None if another instance holds the period."""
        now = self._clock.now_us() if now_us is None else now_us
        owner, period = self.settings.owner, self.settings.every_us
        if not await self._leases.acquire_lease(LEASE, owner, now_us=now, ttl_us=period):
            return None
        self.last_run_us = now
        projects = set(await self._points.point_projects())
        projects |= {p.project for p in await self.book.store.retention_policies()}
        runs = []
        for project in sorted(projects):
            runs.append(await self._apply_audited(project, now))
            # A long run keeps the period to itself.
            await self._leases.renew_leases({LEASE}, owner, now_us=now, ttl_us=period)
        forgotten = await self._points.expire_ingest_keys(now - self.settings.key_ttl_us)
        if forgotten:
            logger.info("retention: %d idempotency keys forgotten", forgotten)
        return runs

    async def _apply_audited(self, project: str, now: int) -> ProjectRun:
        try:
            policy = (await self.book.stored(project)).capped(self.book.defaults.raw_ceiling_us)
        except Exception as exc:  # this project's turn fails; the others go on
            logger.exception("retention: the policy of %r could not be read", project)
            run = ProjectRun(project, 0, error=_reason(exc))
        else:
            run = ProjectRun(project, policy.version, held=policy.hold is not None)
            try:
                if run.held:
                    run.deleted = {t.name: 0 for t in TIERS}
                else:
                    await self._apply(policy, now, run)
            except Exception as exc:
                logger.exception("retention: applying the policy of %r failed", project)
                run.error = _reason(exc)
        await self._audit.record(
            actor=ACTOR,
            action=ACTION,
            project=project,
            outcome="error" if run.error else "held" if run.held else "ok",
            target={"policy_version": str(run.policy_version)},
            detail=_detail(run, None if run.error or not run.held else policy),
        )
        return run

    async def _apply(self, policy: RetentionPolicy, now: int, run: ProjectRun) -> None:
        names = await self._points.point_names(policy.project) if policy.overrides else []
        groups: dict[int, list[str]] = {}
        for name in names:
            index = policy.override_of(name)
            if index is not None:
                groups.setdefault(index, []).append(name)
        for tier in TIERS:
            if not tier.is_raw and self.rollups is None:
                run.deleted[tier.name] = None
                continue
            own = _before(tier, now - policy.keep(tier))
            run.before_us[tier.name] = own
            apart: list[str] = []
            deleted = 0
            for index, members in sorted(groups.items()):
                before = _before(tier, now - policy.effective(policy.overrides[index])[tier.name])
                if before == own:
                    continue  # the same cutoff: deleted with the project's own call
                apart.extend(members)
                deleted += await self._expire(tier, policy.project, before, members, ())
            deleted += await self._expire(tier, policy.project, own, None, apart)
            run.deleted[tier.name] = deleted

    async def _expire(
        self,
        tier: Tier,
        project: str,
        before: int,
        names: list[str] | None,
        exclude: list[str] | tuple[()],
    ) -> int:
        if tier.is_raw:
            return await self._points.expire_points(project, before, names, exclude)
        assert self.rollups is not None
        return await self.rollups.expire_rollups(tier, project, before, names, exclude)

    async def _loop(self) -> None:
        while True:  # a tick after start first: a start-up is busy enough
            await asyncio.sleep(self.settings.tick_seconds)
            try:
                await self.run_due()
            except Exception:  # the store may be down for a moment: the next tick retries
                logger.exception("retention run failed")


def _before(tier: Tier, cutoff: int) -> int:
    """The cutoff of a tier: a rollup bucket goes only once it starts before a multiple of
    its resolution at or below `cutoff` (it holds no point newer than that)."""
    if tier.is_raw:
        return cutoff
    return cutoff - cutoff % tier.resolution_us


def _reason(exc: Exception) -> str:
    return exc.code if isinstance(exc, VigilError) else type(exc).__name__


def _detail(run: ProjectRun, held: RetentionPolicy | None) -> dict[str, object]:
    detail: dict[str, object] = {
        "deleted": dict(run.deleted),
        "before_us": dict(run.before_us),
        "legal_hold": run.held,
    }
    if held is not None and held.hold is not None:
        detail["note"] = "legal hold: nothing deleted"
        detail["hold"] = held.hold.to_dict()
    if run.error:
        detail["error"] = run.error
    return detail
