"""A new detector's history: the metric's stored points, averaged per bucket for the past
weeks and raw for the last hour, read once for every detector of a metric that needs it."""

from __future__ import annotations

from collections.abc import Sequence

from domain.anomaly.detector import AnomalyDetector
from domain.anomaly.model import ModelState, Scored
from domain.matchers import MatchOp, TagMatcher
from domain.metrics.model import Aggregation, decode_point_id
from domain.metrics.ports import MetricStore
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery

__all__ = ["RAW_US", "SEED_US", "History", "read_history", "replay"]

MINUTE_US = 60_000_000
SEED_US = 15 * 1_440 * MINUTE_US  # two weeks and a day: a weekly profile needs two cycles
RAW_US = 60 * MINUTE_US  # the last hour raw: buckets of averages understate point noise
SEED_STEP_US = 2 * MINUTE_US  # the finest averages; more series take coarser ones
MAX_VALUES = 4_000_000  # averages read at once for one metric
MAX_RAW_POINTS = 200_000
PER_SERIES = 20  # up to this many detectors, each series is read on its own
PAGE = 10_000

# series id -> (timestamps, values), oldest first
History = dict[int, tuple[list[int], list[float]]]


async def read_history(
    metrics: MetricStore,
    project: str,
    metric: str,
    series: Sequence[tuple[int, dict[str, str]]],
    now_us: int,
) -> History:
    """The history of each (series id, tags) before `now_us`."""
    found: History = {sid: ([], []) for sid, _ in series}
    by_tags = {tuple(sorted(tags.items())): sid for sid, tags in series}
    raw_from = now_us - RAW_US
    start = now_us - SEED_US
    step = SEED_STEP_US
    if len(series) > PER_SERIES:
        buckets = MAX_VALUES // max(1, 2 * len(series))
        step = max(step, -(-(raw_from - start) // max(1, buckets)) // MINUTE_US * MINUTE_US)
        selections: list[tuple[TagMatcher, ...]] = [()]
    else:
        selections = [_exactly(tags) for _, tags in series]
    for matchers in selections:
        result = await metrics.aggregate(
            GetMetricSeriesQuery(
                project, metric, start, raw_from, Aggregation.AVG, step, matchers, None
            )
        )
        for data in result.series:
            sid = by_tags.get(tuple(sorted(data.tags.items())))
            if sid is None:
                continue
            stamps, values = found[sid]
            for at, value in zip(result.timestamps_us, data.values, strict=True):
                if value is not None:
                    stamps.append(at + step // 2)  # the middle of its bucket
                    values.append(value)
    for matchers in selections:
        await _raw(metrics, project, metric, matchers, raw_from, now_us, found)
    return found


async def _raw(
    metrics: MetricStore,
    project: str,
    metric: str,
    matchers: tuple[TagMatcher, ...],
    start_us: int,
    end_us: int,
    found: History,
) -> None:
    newest_first: list[tuple[int, int, float]] = []
    after: tuple[int, int] | None = None
    while len(newest_first) < MAX_RAW_POINTS:
        page = await metrics.list_points(
            GetMetricsListQuery(project, metric, matchers, start_us, end_us, PAGE, after)
        )
        for point in page.items:
            decoded = decode_point_id(point.id)
            if decoded is not None:
                newest_first.append((decoded[0], point.timestamp_us, point.value))
        if not page.has_next_page or not page.items:
            break
        decoded = decode_point_id(page.items[-1].id)
        if decoded is None:
            break
        after = (decoded[1], decoded[0])
    for sid, ts_us, value in reversed(newest_first):
        if sid in found:
            stamps, values = found[sid]
            if not stamps or ts_us > stamps[-1]:
                stamps.append(ts_us)
                values.append(value)


def replay(
    detector: AnomalyDetector,
    timestamps_us: Sequence[int],
    values: Sequence[float],
    *,
    keep_from_us: int,
) -> list[Scored]:
    """Learn history point by point (as `seed` does); the scores from `keep_from_us` on
    that have a band, for the chart's band rows. Nothing in history opens an episode."""
    kept: list[Scored] = []
    observe = detector.observe
    for ts_us, value in zip(timestamps_us, values, strict=True):
        if value != value:
            continue
        scored = observe(ts_us, value)
        if ts_us >= keep_from_us and scored.state is not ModelState.LEARNING:
            kept.append(scored)
    detector.seed((), (), 1)  # resets the episode counter: history is not news
    return kept


def _exactly(tags: dict[str, str]) -> tuple[TagMatcher, ...]:
    return tuple(TagMatcher(k, MatchOp.EQ, v) for k, v in sorted(tags.items()))
