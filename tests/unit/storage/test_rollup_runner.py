"""The rollup runner's loop over a store that cannot move its watermark: one pass ends."""

from __future__ import annotations

from collections.abc import Sequence

from domain.storage.rollup_runner import RollupRunner, RollupSettings
from domain.storage.rollups import RollupRow
from domain.storage.tiers import Tier

H = 3_600_000_000


class StuckStore:
    """Moves each watermark once, to an hour, then no further."""

    def __init__(self) -> None:
        self.calls = 0

    async def watermarks(self) -> dict[str, int]:
        return {}

    async def advance(self, tier: Tier, to_us: int, *, slice_us: int) -> int:
        self.calls += 1
        return H

    async def refresh_dirty(self, tier: Tier, limit: int, *, quiet_seconds: float = 0.0) -> int:
        return 0

    async def dirty_count(self, tier: Tier) -> int:
        return 0

    async def roll_up(self, tier: Tier, start_us: int, end_us: int) -> int:
        return 0

    async def read_rollups(
        self,
        tier: Tier,
        project: str,
        start_us: int,
        end_us: int,
        series_ids: Sequence[int] | None = None,
    ) -> list[RollupRow]:
        return []

    async def expire_rollups(
        self,
        tier: Tier,
        project: str,
        before_us: int,
        names: Sequence[str] | None,
        exclude_names: Sequence[str],
    ) -> int:
        return 0


class Leases:
    async def acquire_lease(self, name: str, owner: str, *, now_us: int, ttl_us: int) -> bool:
        return True

    async def renew_leases(
        self, names: object, owner: str, *, now_us: int, ttl_us: int
    ) -> set[str]:
        return set()

    async def release_lease(self, name: str, owner: str) -> None:
        return None

    async def lease_holders(self, prefix: str, *, now_us: int) -> dict[str, str]:
        return {}


class Clock:
    def now_us(self) -> int:
        return 10 * H


async def test_a_watermark_that_stops_moving_ends_the_pass() -> None:
    store = StuckStore()
    runner = RollupRunner(store, Leases(), Clock(), owner="a", settings=RollupSettings(lag_us=0))  # type: ignore[arg-type]
    done = await runner.run_once()
    assert done.watermarks == {"1m": H, "1h": H}
    assert store.calls == 4  # each tier: the first call, one more that did not move it
