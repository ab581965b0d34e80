"""Anomaly query handlers: anomalies with their words and top tags, bands for charts, and
the detections of a project."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from domain.anomaly.ports import AnomalyRuntime, AnomalyStore
from domain.anomaly.queries import (
    GetAnomalyBandQuery,
    ListAnomaliesQuery,
    ListAnomalyDetectionsQuery,
)
from domain.anomaly.read_models import (
    AnomalyBandDto,
    AnomalyDetectionDto,
    AnomalyPage,
    BandSeries,
    TagContribution,
)
from domain.anomaly.records import BAND_STEP_US, AnomalyRecord
from domain.buckets import BucketGrid
from domain.errors import BadUserInput
from domain.matchers import MatchOp, matches_all
from domain.metrics.ports import MetricStore
from domain.paging import check_first, cursor_number, cursor_timestamp

__all__ = ["anomalies", "anomaly_band", "anomaly_detections"]

CHUNK = 500  # anomalies read from the store at a time while filtering by tags
CONTRIBUTION_SAMPLE = 5_000  # anomalies weighed for the contributing tags
MAX_CONTRIBUTORS = 10
MAX_BAND_SERIES = 100


async def anomalies(
    query: ListAnomaliesQuery, *, anomalies: AnomalyStore, metrics: MetricStore
) -> AnomalyPage:
    """Newest first; the tags that contributed most are weighed on the first page, over the
    range's anomalies (up to CONTRIBUTION_SAMPLE of them)."""
    check_first(query.first)
    if query.end_us <= query.start_us:
        raise BadUserInput("from must be before to")
    if not 0 <= query.min_score <= 100:
        raise BadUserInput("minScore must be within 0-100")
    before = _cursor(query.after) if query.after is not None else None
    found = await _matching(anomalies, query, before, query.first + 1)
    contributors: list[TagContribution] = []
    if query.after is None:
        sample = found if len(found) <= query.first else None
        if sample is None:
            sample = await _matching(anomalies, query, None, CONTRIBUTION_SAMPLE)
        fixed = {m.key for m in query.matchers if m.op is MatchOp.EQ}
        keys = {k for r in sample for k in r.tags} - fixed
        varying = {
            k for k in keys if len(await metrics.tag_values(query.project, k, query.metric, 2)) > 1
        }
        contributors = contributions(sample, varying)
    return AnomalyPage(found[: query.first], len(found) > query.first, contributors)


async def _matching(
    store: AnomalyStore, query: ListAnomaliesQuery, before: tuple[int, int] | None, wanted: int
) -> list[AnomalyRecord]:
    found: list[AnomalyRecord] = []
    while len(found) < wanted:
        chunk = await store.list_anomalies(
            query.project,
            query.metric,
            start_us=query.start_us,
            end_us=query.end_us,
            min_score=query.min_score,
            before=before,
            first=CHUNK,
        )
        found += [r for r in chunk if matches_all(query.matchers, r.tags)]
        if len(chunk) < CHUNK:
            break
        before = (chunk[-1].timestamp_us, chunk[-1].series_id)
    return found[:wanted]


def contributions(records: Sequence[AnomalyRecord], keys: Collection[str]) -> list[TagContribution]:
    """The values of `keys` whose series carried the most anomaly score (keys that take
    one value over the metric, or that the query fixes, tell nothing and are not given)."""
    if not records:
        return []
    total = sum(r.score for r in records)
    weight: dict[tuple[str, str], list[float]] = {}
    for record in records:
        for item in record.tags.items():
            if item[0] in keys:
                weight.setdefault(item, [0.0, 0.0])
                weight[item][0] += record.score
                weight[item][1] += 1
    told = [
        TagContribution(key, value, int(count), score, score / total if total else 0.0)
        for (key, value), (score, count) in weight.items()
    ]
    told.sort(key=lambda c: (-c.score, c.key, c.value))
    return told[:MAX_CONTRIBUTORS]


async def anomaly_band(query: GetAnomalyBandQuery, *, anomalies: AnomalyStore) -> AnomalyBandDto:
    """The stored minute bands of each series, averaged over each chart bucket (weighted by
    the points scored); None where no point was scored."""
    if query.end_us <= query.start_us:
        raise BadUserInput("from must be before to")
    grid = BucketGrid.checked(query.start_us, query.end_us, query.step_us)
    stamps = grid.timestamps()
    first, step = grid.first_us, query.step_us
    rows = await anomalies.band_rows(
        query.project, query.metric, start_us=first, end_us=query.end_us
    )
    sums: dict[int, tuple[dict[str, str], list[list[float]]]] = {}
    for row in rows:
        if not matches_all(query.matchers, row.tags):
            continue
        entry = sums.get(row.series_id)
        if entry is None:
            if len(sums) >= MAX_BAND_SERIES:
                raise BadUserInput(f"a band covers at most {MAX_BAND_SERIES} series; add matchers")
            entry = sums[row.series_id] = (dict(row.tags), [[0.0] * 4 for _ in stamps])
        # A minute's band covers every bucket inside it when the chart's are finer.
        low = (row.bucket_us - first) // step
        high = max(low, (row.bucket_us + BAND_STEP_US - 1 - first) // step)
        for i in range(max(low, 0), min(high + 1, len(stamps))):
            cell = entry[1][i]
            cell[0] += row.baseline * row.points
            cell[1] += row.lower * row.points
            cell[2] += row.upper * row.points
            cell[3] += row.points
    series = [
        BandSeries(
            tags,
            [c[0] / c[3] if c[3] else None for c in cells],
            [c[1] / c[3] if c[3] else None for c in cells],
            [c[2] / c[3] if c[3] else None for c in cells],
        )
        for tags, cells in sorted(sums.values(), key=lambda e: sorted(e[0].items()))
    ]
    return AnomalyBandDto(stamps, series)


async def anomaly_detections(
    query: ListAnomalyDetectionsQuery,
    *,
    anomalies: AnomalyStore,
    anomaly_runtime: AnomalyRuntime,
) -> list[AnomalyDetectionDto]:
    found = await anomalies.list_detections(query.project)
    out = []
    for detection in found:
        live = anomaly_runtime.detectors(detection.id) if detection.enabled else None
        out.append(AnomalyDetectionDto(detection, None if live is None else tuple(live)))
    return out


def _cursor(text: str) -> tuple[int, int]:
    try:
        at, sid = text.split(":")
        return cursor_timestamp(at), cursor_number(sid)
    except ValueError:
        raise BadUserInput("after is not a cursor of this list") from None
