"""Analytics inputs: what to analyse, and a job (its kind, input and timeout)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.analytics.model import AnalyticsInput as DomainInput
from domain.analytics.model import SeriesSelector
from domain.analytics.results import AnalyticsKind as DomainKind
from domain.anomaly.model import Direction as DomainDirection
from domain.anomaly.model import Seasonality as DomainSeasonality
from domain.durations import parse_duration
from domain.errors import BadUserInput
from domain.metrics.model import Aggregation as DomainAggregation
from schema.anomaly.inputs import AnomalyDirection, Seasonality
from schema.inputs import TagMatcherInput, matchers_of
from schema.scalars import Duration
from schema.types import Aggregation, to_us

__all__ = ["DEFAULT_RANGE_US", "AnalyticsInput", "AnalyticsJobInput", "AnalyticsKind"]

AnalyticsKind = strawberry.enum(DomainKind, name="AnalyticsKind")
DEFAULT_RANGE_US = 86_400_000_000
MAX_QUANTILES = 20


@strawberry.input(
    description="The series to analyse over [from, to) in buckets of `step`, and the options "
    "of each kind (docs/analytics.md)."
)
class AnalyticsInput:
    metric: str
    step: Duration = strawberry.field(description='Bucket width: "5m", "1h" or seconds.')
    matchers: list[TagMatcherInput] | None = None
    group_by: list[str] | None = strawberry.field(
        default=None, description="One series per group; default: one per series."
    )
    aggregation: Aggregation = DomainAggregation.AVG  # type: ignore[valid-type]
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Default: one day before `to`."
    )
    to: datetime | None = strawberry.field(default=None, description="Default: now.")
    horizon: Duration | None = strawberry.field(
        default=None, description="FORECAST, CAPACITY: how far ahead."
    )
    period: Duration | None = strawberry.field(
        default=None, description="FORECAST, CAPACITY: the season; default: the strongest found."
    )
    limit: float | None = strawberry.field(default=None, description="CAPACITY: a fixed limit.")
    limit_metric: str | None = strawberry.field(
        default=None,
        description="CAPACITY: a series as the limit (its matching series summed"
        " by the aggregation), e.g. disk size against capacity.",
    )
    limit_matchers: list[TagMatcherInput] | None = None
    baseline_from: datetime | None = strawberry.field(
        default=None, description="COMPARISON: the baseline period; default: a week earlier."
    )
    baseline_to: datetime | None = None
    candidate_prefix: str = strawberry.field(
        default="", description="CORRELATION: only metrics whose name starts with this."
    )
    quantiles: list[float] | None = strawberry.field(
        default=None, description="COMPARISON: default 0.5, 0.9, 0.95, 0.99."
    )
    top: int = strawberry.field(default=10, description="CORRELATION, COMPARISON: how many.")
    alpha: float = strawberry.field(default=0.05, description="TREND: significance level.")
    penalty: float | None = strawberry.field(
        default=None, description="CHANGE_POINTS: PELT penalty; default: BIC-like, documented."
    )
    min_segment: int = strawberry.field(default=8, description="CHANGE_POINTS: in buckets.")
    marker_metric: str | None = strawberry.field(
        default=None, description="CHANGE_POINTS: a metric whose points mark events (deploys)."
    )
    marker_matchers: list[TagMatcherInput] | None = None
    sensitivity: float = strawberry.field(
        default=50.0,
        description="ANOMALIES: 0-100, as configureAnomalyDetection's (50: p <= 1e-5).",
    )
    direction: AnomalyDirection = strawberry.field(  # type: ignore[valid-type]
        default=DomainDirection.BOTH, description="ANOMALIES: which deviations count."
    )
    seasonality: Seasonality = strawberry.field(  # type: ignore[valid-type]
        default=DomainSeasonality.AUTO, description="ANOMALIES: the detector's profile."
    )

    def to_domain(self, now_us: int) -> DomainInput:
        end = to_us(self.to) or now_us
        start = to_us(self.from_) or end - DEFAULT_RANGE_US
        if self.quantiles is not None and len(self.quantiles) > MAX_QUANTILES:
            raise BadUserInput(f"at most {MAX_QUANTILES} quantiles")
        limit_series = markers = None
        if self.limit_metric is not None:
            limit_series = SeriesSelector(
                self.limit_metric,
                matchers_of(self.limit_matchers),
                aggregation=DomainAggregation(self.aggregation),
            )
        if self.marker_metric is not None:
            markers = SeriesSelector(self.marker_metric, matchers_of(self.marker_matchers))
        return DomainInput(
            series=SeriesSelector(
                self.metric,
                matchers_of(self.matchers),
                None if self.group_by is None else tuple(self.group_by),
                DomainAggregation(self.aggregation),
            ),
            start_us=start,
            end_us=end,
            step_us=parse_duration(self.step, "step"),
            horizon_us=_duration(self.horizon, "horizon"),
            period_us=_duration(self.period, "period"),
            limit=self.limit,
            limit_series=limit_series,
            baseline_start_us=to_us(self.baseline_from),
            baseline_end_us=to_us(self.baseline_to),
            candidate_prefix=self.candidate_prefix,
            quantiles=(0.5, 0.9, 0.95, 0.99) if self.quantiles is None else tuple(self.quantiles),
            top=self.top,
            alpha=self.alpha,
            penalty=self.penalty,
            min_segment=self.min_segment,
            markers=markers,
            sensitivity=self.sensitivity,
            direction=DomainDirection(self.direction),
            seasonality=DomainSeasonality(self.seasonality),
        )


def _duration(value: object, name: str) -> int | None:
    return None if value is None else parse_duration(value, name)


@strawberry.input(description="An analytics job: its kind, its input and its timeout.")
class AnalyticsJobInput:
    kind: AnalyticsKind  # type: ignore[valid-type]
    input: AnalyticsInput
    timeout: Duration | None = strawberry.field(
        default=None, description="Default VIGIL_ANALYTICS_JOB_TIMEOUT_SECONDS (10 min)."
    )

    def timeout_us(self) -> int | None:
        return _duration(self.timeout, "timeout")
