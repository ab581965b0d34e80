"""Chart queries served from the rollup tiers, stitched with raw points (decision 0028).

domain/storage/tier_choice.py says which tier and which segments; here each segment
becomes rows of one shape, partial aggregates (count, sum, min, max, last and its stamp)
per series and instant: a tier row stands for its bucket, a raw point for itself. A tier
bucket marked dirty is left out and its raw points are read instead. The union is then
aggregated per group and chart bucket; a tier's buckets nest in the chart's (its
resolution divides the step), so the answer is raw's. Percentiles never come here:
they read raw points (domain/storage/tier_choice.py says why).
The watermarks and dirty counts come from memory (rollups.Watermarks): a statement
costs ~0.5 ms, a chart from tiers takes one, or two while late points wait.
"""

from __future__ import annotations

import numpy as np

from domain.metrics.model import Aggregation
from domain.storage.tier_choice import Segment
from domain.storage.tiers import RAW
from infra.stores.duckdb.rollup_sql import table_of
from infra.stores.duckdb.runner import Cursor

__all__ = ["tiered_columns"]

_COMBINE = {
    Aggregation.AVG: "sum(u.s) / sum(u.n)",
    Aggregation.MIN: "min(u.lo)",
    Aggregation.MAX: "max(u.hi)",
    Aggregation.SUM: "sum(u.s)",
    Aggregation.COUNT: "sum(u.n)",
}


def tiered_columns(
    cur: Cursor,
    segments: list[Segment],
    aggregation: Aggregation,
    *,
    grouped: bool,
    bucket: str,
    cells: tuple[int, int],
    dirty: dict[str, int],
) -> dict[str, np.ndarray]:
    """gid, b (chart bucket, by the SQL expression `bucket` of `u.at`) and v of every
    non-empty cell; `sel` (sid, gid) must be registered. `cells`: (groups, buckets);
    `dirty`: how many buckets each tier has marked dirty (0: no lookup)."""
    spans = _dirty_spans(cur, segments, dirty)
    if aggregation.quantile is not None:
        raise ValueError("percentiles read raw points (tier_choice.choose_tier)")
    if aggregation is Aggregation.LAST:
        combine = "arg_max(u.lv, (u.lt, u.series_id))" if grouped else "arg_max(u.lv, u.lt)"
    else:
        combine = _COMBINE[aggregation]
    parts = _parts(segments, spans)
    return cur.execute(
        f"SELECT u.gid AS gid, {bucket} AS b, {combine} AS v FROM ({parts}) u GROUP BY ALL"
    ).fetchnumpy()


def _parts(segments: list[Segment], spans: dict[int, tuple[int, int]]) -> str:
    """The UNION ALL of every segment's rows: (gid, series_id, at, n, s, lo, hi, lv, lt)."""
    raw_cols = (
        "sel.gid, p.series_id, epoch_us(p.ts) AS at, 1 AS n, p.value AS s, p.value AS lo,"
        " p.value AS hi, p.value AS lv, epoch_us(p.ts) AS lt"
    )
    parts = []
    for n, seg in enumerate(segments):
        a, b = seg.start_us, seg.end_us
        if seg.tier is RAW:
            parts.append(
                f"SELECT {raw_cols} FROM points p JOIN sel ON p.series_id = sel.sid"
                f" WHERE p.ts >= make_timestamp({a}) AND p.ts < make_timestamp({b})"
            )
            continue
        table, r = table_of(seg.tier), seg.tier.resolution_us
        tier_cols = (
            "r.count AS n, r.sum AS s, r.min AS lo, r.max AS hi, r.last AS lv, r.last_us AS lt"
        )
        span = spans.get(n)
        if span is None:  # the usual case: nothing late in here
            parts.append(
                f"SELECT sel.gid, r.series_id, r.bucket_us AS at, {tier_cols}"
                f" FROM {table} r JOIN sel ON r.series_id = sel.sid"
                f" WHERE r.bucket_us >= {a} AND r.bucket_us < {b}"
            )
            continue
        dirty = (
            f"SELECT d.series_id, d.bucket_us FROM rollup_dirty d JOIN sel ON d.series_id = sel.sid"
            f" WHERE d.tier = '{seg.tier.name}' AND d.bucket_us >= {a} AND d.bucket_us < {b}"
        )
        parts.append(
            f"SELECT sel.gid, r.series_id, r.bucket_us AS at, {tier_cols}"
            f" FROM {table} r JOIN sel ON r.series_id = sel.sid"
            f" ANTI JOIN ({dirty}) d ON r.series_id = d.series_id AND r.bucket_us = d.bucket_us"
            f" WHERE r.bucket_us >= {a} AND r.bucket_us < {b}"
        )
        lo, hi = span[0], span[1] + r
        parts.append(
            f"SELECT {raw_cols} FROM points p JOIN sel ON p.series_id = sel.sid"
            f" SEMI JOIN ({dirty}) d"
            f" ON p.series_id = d.series_id AND epoch_us(p.ts) // {r} * {r} = d.bucket_us"
            f" WHERE p.ts >= make_timestamp({lo}) AND p.ts < make_timestamp({hi})"
        )
    return " UNION ALL ".join(parts)


def _dirty_spans(
    cur: Cursor, segments: list[Segment], dirty: dict[str, int]
) -> dict[int, tuple[int, int]]:
    """Per tier segment (by index) with dirty buckets of the selected series: the first
    and last of them. One statement for every segment; none while no tier has any."""
    wanted = [
        f"SELECT {n} AS seg, min(d.bucket_us) AS lo, max(d.bucket_us) AS hi"
        f" FROM rollup_dirty d JOIN sel ON d.series_id = sel.sid"
        f" WHERE d.tier = '{seg.tier.name}'"
        f" AND d.bucket_us >= {seg.start_us} AND d.bucket_us < {seg.end_us}"
        for n, seg in enumerate(segments)
        if not seg.tier.is_raw and dirty.get(seg.tier.name, 1) > 0
    ]
    if not wanted:
        return {}
    rows = cur.execute(" UNION ALL ".join(wanted)).fetchall()
    return {int(n): (int(lo), int(hi)) for n, lo, hi in rows if lo is not None}
