"""Chart queries: one GROUP BY in DuckDB, then dense arrays with None for empty buckets.

The coarsest rollup tier the step allows serves what it has rolled up (tiered.py); raw
points serve the rest, and everything when no tier fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from domain.errors import BadUserInput
from domain.metrics.ingest import SeriesSpec
from domain.metrics.model import Aggregation
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesData, SeriesResult
from domain.storage.tier_choice import choose_tier, percentile_plan, plan
from domain.storage.tiers import RAW, TIERS
from infra.stores.duckdb.catalogue import SeriesCatalogue
from infra.stores.duckdb.rollups import Watermarks
from infra.stores.duckdb.runner import Cursor
from infra.stores.duckdb.tiered import fetch_cells, tiered_columns, tiered_quantiles

__all__ = ["MAX_BUCKETS", "aggregate"]

MAX_BUCKETS = 100_000
# A tier serves a chart only if its rows hold this many points on average: below, its
# wider rows cost more to read than the raw points (decision 0028).
DENSE = 2.0
# ... unless its rows are the chart's cells and the chart reads this many series or more
# (a day of one-minute points: 10 series 20 ms against raw's 15; 100, 35 against 35; 300,
# 43 against 70; 1,000, 127 against 290).
CELLS_FROM_SERIES = 100

_PLAIN = {
    Aggregation.AVG: "avg(p.value)",
    Aggregation.MIN: "min(p.value)",
    Aggregation.MAX: "max(p.value)",
    Aggregation.SUM: "sum(p.value)",
    Aggregation.COUNT: "count(*)",
}


def aggregate(
    cur: Cursor,
    catalogue: SeriesCatalogue,
    query: GetMetricSeriesQuery,
    watermarks: Watermarks | None = None,
    raw_since_us: int | None = None,
) -> SeriesResult:
    """Buckets start at multiples of the step since the epoch; no step is one bucket.
    `watermarks`: the rollup tiers' (None: raw points only). `raw_since_us`: where the
    metric's raw points begin (retention); a percentile before it reads the sketches."""
    start, end, step = query.start_us, query.end_us, query.step_us
    if end <= start:
        return SeriesResult([], [])
    params: dict[str, object] = {"start": start, "end": end}
    if step is None:
        timestamps, bucket, tier_bucket = [start], "0", "0"
    else:
        if step <= 0:
            raise BadUserInput("step must be a positive number of microseconds")
        first = start - start % step
        if -(-(end - first) // step) > MAX_BUCKETS:
            raise BadUserInput(f"a chart holds at most {MAX_BUCKETS} buckets; use a larger step")
        timestamps = list(range(first, end, step))
        bucket = "(epoch_us(p.ts) - $first) // $step"
        tier_bucket = f"(u.at - {first}) // {step}"
        params |= {"first": first, "step": step}

    specs = catalogue.select(query.project, query.name, query.matchers)
    if not specs:
        return SeriesResult(timestamps, [])
    percentile = query.aggregation.quantile is not None
    tier = RAW
    if query.use_tiers:
        tier = choose_tier(start, end, step, percentile=percentile, raw_since_us=raw_since_us)
    raw_gone = percentile and raw_since_us is not None  # then sparse tiers are all there is
    gids, tags = _groups_of(query.project, specs, query.group_by)
    # Several series in a group need a GROUP BY whatever serves them; with one per group, a
    # tier at the chart's step is read row for cell (tiered.py). For many series that is
    # cheaper than grouping raw points even at one point a row; for a few, raw points
    # skip the other series' row groups and a tier does not (decision 0028).
    grouped = query.group_by is not None and len(tags) < len(specs)
    cells = (
        not grouped
        and not percentile
        and step == tier.resolution_us
        and len(specs) >= CELLS_FROM_SERIES
    )
    while (
        watermarks
        and not raw_gone
        and not tier.is_raw
        and not cells
        and watermarks.points_per_row(tier.name) < DENSE
    ):
        tier = TIERS[TIERS.index(tier) - 1]  # rows of about one point: no cheaper than raw
    # Copies taken before any statement: the rows read are at least as new (rollups.py).
    marks = dict(watermarks.of) if watermarks and not tier.is_raw else {}
    dirty = dict(watermarks.dirty) if watermarks else {}
    if raw_gone and raw_since_us is not None:
        segments = percentile_plan(start, end, tier, marks, raw_since_us)
    else:
        segments = plan(start, end, tier, marks)
    served = max((s.tier for s in segments), key=TIERS.index, default=RAW)
    value = _sql(query.aggregation, grouped=grouped)
    where = "p.ts >= make_timestamp($start) AND p.ts < make_timestamp($end)"
    if len(specs) == 1 and served.is_raw:
        # One series: a constant filter, which the scans of both tables of `points` use to
        # skip row groups (decision 0026), and no join (~0.4 ms less than joining `sel`).
        params["sid"] = specs[0].id
        sql = f"""
            SELECT 0::BIGINT AS gid, {bucket} AS b, {value} AS v
            FROM points p WHERE p.series_id = $sid AND {where} GROUP BY ALL
        """
        return _dense(timestamps, tags, fetch_cells(cur, sql, params))
    cur.register(
        "sel",
        {
            "sid": np.fromiter((s.id for s in specs), dtype=np.int64, count=len(specs)),
            "gid": np.asarray(gids, dtype=np.int64),
        },
    )
    try:
        quantile = query.aggregation.quantile
        if not served.is_raw and quantile is not None:
            columns = tiered_quantiles(
                cur,
                segments,
                quantile,
                bucket=tier_bucket,
                cells=(len(tags), len(timestamps)),
                dirty=dirty,
            )
            return _dense(timestamps, tags, columns, served.name)
        if not served.is_raw:
            columns = tiered_columns(
                cur,
                segments,
                query.aggregation,
                grouped=grouped,
                bucket=tier_bucket,
                cells=(len(tags), len(timestamps)),
                dirty=dirty,
                step_us=step,
            )
            return _dense(timestamps, tags, columns, served.name)
        sql = f"""
            SELECT s.gid AS gid, {bucket} AS b, {value} AS v
            FROM points p JOIN sel s ON p.series_id = s.sid WHERE {where} GROUP BY ALL
        """
        columns = fetch_cells(cur, sql, params)
    finally:
        cur.unregister("sel")
    return _dense(timestamps, tags, columns)


def _sql(aggregation: Aggregation, *, grouped: bool) -> str:
    quantile = aggregation.quantile
    if quantile is not None:
        return f"quantile_cont(p.value, {quantile!r})"
    if aggregation is Aggregation.LAST:
        # Within a group several series may share the latest timestamp: the greatest
        # series id wins, so the answer does not depend on scan order.
        return "arg_max(p.value, (p.ts, p.series_id))" if grouped else "arg_max(p.value, p.ts)"
    return _PLAIN[aggregation]


@dataclass(frozen=True, slots=True)
class _Selected:
    """A query's series, equal to another by project and ids alone: a series' id is a
    hash of its project, name and tags, so the ids stand for the tags."""

    project: str
    ids: tuple[int, ...]
    specs: Sequence[SeriesSpec] = field(compare=False, hash=False)


def _groups_of(
    project: str, specs: Sequence[SeriesSpec], group_by: tuple[str, ...] | None
) -> tuple[list[int], list[dict[str, str]]]:
    """`_groups`, kept for the last few selections: a job reads the same 1,000 series in a
    hundred time slices, and sorting their tags held the GIL ~1 ms a slice. The tags
    dicts are shared by every answer made from one entry: never mutated."""
    if len(specs) < 2:
        return _groups(specs, group_by)
    return _kept_groups(_Selected(project, tuple([s.id for s in specs]), specs), group_by)


@lru_cache(maxsize=16)
def _kept_groups(
    selected: _Selected, group_by: tuple[str, ...] | None
) -> tuple[list[int], list[dict[str, str]]]:
    return _groups(selected.specs, group_by)


def _groups(
    specs: Sequence[SeriesSpec], group_by: tuple[str, ...] | None
) -> tuple[list[int], list[dict[str, str]]]:
    """Each series' group number, and each group's tags, in a stable order of tags."""
    if group_by is None:
        order = sorted(range(len(specs)), key=lambda i: sorted(specs[i].tags.items()))
        gids = [0] * len(specs)
        for gid, i in enumerate(order):
            gids[i] = gid
        return gids, [dict(specs[i].tags) for i in order]
    keys = [tuple(s.tags.get(k, "") for k in group_by) for s in specs]
    index = {key: gid for gid, key in enumerate(sorted(set(keys)))}
    return [index[key] for key in keys], [dict(zip(group_by, key, strict=True)) for key in index]


def _dense(
    timestamps: list[int],
    tags: list[dict[str, str]],
    columns: dict[str, np.ndarray],
    resolution: str = RAW.name,
) -> SeriesResult:
    """One line per group that has data, NaN where a bucket is empty; the lines are the
    rows of one matrix, which the result carries too. Group ids are small (indexes of
    `tags`), so rows are found by counting, not sorting: a 1,000-line month at 1-hour
    steps (720k cells) took 100 ms in np.unique, 240 ms in a per-value list comprehension."""
    gids = columns["gid"].astype(np.int64, copy=False)
    if len(gids) == 0:
        return SeriesResult(timestamps, [], resolution)
    present = np.flatnonzero(np.bincount(gids, minlength=len(tags)))
    row_of = np.full(len(tags), -1, dtype=np.int64)
    row_of[present] = np.arange(len(present))
    rows = row_of[gids]
    values = np.full((len(present), len(timestamps)), np.nan)
    values[rows, columns["b"]] = columns["v"]
    lines = [
        SeriesData.from_array(tags[gid], row)
        for gid, row in zip(present.tolist(), values, strict=True)
    ]
    return SeriesResult(timestamps, lines, resolution, values)
