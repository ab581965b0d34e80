"""Chart queries served from the rollup tiers, stitched with raw points (decision 0025).

domain/storage/tier_choice.py says which tier and which segments; here each segment
becomes rows of one shape, partial aggregates (count, sum, min, max, last and its stamp)
per series and instant: a tier row stands for its bucket, a raw point for itself. A tier
bucket marked dirty is left out and its raw points are read instead. The union is then
aggregated per group and chart bucket; a tier's buckets nest in the chart's (its
resolution divides the step), so the answer is raw's. Percentiles merge the sketches of
the rows (raw points through the same key formula) and read the quantile with numpy.
Everything runs in the caller's transaction, so watermarks, marks and rows agree.
"""

from __future__ import annotations

import numpy as np

from domain.metrics.model import Aggregation
from domain.storage import sketch
from domain.storage.tier_choice import Segment
from domain.storage.tiers import RAW
from infra.stores.duckdb.rollups import key_sql, table_of
from infra.stores.duckdb.runner import Cursor

__all__ = ["read_watermarks", "tiered_columns"]

_COMBINE = {
    Aggregation.AVG: "sum(u.s) / sum(u.n)",
    Aggregation.MIN: "min(u.lo)",
    Aggregation.MAX: "max(u.hi)",
    Aggregation.SUM: "sum(u.s)",
    Aggregation.COUNT: "sum(u.n)",
}


def read_watermarks(cur: Cursor) -> dict[str, int]:
    rows = cur.execute("SELECT tier, watermark_us FROM rollup_watermarks").fetchall()
    return {tier: int(w) for tier, w in rows}


def tiered_columns(
    cur: Cursor,
    segments: list[Segment],
    aggregation: Aggregation,
    *,
    grouped: bool,
    bucket: str,
    cells: tuple[int, int],
) -> dict[str, np.ndarray]:
    """gid, b (chart bucket, by the SQL expression `bucket` of `u.at`) and v of every
    non-empty cell; `sel` (sid, gid) must be registered. `cells`: (groups, buckets)."""
    quantile = aggregation.quantile
    if quantile is not None:
        return _percentiles(cur, segments, quantile, bucket=bucket, cells=cells)
    if aggregation is Aggregation.LAST:
        combine = "arg_max(u.lv, (u.lt, u.series_id))" if grouped else "arg_max(u.lv, u.lt)"
    else:
        combine = _COMBINE[aggregation]
    parts = _parts(cur, segments, stats=True)
    return cur.execute(
        f"SELECT u.gid AS gid, {bucket} AS b, {combine} AS v FROM ({parts}) u GROUP BY ALL"
    ).fetchnumpy()


def _percentiles(
    cur: Cursor, segments: list[Segment], q: float, *, bucket: str, cells: tuple[int, int]
) -> dict[str, np.ndarray]:
    groups, buckets = cells
    bins = cur.execute(
        f"SELECT u.gid AS gid, {bucket} AS b, u.k AS k, sum(u.c) AS c"
        f" FROM ({_parts(cur, segments, stats=False)}) u GROUP BY ALL"
    ).fetchnumpy()
    limits = cur.execute(
        f"SELECT u.gid AS gid, {bucket} AS b, min(u.lo) AS lo, max(u.hi) AS hi"
        f" FROM ({_parts(cur, segments, stats=True)}) u GROUP BY ALL"
    ).fetchnumpy()
    size = groups * buckets
    low, high = np.full(size, -np.inf), np.full(size, np.inf)
    where = limits["gid"].astype(np.int64) * buckets + limits["b"].astype(np.int64)
    low[where], high[where] = limits["lo"], limits["hi"]
    cell = bins["gid"].astype(np.int64) * buckets + bins["b"].astype(np.int64)
    values = sketch.quantiles(
        cell,
        bins["k"].astype(np.int64),
        bins["c"].astype(np.int64),
        q,
        cells=size,
        minimum=low,
        maximum=high,
    )
    return {
        "gid": (where // buckets).astype(np.int64),
        "b": (where % buckets).astype(np.int64),
        "v": values[where],
    }


def _parts(cur: Cursor, segments: list[Segment], *, stats: bool) -> str:
    """The UNION ALL of every segment's rows: (gid, series_id, at, n, s, lo, hi, lv, lt)
    with `stats`, else (gid, series_id, at, k, c) sketch bins."""
    raw_stats = (
        "1 AS n, p.value AS s, p.value AS lo, p.value AS hi, p.value AS lv, epoch_us(p.ts) AS lt"
    )
    raw_bins = f"{key_sql('p.value')} AS k, 1 AS c"
    raw_cols = f"sel.gid, p.series_id, epoch_us(p.ts) AS at, {raw_stats if stats else raw_bins}"
    parts = []
    for seg in segments:
        a, b = seg.start_us, seg.end_us
        if seg.tier is RAW:
            parts.append(
                f"SELECT {raw_cols} FROM points p JOIN sel ON p.series_id = sel.sid"
                f" WHERE p.ts >= make_timestamp({a}) AND p.ts < make_timestamp({b})"
            )
            continue
        table, r, name = table_of(seg.tier), seg.tier.resolution_us, seg.tier.name
        dirty = (
            f"SELECT d.series_id, d.bucket_us FROM rollup_dirty d JOIN sel ON d.series_id = sel.sid"
            f" WHERE d.tier = '{name}' AND d.bucket_us >= {a} AND d.bucket_us < {b}"
        )
        tier_cols = (
            "r.count AS n, r.sum AS s, r.min AS lo, r.max AS hi, r.last AS lv, r.last_us AS lt"
            if stats
            else "unnest(r.sketch_keys) AS k, unnest(r.sketch_counts) AS c"
        )
        parts.append(
            f"SELECT sel.gid, r.series_id, r.bucket_us AS at, {tier_cols}"
            f" FROM {table} r JOIN sel ON r.series_id = sel.sid"
            f" ANTI JOIN ({dirty}) d ON r.series_id = d.series_id AND r.bucket_us = d.bucket_us"
            f" WHERE r.bucket_us >= {a} AND r.bucket_us < {b}"
        )
        span = cur.execute(f"SELECT min(bucket_us), max(bucket_us) FROM ({dirty})").fetchone()
        if span is not None and span[0] is not None:
            lo, hi = int(span[0]), int(span[1]) + r
            parts.append(
                f"SELECT {raw_cols} FROM points p JOIN sel ON p.series_id = sel.sid"
                f" SEMI JOIN ({dirty}) d"
                f" ON p.series_id = d.series_id AND epoch_us(p.ts) // {r} * {r} = d.bucket_us"
                f" WHERE p.ts >= make_timestamp({lo}) AND p.ts < make_timestamp({hi})"
            )
    return " UNION ALL ".join(parts)
