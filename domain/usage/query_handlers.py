"""Usage query handlers: usage rows by bucket and tag group, cardinality, unused metrics."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TypeVar

from domain.errors import BadUserInput
from domain.paging import check_first
from domain.ports import Clock
from domain.usage.model import (
    BYTES_PER_ROW,
    COUNTER_FIGURES,
    GAUGE_FIGURES,
    Cardinality,
    KeyCardinality,
    MetricCardinality,
    TagValueCardinality,
    UnusedMetric,
    UsageReport,
    UsageRow,
)
from domain.usage.ports import UsageStore
from domain.usage.queries import (
    GetCardinalityQuery,
    GetUnusedMetricsQuery,
    GetUsageAllQuery,
    GetUsageQuery,
)

__all__ = ["cardinality", "project_usage", "unused_metrics", "usage", "usage_all"]

K = TypeVar("K", str, tuple[str, str])

MAX_BUCKETS = 10_000
MAX_GROUP_BY = 16
MAX_ROWS = 10_000  # objects through Strawberry cost ~15 us each (DESIGN.md)
DAY_US = 86_400_000_000


def _check(start_us: int, end_us: int, step_us: int) -> None:
    if start_us >= end_us:
        raise BadUserInput("from must be before to")
    if step_us <= 0:
        raise BadUserInput("step must be positive")
    if (end_us - start_us) // step_us > MAX_BUCKETS:
        raise BadUserInput(f"from..to holds more than {MAX_BUCKETS} steps: take a coarser step")


async def usage(query: GetUsageQuery, *, usage_store: UsageStore) -> UsageReport:
    """Points and series by tag group (any tags, any number), and every figure per bucket."""
    _check(query.start_us, query.end_us, query.step_us)
    keys = query.group_by
    if len(keys) > MAX_GROUP_BY:
        raise BadUserInput(f"groupBy takes at most {MAX_GROUP_BY} tags")
    if len(set(keys)) != len(keys) or any(not k for k in keys):
        raise BadUserInput("groupBy names each tag once, none empty")
    return await project_usage(
        usage_store, query.project, query.start_us, query.end_us, query.step_us, keys
    )


async def usage_all(query: GetUsageAllQuery, *, usage_store: UsageStore) -> list[UsageReport]:
    """Every project's usage, ungrouped; the resolver lets system administrators only."""
    _check(query.start_us, query.end_us, query.step_us)
    projects = await usage_store.usage_projects(query.start_us, query.end_us)
    return [
        await project_usage(usage_store, p, query.start_us, query.end_us, query.step_us, ())
        for p in projects
    ]


async def project_usage(
    store: UsageStore, project: str, start: int, end: int, step: int, keys: tuple[str, ...]
) -> UsageReport:
    series = await store.series_usage(project, start, end, step, keys)
    new = await store.new_series(project, start, end, step, keys)
    counters = await store.counters(project, start, end, step)
    cells: dict[tuple[int, tuple[str, ...]], list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in series:
        cell = cells[(s.bucket_us, s.group)]
        cell[0] += s.points
        cell[1] += s.active_series
    for n in new:
        cells[(n.bucket_us, n.group)][2] += n.new_series
    if len(cells) > MAX_ROWS:
        raise BadUserInput(
            f"this usage has {len(cells)} rows, more than {MAX_ROWS}: take a coarser step,"
            " a shorter range or fewer groupBy tags"
        )
    # A series has one value of each tag (or none): it is in exactly one group, so the
    # groups' distinct series add up to the project's.
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (bucket, _), (points, active, fresh) in cells.items():
        total = totals[bucket]
        total[0] += points
        total[1] += active
        total[2] += fresh
    figures: dict[int, dict[str, float]] = defaultdict(_empty_figures)
    for c in counters:
        value = c.last if c.figure in GAUGE_FIGURES else c.total
        figures[c.bucket_us][c.figure] = value
    total_rows = [
        UsageRow(project, b, {}, t[0], t[1], t[2], _figures(figures.get(b)))
        for b in sorted(set(totals) | set(figures))
        for t in [totals.get(b, [0, 0, 0])]
    ]
    if not keys:
        return UsageReport(project, step, keys, total_rows, total_rows)
    rows = [
        UsageRow(project, bucket, dict(zip(keys, group, strict=True)), c[0], c[1], c[2])
        for (bucket, group), c in sorted(cells.items())
    ]
    return UsageReport(project, step, keys, rows, total_rows)


def _empty_figures() -> dict[str, float]:
    return dict.fromkeys((*COUNTER_FIGURES, *GAUGE_FIGURES), 0.0)


def _figures(found: dict[str, float] | None) -> dict[str, float]:
    return found if found is not None else _empty_figures()


async def cardinality(
    query: GetCardinalityQuery, *, usage_store: UsageStore, clock: Clock
) -> Cardinality:
    """Series by metric and tag key, and the tag values that bring the most series."""
    first = check_first(query.first)
    since = clock.now_us() - query.recent_us
    catalogue = await usage_store.catalogue(query.project, query.metric)
    by_metric: Counter[str] = Counter()
    new_by_metric: Counter[str] = Counter()
    by_key: Counter[str] = Counter()
    values_of: dict[str, set[str]] = defaultdict(set)
    by_value: Counter[tuple[str, str]] = Counter()
    new_by_value: Counter[tuple[str, str]] = Counter()
    new = 0
    for name, tags, first_us in catalogue:
        recent = first_us >= since
        new += recent
        by_metric[name] += 1
        new_by_metric[name] += recent
        for key, value in tags.items():
            by_key[key] += 1
            values_of[key].add(value)
            by_value[(key, value)] += 1
            new_by_value[(key, value)] += recent
    return Cardinality(
        project=query.project,
        series=len(catalogue),
        new_series=new,
        recent_since_us=since,
        metrics=[MetricCardinality(m, n, new_by_metric[m]) for m, n in _top(by_metric, first)],
        keys=[KeyCardinality(k, n, len(values_of[k])) for k, n in _top(by_key, first)],
        top_values=[
            TagValueCardinality(key, value, n, new_by_value[(key, value)])
            for (key, value), n in _top(by_value, first)
        ],
    )


def _top(counts: Counter[K], first: int) -> list[tuple[K, int]]:
    """The largest first, ties by name: the same answer every time."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:first]


async def unused_metrics(
    query: GetUnusedMetricsQuery, *, usage_store: UsageStore, clock: Clock
) -> list[UnusedMetric]:
    """Metrics nothing read (no chart, rule, report or query) in the last `days`, the
    largest stored first."""
    if not 1 <= query.days <= 3_660:
        raise BadUserInput("days must be between 1 and 3660")
    first = check_first(query.first)
    since = clock.now_us() - query.days * DAY_US
    series: Counter[str] = Counter(
        name for name, _, _ in await usage_store.catalogue(query.project)
    )
    reads = await usage_store.last_reads(query.project)
    stored: Counter[str] = Counter()
    for rows in await usage_store.stored_rows(query.project):
        stored[rows.metric] += rows.rows * BYTES_PER_ROW.get(rows.tier, 0)
    total = sum(stored.values())
    unused = [
        UnusedMetric(name, count, reads.get(name), stored[name], stored[name] / (total or 1))
        for name, count in series.items()
        if reads.get(name, -1) < since
    ]
    unused.sort(key=lambda m: (-m.stored_bytes, m.metric))
    return unused[:first]
