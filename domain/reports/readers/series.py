"""SERIES sections: a metricSeries query over the report's range, as a chart."""

from __future__ import annotations

from domain.matchers import MatchOp, TagMatcher
from domain.messagebus import Ask
from domain.metrics.model import Aggregation
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesResult
from domain.reports.document import ChartSection, Section, SeriesLine
from domain.reports.model import SectionSpec
from domain.reports.ports import Window

__all__ = ["default_step_us", "line_label", "read_series"]

MINUTE_US = 60_000_000
BUCKETS = 120  # the buckets of a chart whose step is not set: legible on a printed page


def default_step_us(window: Window) -> int:
    """About BUCKETS buckets over the range, in whole minutes."""
    span = window.end_us - window.start_us
    return max(MINUTE_US, span // BUCKETS // MINUTE_US * MINUTE_US)


def line_label(metric: str, tags: dict[str, str]) -> str:
    if not tags:
        return metric
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


async def read_series(ask: Ask, project: str, spec: SectionSpec, window: Window) -> list[Section]:
    step_us = spec.step_seconds * 1_000_000 if spec.step_seconds else default_step_us(window)
    result: SeriesResult = await ask(
        GetMetricSeriesQuery(
            project=project,
            name=spec.metric,
            start_us=window.start_us,
            end_us=window.end_us,
            aggregation=Aggregation(spec.aggregation),
            step_us=step_us,
            matchers=tuple(TagMatcher(k, MatchOp(o), v) for k, o, v in spec.matchers),
            group_by=spec.group_by or None,
        )
    )
    lines = [
        SeriesLine(line_label(spec.metric, s.tags), result.timestamps_us, s.values, dict(s.tags))
        for s in result.series
    ]
    title = spec.title or f"{spec.aggregation}({spec.metric})"
    return [
        ChartSection(
            title,
            lines,
            unit=spec.unit,
            step_seconds=step_us // 1_000_000,
            note="" if lines else f"no points of {spec.metric} in this range",
        )
    ]
