"""The rollup runner: keeps each tier rolled up to `now - lag` and its dirty buckets fresh.

One instance does the work across several (a lease, renewed between slices; another
instance takes over once it expires). Each pass, per tier: recompute the dirty buckets
(late points), then advance the watermark to `now - lag` one slice at a time. Every slice
is one store call (a transaction on the store's writer), so appends go on between slices
and memory stays bounded by a slice. A slice's length adapts to how long the last one
took (doubling below a quarter of `slice_seconds`, halving above it): sparse history
is caught up in few transactions, dense data in short ones. The lag leaves room for
points that arrive a little late: they land before the watermark and cost no
recomputation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from domain.ports import Clock, LeaseStore
from domain.storage.ports import RollupStore
from domain.storage.slices import next_slice
from domain.storage.tiers import ROLLUP_TIERS, Tier

__all__ = ["LEASE", "RollupPass", "RollupRunner", "RollupSettings"]

logger = logging.getLogger("vigil.rollups")

LEASE = "rollups"


@dataclass(frozen=True, slots=True)
class RollupSettings:
    lag_us: int = 120_000_000  # VIGIL_ROLLUP_LAG_SECONDS
    every_seconds: float = 10.0  # VIGIL_ROLLUP_SECONDS
    slice_us: int = 3_600_000_000  # the first slice: one hour of points per transaction
    slice_seconds: float = 0.25  # what a slice should take; its length adapts
    max_slice_us: int = 32 * 86_400_000_000
    dirty_batch: int = 20_000  # dirty marks that set a refresh's window (one transaction)
    # A series still taking late points is recomputed once they stop for this long (a
    # minute at most): its buckets are read from raw points meanwhile (decision 0035).
    refresh_quiet_seconds: float = 5.0
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
        self._slice_us: dict[str, int] = {}

    async def run_once(self) -> RollupPass:
        """One pass over every tier, if this instance holds (or takes) the lease."""
        result = RollupPass()
        if not await self._hold():
            return result
        result.ran = True
        # Coarsest first: after a backfill, the long-range charts that the 1h tier serves
        # are ready before the 1m tier's far more rows are recomputed.
        for tier in reversed(ROLLUP_TIERS):
            resolution = tier.resolution_us
            refreshed = 0
            while done := await self._store.refresh_dirty(
                tier, self.settings.dirty_batch, quiet_seconds=self.settings.refresh_quiet_seconds
            ):
                refreshed += done
                if not await self._hold():
                    return result
            result.refreshed[tier.name] = refreshed
            target = (self._clock.now_us() - self.settings.lag_us) // resolution * resolution
            watermark, before = await self._advance(tier, target), -1
            while before < watermark < target:  # a store that stops short ends the pass
                if not await self._hold():
                    return result
                before, watermark = watermark, await self._advance(tier, target)
            result.watermarks[tier.name] = watermark
        self.last = result
        return result

    async def _advance(self, tier: Tier, target: int) -> int:
        """One slice, then the next slice's length from how long this one took."""
        s, resolution = self.settings, tier.resolution_us
        slice_us = self._slice_us.get(tier.name, s.slice_us)
        slice_us = max(resolution, slice_us // resolution * resolution)
        began = time.monotonic()
        watermark = await self._store.advance(tier, target, slice_us=slice_us)
        took = time.monotonic() - began
        self._slice_us[tier.name] = next_slice(
            slice_us, took, s.slice_seconds, resolution, s.max_slice_us
        )
        return watermark

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
