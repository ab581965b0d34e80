"""Analytics jobs and their input: what to analyse (a series selection, a range, a step)
and the options each kind reads, checked once before anything runs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from domain.analytics.results import AnalyticsKind
from domain.anomaly.model import DetectorConfig, Direction, Seasonality
from domain.buckets import bucket_count
from domain.errors import BadUserInput
from domain.matchers import MatchOp, TagMatcher
from domain.metrics.model import Aggregation

__all__ = [
    "MAX_HORIZON_BUCKETS",
    "MAX_SERIES_BUCKETS",
    "TERMINAL_STATES",
    "AnalyticsInput",
    "AnalyticsJob",
    "JobState",
    "SeriesSelector",
]

MAX_SERIES_BUCKETS = 100_000  # buckets of one series (range / step)
MAX_HORIZON_BUCKETS = 10_000
MAX_TOP = 1_000
WEEK_US = 7 * 86_400_000_000


class JobState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})


@dataclass(frozen=True, slots=True)
class SeriesSelector:
    """Which series, and how each bucket is aggregated (as `metricSeries` reads them)."""

    metric: str
    matchers: tuple[TagMatcher, ...] = ()
    group_by: tuple[str, ...] | None = None  # None: one grid per series
    aggregation: Aggregation = Aggregation.AVG

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "matchers": [[m.key, m.op.value, m.value] for m in self.matchers],
            "group_by": None if self.group_by is None else list(self.group_by),
            "aggregation": self.aggregation.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SeriesSelector:
        return cls(
            metric=data["metric"],
            matchers=tuple(TagMatcher(k, MatchOp(op), v) for k, op, v in data["matchers"]),
            group_by=None if data["group_by"] is None else tuple(data["group_by"]),
            aggregation=Aggregation(data["aggregation"]),
        )


@dataclass(frozen=True, slots=True)
class AnalyticsInput:
    """The series over [start, end) in buckets of `step_us`, and the options of each kind.

    FORECAST and CAPACITY need `horizon_us`; CAPACITY a `limit` or a `limit_series`.
    CORRELATION ranks the project's other series by how their distribution changed in
    [start, end) against the 4x longer span just before; COMPARISON compares [start, end)
    with [baseline_start, baseline_end) (default: the same span one week earlier).
    CHANGE_POINTS attaches the audit entries and `markers` points near each change.
    ANOMALIES scores every bucket with the live anomaly detector configured by
    `sensitivity`, `direction` and `seasonality` (`detector_config`).
    """

    series: SeriesSelector
    start_us: int
    end_us: int
    step_us: int
    horizon_us: int | None = None
    period_us: int | None = None
    limit: float | None = None
    limit_series: SeriesSelector | None = None
    baseline_start_us: int | None = None
    baseline_end_us: int | None = None
    candidate_prefix: str = ""
    quantiles: tuple[float, ...] = (0.5, 0.9, 0.95, 0.99)
    top: int = 10
    alpha: float = 0.05
    penalty: float | None = None
    min_segment: int = 8
    markers: SeriesSelector | None = None
    sensitivity: float = 50.0
    direction: Direction = Direction.BOTH
    seasonality: Seasonality = Seasonality.AUTO

    @property
    def buckets(self) -> int:
        """Buckets of one series over the range."""
        return bucket_count(self.start_us, self.end_us, self.step_us)

    @property
    def horizon_buckets(self) -> int:
        return 0 if self.horizon_us is None else -(-self.horizon_us // self.step_us)

    @property
    def period_buckets(self) -> int | None:
        return None if self.period_us is None else max(1, round(self.period_us / self.step_us))

    def detector_config(self) -> DetectorConfig:
        """ANOMALIES: the detector as `configureAnomalyDetection` would set it up."""
        return DetectorConfig(self.sensitivity, self.direction, self.seasonality)

    def baseline(self) -> tuple[int, int]:
        """COMPARISON's baseline period: the one given, else one week earlier."""
        if self.baseline_start_us is not None and self.baseline_end_us is not None:
            return self.baseline_start_us, self.baseline_end_us
        return self.start_us - WEEK_US, self.end_us - WEEK_US

    def checked(self, kind: AnalyticsKind) -> AnalyticsInput:
        """This input if `kind` can run it, else BadUserInput naming what is wrong."""
        if self.step_us <= 0:
            raise BadUserInput("step must be positive")
        if self.start_us >= self.end_us:
            raise BadUserInput("from must be before to")
        if self.buckets > MAX_SERIES_BUCKETS:
            raise BadUserInput(
                f"range / step gives {self.buckets} buckets per series; at most "
                f"{MAX_SERIES_BUCKETS}: use a larger step"
            )
        if not self.series.metric:
            raise BadUserInput("name a metric")
        if not 1 <= self.top <= MAX_TOP:
            raise BadUserInput(f"top must be between 1 and {MAX_TOP}")
        if not 0 < self.alpha < 1:
            raise BadUserInput("alpha must be between 0 and 1")
        if self.penalty is not None and not (math.isfinite(self.penalty) and self.penalty > 0):
            raise BadUserInput("penalty must be a positive number")
        if not 2 <= self.min_segment <= 10_000:
            raise BadUserInput("minSegment must be between 2 and 10000 buckets")
        if not self.quantiles or any(not 0 <= q <= 1 for q in self.quantiles):
            raise BadUserInput("quantiles must be between 0 and 1")
        if self.period_us is not None and self.period_us < 2 * self.step_us:
            raise BadUserInput("period must be at least two steps")
        if kind in (AnalyticsKind.FORECAST, AnalyticsKind.CAPACITY):
            if self.horizon_us is None or self.horizon_us <= 0:
                raise BadUserInput(f"{kind.value} needs a positive horizon")
            if self.horizon_buckets > MAX_HORIZON_BUCKETS:
                raise BadUserInput(f"horizon / step must be at most {MAX_HORIZON_BUCKETS}")
        if kind is AnalyticsKind.CAPACITY:
            if (self.limit is None) == (self.limit_series is None):
                raise BadUserInput("CAPACITY needs a limit or a limit series (one of them)")
            if self.limit is not None and not math.isfinite(self.limit):
                raise BadUserInput("limit must be a finite number")
        if not (math.isfinite(self.sensitivity) and 0 <= self.sensitivity <= 100):
            raise BadUserInput("sensitivity must be between 0 and 100")
        if self.direction is Direction.NONE:
            raise BadUserInput("direction must be UP, DOWN or BOTH")
        if kind is AnalyticsKind.COMPARISON:
            start, end = self.baseline()
            if start >= end:
                raise BadUserInput("baselineFrom must be before baselineTo")
            if bucket_count(start, end, self.step_us) > MAX_SERIES_BUCKETS:
                raise BadUserInput("the baseline has too many buckets: use a larger step")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "series": self.series.to_dict(),
            "start_us": self.start_us,
            "end_us": self.end_us,
            "step_us": self.step_us,
            "horizon_us": self.horizon_us,
            "period_us": self.period_us,
            "limit": self.limit,
            "limit_series": None if self.limit_series is None else self.limit_series.to_dict(),
            "baseline_start_us": self.baseline_start_us,
            "baseline_end_us": self.baseline_end_us,
            "candidate_prefix": self.candidate_prefix,
            "quantiles": list(self.quantiles),
            "top": self.top,
            "alpha": self.alpha,
            "penalty": self.penalty,
            "min_segment": self.min_segment,
            "markers": None if self.markers is None else self.markers.to_dict(),
            "sensitivity": self.sensitivity,
            "direction": self.direction.value,
            "seasonality": self.seasonality.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnalyticsInput:
        def selector(key: str) -> SeriesSelector | None:
            raw = data.get(key)
            return None if raw is None else SeriesSelector.from_dict(raw)

        main = selector("series")
        assert main is not None
        return cls(
            series=main,
            start_us=data["start_us"],
            end_us=data["end_us"],
            step_us=data["step_us"],
            horizon_us=data.get("horizon_us"),
            period_us=data.get("period_us"),
            limit=data.get("limit"),
            limit_series=selector("limit_series"),
            baseline_start_us=data.get("baseline_start_us"),
            baseline_end_us=data.get("baseline_end_us"),
            candidate_prefix=data.get("candidate_prefix", ""),
            quantiles=tuple(data.get("quantiles", (0.5, 0.9, 0.95, 0.99))),
            top=data.get("top", 10),
            alpha=data.get("alpha", 0.05),
            penalty=data.get("penalty"),
            min_segment=data.get("min_segment", 8),
            markers=selector("markers"),
            sensitivity=data.get("sensitivity", 50.0),
            direction=Direction(data.get("direction", Direction.BOTH.value)),
            seasonality=Seasonality(data.get("seasonality", Seasonality.AUTO.value)),
        )


