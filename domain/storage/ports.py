"""What the rollup runner and the tier readers need from a store: the RollupStore.

Rows. A tier holds one row per series per bucket that has points: the fields of
domain/storage/rollups.RollupRow (series_id, bucket_us, count, sum, min, max, first,
first_us, last, last_us, increase, sketch_keys, sketch_counts), computed as
`rollup_of` computes them. Buckets start at multiples of the tier's resolution since the
epoch (domain/storage/tiers.py). Both tiers are computed from raw points (decision 0028).

Watermark. Per tier, a multiple of its resolution (0 before the first rollup): every bucket
that ends at or before it is in the tier, except the dirty ones. `advance` moves it forward
only; each tier has its own (both are computed from raw points).

Dirty buckets. `MetricStore.append` marks, IN THE SAME TRANSACTION as the points, the
(tier, series, bucket) of every point stamped before that tier's watermark (a late point,
or a point sent again with a new value). A marked bucket's row is stale until
`refresh_dirty` recomputes it; a reader serves a marked bucket from raw points instead.
A store may keep a mark per bucket (MongoDB) or one span of buckets per series (DuckDB:
its first and last dirty bucket, every bucket between recomputed too); counts are of
marks either way. Deleting raw points (retention) drops the marks of the buckets that
lost points: their rows are kept as they are, never recomputed from what is left.
So nothing acknowledged is ever missing from an answer, and every row not marked equals
`rollup_of` of the raw points of its bucket.

Atomicity. `advance` reads raw points and moves the watermark as one step with respect to
appends: a point acknowledged while it runs is either in the rows it writes or marked
dirty (DuckDB: one transaction on the single writer thread; MongoDB: move the watermark
first, or make the append's watermark read conflict with the move).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.storage.rollups import RollupRow
from domain.storage.tiers import Tier

__all__ = ["RollupStore"]


class RollupStore(Protocol):
    """The 1-minute and 1-hour tiers of every project's series (never RAW)."""

    async def watermarks(self) -> dict[str, int]:
        """Tier name ("1m", "1h") -> its watermark in microseconds since the epoch."""
        ...

    async def advance(self, tier: Tier, to_us: int, *, slice_us: int) -> int:
        """Roll up one slice of buckets from raw points, replacing any rows there, and move
        the watermark past it atomically (see the module docstring); the new watermark.

        The slice starts at the watermark or, while the watermark is 0 (nothing rolled up
        yet), at the bucket of the oldest stored point, and ends at `to_us` or `slice_us`
        later, whichever comes first (both multiples of the resolution). With no point
        stored the watermark moves to `to_us` at once. A `to_us` at or before the
        watermark changes nothing. The caller loops until the answer reaches `to_us`."""
        ...

    async def refresh_dirty(self, tier: Tier, limit: int, *, quiet_seconds: float = 0.0) -> int:
        """Recompute dirty buckets of `tier` from raw points, oldest first, about `limit`
        marks' worth (a store may recompute a whole window around them), replacing each row
        or deleting it when no point is left, and clear the marks of what it recomputed; a
        bucket marked again while this runs stays marked. The number of marks cleared: 0
        when none is dirty. `quiet_seconds`: a store may leave the marks of a series that
        took late points less than this long ago (for a minute at most), since its buckets
        are still changing; 0 recomputes every mark."""
        ...

    async def dirty_count(self, tier: Tier) -> int:
        """How many buckets of `tier` are marked dirty."""
        ...

    async def roll_up(self, tier: Tier, start_us: int, end_us: int) -> int:
        """Recompute every bucket in [start_us, end_us) (multiples of the resolution) from
        raw points, idempotently, leaving the watermark and the marks as they are: a repair
        or a re-run. The number of rows written."""
        ...

    async def read_rollups(
        self,
        tier: Tier,
        project: str,
        start_us: int,
        end_us: int,
        series_ids: Sequence[int] | None = None,
    ) -> list[RollupRow]:
        """The stored rows of the project's series (all, or those of `series_ids`) whose
        bucket starts in [start_us, end_us), ordered by (series_id, bucket_us), stale ones
        included as stored. Chart reads go through MetricStore.aggregate, which stitches."""
        ...

    async def expire_rollups(
        self,
        tier: Tier,
        project: str,
        before_us: int,
        names: Sequence[str] | None,
        exclude_names: Sequence[str],
    ) -> int:
        """Delete the project's rows of `tier` whose bucket ends at or before `before_us`
        (bucket_us + resolution <= before_us), for the series whose metric name is in
        `names` (every name when None) and not in `exclude_names`, with their dirty marks.
        The number of rows deleted. Retention calls this; it never touches raw points."""
        ...
