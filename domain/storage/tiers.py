"""The tiers a series is stored in: raw points, then 1-minute and 1-hour rollups.

A rollup bucket starts at a multiple of its tier's resolution since the epoch, so tier
buckets nest (sixty 1-minute buckets make exactly one hour) and line up with the chart
grid of domain/buckets.py whenever the chart's step is a multiple of the resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HOUR", "MINUTE", "RAW", "ROLLUP_TIERS", "TIERS", "Tier", "tier_named"]


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    resolution_us: int  # 0 for raw points: they have no buckets

    @property
    def is_raw(self) -> bool:
        return self.resolution_us == 0


RAW = Tier("raw", 0)
MINUTE = Tier("1m", 60_000_000)
HOUR = Tier("1h", 3_600_000_000)
TIERS = (RAW, MINUTE, HOUR)  # finest first
ROLLUP_TIERS = (MINUTE, HOUR)


def tier_named(name: str) -> Tier:
    """The tier called `name` ("raw", "1m" or "1h"); KeyError for any other name."""
    for tier in TIERS:
        if tier.name == name:
            return tier
    raise KeyError(name)