@dataclass(frozen=True, slots=True)
class AnalyticsJob:
    """A stored job. `attempt` counts the runs started (a run cut short by a dead process
    is started again): every write of a run names its attempt, so a stale run writes
    nothing. A finished job expires, with its result, at `expires_us`."""

    id: str
    project: str
    kind: AnalyticsKind
    input: AnalyticsInput
    created_us: int
    created_by: str = ""
    state: JobState = JobState.QUEUED
    timeout_us: int = 600_000_000
    progress: float = 0.0
    phase: str = "queued"
    started_us: int | None = None
    finished_us: int | None = None
    error: str | None = None
    attempt: int = 0
    owner: str = ""
    cancel_requested: bool = False
    expires_us: int | None = None
    result_count: int = 0

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def duration_us(self) -> int | None:
        if self.started_us is None or self.finished_us is None:
            return None
        return self.finished_us - self.started_us

    def ended(
        self, state: JobState, *, at_us: int, ttl_us: int, error: str | None = None, count: int = 0
    ) -> AnalyticsJob:
        """The job in a final state, expiring `ttl_us` after now."""
        return replace(
            self,
            state=state,
            finished_us=at_us,
            error=error,
            phase=state.value.lower(),
            progress=1.0 if state is JobState.SUCCEEDED else self.progress,
            expires_us=at_us + ttl_us,
            result_count=count,
        )
