"""Which tier serves a chart query, and how tiers are stitched over its range.

The chart grid (domain/buckets.py) cuts [start, end) at multiples of the step. A tier can
serve it when its resolution divides the step (its buckets nest in the chart's) and is at
most half the step (each chart bucket merges at least two). The coarsest such tier wins.
Within the range, that tier serves the whole buckets it has rolled up (before its
watermark); the unaligned edges and the part after the watermark go to the next finer
tier by the same rule, down to raw points. The answer is then the same as raw's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.storage.tiers import RAW, TIERS, Tier

__all__ = ["Segment", "choose_tier", "plan"]


@dataclass(frozen=True, slots=True)
class Segment:
    """[start_us, end_us) read from `tier`; for a rollup tier both ends are multiples of
    its resolution."""

    tier: Tier
    start_us: int
    end_us: int


def choose_tier(
    start_us: int, end_us: int, step_us: int | None, *, percentile: bool = False
) -> Tier:
    """The coarsest tier whose resolution divides the step and is at most half of it; no
    step (one bucket over the range) counts as a step of the range's length that any
    resolution divides, since the range's own ends are stitched from finer tiers.

    A percentile reads raw points: with tens of points per bucket a bucket's sketch has
    about as many bins as points, and merging them cost 8-15x the exact percentile of the
    raw points (decision 0028). The sketches stay in every row, for what raw points no
    longer hold."""
    if percentile:
        return RAW
    span = end_us - start_us if step_us is None else step_us
    for tier in reversed(TIERS):
        resolution = tier.resolution_us
        if tier.is_raw:
            return tier
        if 2 * resolution <= span and (step_us is None or step_us % resolution == 0):
            return tier
    return RAW


def plan(start_us: int, end_us: int, tier: Tier, watermarks: Mapping[str, int]) -> list[Segment]:
    """The segments, in time order, that cover [start_us, end_us) exactly once when `tier`
    is the coarsest allowed: its rolled-up whole buckets, finer tiers around them."""
    if end_us <= start_us:
        return []
    if tier.is_raw:
        return [Segment(RAW, start_us, end_us)]
    finer = TIERS[TIERS.index(tier) - 1]
    resolution = tier.resolution_us
    first = -(-start_us // resolution) * resolution
    last = min(end_us - end_us % resolution, watermarks.get(tier.name, 0))
    if first >= last:
        return plan(start_us, end_us, finer, watermarks)
    return [
        *plan(start_us, first, finer, watermarks),
        Segment(tier, first, last),
        *plan(last, end_us, finer, watermarks),
    ]
