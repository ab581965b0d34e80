"""Chart queries served from the rollup tiers, stitched with raw points (decision 0028).

domain/storage/tier_choice.py says which tier and which segments; here each segment
becomes rows of one shape, partial aggregates (count, sum, min, max, last and its stamp)
per series and instant: a tier row stands for its bucket, a raw point for itself. A tier
bucket marked dirty is left out and its raw points are read instead. The union is then
aggregated per group and chart bucket; a tier's buckets nest in the chart's (its
resolution divides the step), so the answer is raw's. A tier bucket inside its series'
dirty span is left out and the span's raw points are read instead. Percentiles come here only for
ranges whose raw points retention has deleted (domain/storage/tier_choice.py): each
segment then gives sketch bins (a raw point is a bin of one), merged per chart bucket,
and the percentile is the sketch's (domain/storage/sketch.py, within 0.5%).
The watermarks and dirty counts come from memory (rollups.Watermarks): a statement
costs ~0.5 ms, a chart from tiers takes one, or two while late points wait.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np

from domain.metrics.model import Aggregation
from domain.storage.sketch import quantiles
from domain.storage.tier_choice import Segment
from domain.storage.tiers import RAW
from infra.stores.duckdb.rollup_sql import key_sql, table_of
from infra.stores.duckdb.runner import Cursor

__all__ = ["fetch_cells", "tiered_columns", "tiered_quantiles"]

_RAW_TOTALS = (
    "sel.gid, p.series_id, epoch_us(p.ts) AS at, 1 AS n, p.value AS s, p.value AS lo,"
    " p.value AS hi, p.value AS lv, epoch_us(p.ts) AS lt"
)
_TIER_TOTALS = "r.count AS n, r.sum AS s, r.min AS lo, r.max AS hi, r.last AS lv, r.last_us AS lt"
_RAW_BINS = (
    f"sel.gid, p.series_id, epoch_us(p.ts) AS at, {key_sql('p.value')} AS k, 1 AS c,"
    " p.value AS lo, p.value AS hi"
)
_TIER_BINS = "unnest(r.sketch_keys) AS k, unnest(r.sketch_counts) AS c, r.min AS lo, r.max AS hi"

# A tier row's own value, when each row is a whole chart cell (see tiered_columns).
_ROW_VALUE = {
    Aggregation.AVG: "u.s / u.n",
    Aggregation.MIN: "u.lo",
    Aggregation.MAX: "u.hi",
    Aggregation.SUM: "u.s",
    Aggregation.COUNT: "u.n",
    Aggregation.LAST: "u.lv",
}
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
    step_us: int | None = None,
) -> dict[str, np.ndarray]:
    """gid, b (chart bucket, by the SQL expression `bucket` of `u.at`) and v of every
    non-empty cell; `sel` (sid, gid) must be registered. `cells`: (groups, buckets);
    `dirty`: how many buckets each tier has marked dirty (0: no lookup)."""
    spans = _dirty_spans(cur, segments, dirty)
    if aggregation.quantile is not None:
        raise ValueError("percentiles are merged sketches: tiered_quantiles")
    if aggregation is Aggregation.LAST:
        combine = "arg_max(u.lv, (u.lt, u.series_id))" if grouped else "arg_max(u.lv, u.lt)"
    else:
        combine = _COMBINE[aggregation]
    if not grouped and step_us is not None and _rows_are_cells(segments, step_us):
        # Each tier row is a whole chart cell, of its series alone, and no raw point shares
        # a cell with a tier row (plan() and the dirty spans keep them apart): tier rows
        # need no GROUP BY. A month of 1,000 series at 1-hour steps: 290 -> 110 ms.
        raws, tiers = _parts(segments, spans, _RAW_TOTALS, _TIER_TOTALS, split=True)
        selects = (
            [
                f"SELECT u.gid AS gid, {bucket} AS b, ({_ROW_VALUE[aggregation]})::DOUBLE AS v"
                f" FROM ({tiers}) u"
            ]
            if tiers
            else []
        )
        if raws:
            selects.append(
                f"SELECT u.gid AS gid, {bucket} AS b, ({combine})::DOUBLE AS v"
                f" FROM ({raws}) u GROUP BY ALL"
            )
        return fetch_cells(cur, " UNION ALL ".join(selects))
    parts = _parts(segments, spans, _RAW_TOTALS, _TIER_TOTALS)
    return fetch_cells(
        cur, f"SELECT u.gid AS gid, {bucket} AS b, {combine} AS v FROM ({parts}) u GROUP BY ALL"
    )


def fetch_cells(
    cur: Cursor, sql: str, params: dict[str, object] | None = None
) -> dict[str, np.ndarray]:
    """The gid, b and v columns of `sql` as arrays, gid and b as 32-bit integers (group
    and bucket indexes stay far below 2**31). DuckDB holds the GIL while it converts a
    result to numpy, and BIGINT columns take twice as long: 100k cells 4.8 ms -> 2.3 ms,
    which the event loop waits for when it wants the GIL meanwhile."""
    narrowed = f"SELECT gid::INTEGER AS gid, b::INTEGER AS b, v FROM ({sql})"
    columns: dict[str, np.ndarray] = cur.execute(narrowed, params or {}).fetchnumpy()
    return columns


def _rows_are_cells(segments: list[Segment], step_us: int) -> bool:
    return all(seg.tier.is_raw or seg.tier.resolution_us == step_us for seg in segments)


def tiered_quantiles(
    cur: Cursor,
    segments: list[Segment],
    q: float,
    *,
    bucket: str,
    cells: tuple[int, int],
    dirty: dict[str, int],
) -> dict[str, np.ndarray]:
    """As tiered_columns, for the q-quantile: the sketch bins of every segment merged per
    group and chart bucket, the estimate clamped to the cell's exact min and max."""
    spans = _dirty_spans(cur, segments, dirty)
    parts = _parts(segments, spans, _RAW_BINS, _TIER_BINS)
    rows = cur.execute(
        f"SELECT u.gid AS gid, {bucket} AS b, u.k AS k, sum(u.c)::BIGINT AS c,"
        f" min(u.lo) AS lo, max(u.hi) AS hi FROM ({parts}) u GROUP BY ALL"
    ).fetchnumpy()
    buckets = cells[1]
    cell = rows["gid"].astype(np.int64) * buckets + rows["b"].astype(np.int64)
    total = cells[0] * buckets
    lo = np.full(total, np.inf)
    hi = np.full(total, -np.inf)
    np.minimum.at(lo, cell, rows["lo"])
    np.maximum.at(hi, cell, rows["hi"])
    keys, counts = rows["k"].astype(np.int64), rows["c"].astype(np.int64)
    estimates = quantiles(cell, keys, counts, q, cells=total, minimum=lo, maximum=hi)
    found = np.flatnonzero(~np.isnan(estimates))
    return {"gid": found // buckets, "b": found % buckets, "v": estimates[found]}


@overload
def _parts(
    segments: list[Segment], spans: dict[int, tuple[int, int]], raw_cols: str, tier_cols: str
) -> str: ...


@overload
def _parts(
    segments: list[Segment],
    spans: dict[int, tuple[int, int]],
    raw_cols: str,
    tier_cols: str,
    *,
    split: Literal[True],
) -> tuple[str, str]: ...


def _parts(
    segments: list[Segment],
    spans: dict[int, tuple[int, int]],
    raw_cols: str,
    tier_cols: str,
    *,
    split: bool = False,
) -> str | tuple[str, str]:
    """The UNION ALL of every segment's rows: `raw_cols` of a raw point, (gid, series_id,
    at) then `tier_cols` of a tier row; `split`: the raw points' union and the tier rows'
    union apart ("" for none)."""
    parts, tiers = [], []
    for n, seg in enumerate(segments):
        a, b = seg.start_us, seg.end_us
        if seg.tier is RAW:
            parts.append(
                f"SELECT {raw_cols} FROM points p JOIN sel ON p.series_id = sel.sid"
                f" WHERE p.ts >= make_timestamp({a}) AND p.ts < make_timestamp({b})"
            )
            continue
        table, r = table_of(seg.tier), seg.tier.resolution_us
        span = spans.get(n)
        if span is None:  # the usual case: nothing late in here
            tiers.append(
                f"SELECT sel.gid, r.series_id, r.bucket_us AS at, {tier_cols}"
                f" FROM {table} r JOIN sel ON r.series_id = sel.sid"
                f" WHERE r.bucket_us >= {a} AND r.bucket_us < {b}"
            )
            continue
        dirty = (
            f"SELECT d.series_id, d.lo_us AS lo, d.hi_us + {r} AS hi"
            f" FROM rollup_dirty_spans d JOIN sel ON d.series_id = sel.sid"
            f" WHERE d.tier = '{seg.tier.name}' AND d.hi_us >= {a} AND d.lo_us < {b}"
        )
        tiers.append(
            f"SELECT sel.gid, r.series_id, r.bucket_us AS at, {tier_cols}"
            f" FROM {table} r JOIN sel ON r.series_id = sel.sid"
            f" ANTI JOIN ({dirty}) d"
            f" ON r.series_id = d.series_id AND r.bucket_us >= d.lo AND r.bucket_us < d.hi"
            f" WHERE r.bucket_us >= {a} AND r.bucket_us < {b}"
        )
        lo, hi = max(span[0], a), min(span[1] + r, b)
        parts.append(
            f"SELECT {raw_cols} FROM points p JOIN sel ON p.series_id = sel.sid"
            f" SEMI JOIN ({dirty}) d ON p.series_id = d.series_id"
            f" AND p.ts >= make_timestamp(d.lo) AND p.ts < make_timestamp(d.hi)"
            f" WHERE p.ts >= make_timestamp({lo}) AND p.ts < make_timestamp({hi})"
        )
    if split:
        return " UNION ALL ".join(parts), " UNION ALL ".join(tiers)
    return " UNION ALL ".join(parts + tiers)


def _dirty_spans(
    cur: Cursor, segments: list[Segment], dirty: dict[str, int]
) -> dict[int, tuple[int, int]]:
    """Per tier segment (by index) with dirty spans of the selected series in it: the
    first and last dirty bucket. One statement for every segment; none while no tier
    has any."""
    wanted = [
        f"SELECT {n} AS seg, min(d.lo_us) AS lo, max(d.hi_us) AS hi"
        f" FROM rollup_dirty_spans d JOIN sel ON d.series_id = sel.sid"
        f" WHERE d.tier = '{seg.tier.name}'"
        f" AND d.hi_us >= {seg.start_us} AND d.lo_us < {seg.end_us}"
        for n, seg in enumerate(segments)
        if not seg.tier.is_raw and dirty.get(seg.tier.name, 1) > 0
    ]
    if not wanted:
        return {}
    rows = cur.execute(" UNION ALL ".join(wanted)).fetchall()
    return {int(n): (int(lo), int(hi)) for n, lo, hi in rows if lo is not None}
