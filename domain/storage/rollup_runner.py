"""The rollup runner: keeps each tier rolled up to `now - lag` and its dirty buckets fresh.

One instance does the work across several (a lease, renewed between slices; another
instance takes over once it expires). Each pass, per tier: recompute the dirty buckets
(late points), then advance the watermark to `now - lag` one slice at a time. Every slice
is one store call (a transaction on the store's writer), so appends go on between slices
and memory stays bounded by a slice. The lag leaves room for points that arrive a little
late: they land before the watermark and cost no recomputation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from domain.ports import Clock, LeaseStore
from domain.storage.ports import RollupStore
from domain.storage.tiers import ROLLUP_TIERS

__all__ = ["LEASE", "RollupPass", "RollupRunner", "RollupSettings"]

logger = logging.getLogger("vigil.rollups")

LEASE = "rollups"


@dataclass(frozen=True, slots=True)
class RollupSettings:
    lag_us: int = 120_000_000  # VIGIL_ROLLUP_LAG_SECONDS
    every_seconds: float = 10.0  # VIGIL_ROLLUP_SECONDS
    slice_us: int = 3_600_000_000  # one hour of points per transaction
    dirty_batch: int = 1_000  # dirty buckets recomputed per transaction
    lease_us: int = 60_000_000


@dataclass(slots=True)
class RollupPass:
    """What one pass did: per tier, dirty buckets recomputed and the watermark reached."""

    ran: bool = False  # False: another instance holds the lease
    refreshed: dict[str, int] = field(default_factory=dict)
    watermarks: dict[str, int] = field(default_factory=dict)


class RollupRunner:
    def __init__(
        self,
        store: RollupStore,
        leases: LeaseStore,
        clock: Clock,
        *,
        owner: str,
        settings: RollupSettings | None = None,
    ) -> None:
        self._store = store
        self._leases = leases
        self._clock = clock
        self._owner = owner
        self.settings = settings or RollupSettings()
        self.last: RollupPass | None = None
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> RollupPass:
        """One pass over every tier, if this instance holds (or takes) the lease."""
        result = RollupPass()
        if not await self._hold():
            return result
        result.ran = True
        for tier in ROLLUP_TIERS:
            resolution = tier.resolution_us
            refreshed = 0
            while done := await self._store.refresh_dirty(tier, self.settings.dirty_batch):
                refreshed += done
                if not await self._hold():
                    return result
            result.refreshed[tier.name] = refreshed
            target = (self._clock.now_us() - self.settings.lag_us) // resolution * resolution
            slice_us = max(resolution, self.settings.slice_us // resolution * resolution)
            watermark = await self._store.advance(tier, target, slice_us=slice_us)
            while watermark < target:
                if not await self._hold():
                    return result
                watermark = await self._store.advance(tier, target, slice_us=slice_us)
            result.watermarks[tier.name] = watermark
        self.last = result
        return result

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):  # another instance may take over at once
            await self._leases.release_lease(LEASE, self._owner)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a store that is down: try again next turn
                logger.exception("rollup pass failed")
            await asyncio.sleep(self.settings.every_seconds)

    async def _hold(self) -> bool:
        return await self._leases.acquire_lease(
            LEASE, self._owner, now_us=self._clock.now_us(), ttl_us=self.settings.lease_us
        )
