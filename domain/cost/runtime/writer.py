"""The cost writer: each project's cost of the last complete bucket, written into the
project as series, so that cost charts, alerts and forecasts like any metric.

Every `step` (an hour by default), once the bucket has been closed for `lag` (points come
late), each priced project gets at the bucket's start:

- `vigil.cost.total` {currency}: rows + idle, in cents, as `costReport` answers;
- `vigil.cost.by_owner` {owner, currency}: one point per owner (the pricing's owner tag;
  "none" for series without it);
- `vigil.cost.idle` {currency}: capacity nobody was allocated (SEPARATE).

Through the normal ingest command, with the idempotency key `vigil.cost:<bucket start>`:
a bucket is stored once however many instances write it. Each project is written by the
instance holding the lease `cost:write:<project>` (renewed every tick, taken over by
another instance when it lapses), so instances do not all compute every report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from domain.cost.compute import IdleMode
from domain.cost.model import Pricing
from domain.cost.ports import PricingStore
from domain.cost.queries import GetCostReportQuery
from domain.cost.read_models import CostReportDto
from domain.metrics.commands import CreateMetricsCommand
from domain.ports import Clock, LeaseStore

__all__ = ["LEASE_PREFIX", "CostWriter", "WriterSettings", "cost_points"]

logger = logging.getLogger("vigil.cost")

LEASE_PREFIX = "cost:write:"
Handle = Callable[[Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class WriterSettings:
    owner: str  # this instance's name among instances
    step_us: int = 3_600_000_000
    lag_us: int = 120_000_000
    tick_seconds: float = 30.0


@dataclass(slots=True)
class CostWriter:
    pricing: PricingStore
    leases: LeaseStore
    clock: Clock
    settings: WriterSettings
    written: dict[str, int] = field(default_factory=dict)  # project -> last bucket written
    _task: asyncio.Task[None] | None = None

    async def start(self, *, handle: Handle, ask: Handle) -> None:
        self._task = asyncio.create_task(self._loop(handle, ask))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def due_bucket(self, now_us: int) -> int:
        """The start of the last bucket closed for at least the lag."""
        step = self.settings.step_us
        return (now_us - self.settings.lag_us) // step * step - step

    async def write_due(self, handle: Handle, ask: Handle) -> list[str]:
        """Write the due bucket of every priced project this instance holds; the projects
        written now."""
        now = self.clock.now_us()
        bucket = self.due_bucket(now)
        ttl = round(3 * self.settings.tick_seconds * 1_000_000)
        done = []
        for pricing in await self.pricing.pricings():
            project = pricing.project
            if self.written.get(project) == bucket or not pricing.prices:
                continue
            lease = LEASE_PREFIX + project
            if not await self.leases.acquire_lease(
                lease, self.settings.owner, now_us=now, ttl_us=ttl
            ):
                continue  # another instance writes this project
            try:
                await self._write(pricing, bucket, handle, ask)
            except Exception:  # one project's failure leaves the others to be written
                logger.exception("cost: the series of %r were not written", project)
                continue
            self.written[project] = bucket
            done.append(project)
        return done

    async def _write(self, pricing: Pricing, bucket: int, handle: Handle, ask: Handle) -> None:
        step = self.settings.step_us
        report: CostReportDto = await ask(
            GetCostReportQuery(
                pricing.project,
                bucket,
                bucket + step,
                step_us=step,
                group_by=(pricing.owner_tag,),
                idle=IdleMode.SEPARATE,
            )
        )
        points = cost_points(report, pricing.owner_tag, bucket)
        key = f"vigil.cost:{bucket}"
        await handle(CreateMetricsCommand(pricing.project, points, idempotency_key=key))

    async def _loop(self, handle: Handle, ask: Handle) -> None:
        while True:
            try:
                await self.write_due(handle, ask)
            except Exception:  # a bad tick (the store away) must not end the writer
                logger.exception("cost: a writer tick failed")
            await asyncio.sleep(self.settings.tick_seconds)


def cost_points(report: CostReportDto, owner_tag: str, bucket_us: int) -> list[dict[str, Any]]:
    """The report's total, owners and idle as points at the bucket's start."""
    currency = report.currency

    def point(name: str, value: float, **tags: str) -> dict[str, Any]:
        return {
            "name": name,
            "value": value,
            "type": "gauge",
            "category": "vigil",
            "source": "cost",
            "tags": {**tags, "currency": currency},
            "timestamp": bucket_us // 1000,
        }

    points = [point("vigil.cost.total", float(report.total))]
    points += [
        point("vigil.cost.by_owner", float(row.cost), owner=row.tags.get(owner_tag) or "none")
        for row in report.rows
    ]
    points.append(point("vigil.cost.idle", float(report.idle.cost)))
    return points
