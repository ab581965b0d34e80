"""FORECAST rules on a schedule: every window, each group's history is fitted (by the
Forecaster port, away from the event loop) and the forecast's extreme becomes one point of
the rule's derived series, which the engine evaluates like any point."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence

from domain.alerting.model import ForecastSettings, RuleKind
from domain.alerting.ports import Forecaster, ForecastInput
from domain.alerting.rule import AlertRule
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.model import Aggregation
from domain.metrics.ports import MetricStore
from domain.metrics.queries import GetMetricSeriesQuery

__all__ = ["FORECAST_BUCKETS", "ForecastRunner", "forecast_step", "forecast_values"]

logger = logging.getLogger("vigil.alerting")

FORECAST_BUCKETS = 720  # the history is fitted in about this many buckets
MIN_STEP_US = 10_000_000
MAX_HORIZON_BUCKETS = 5_000
MAX_GROUPS = 1_000  # groups forecast per rule and evaluation


def forecast_step(settings: ForecastSettings) -> int:
    """The bucket of the fitted history: about FORECAST_BUCKETS of them, whole seconds."""
    step = settings.history_us // FORECAST_BUCKETS
    return max(MIN_STEP_US, step - step % 1_000_000)


def group_series_id(tags: Mapping[str, str]) -> int:
    text = json.dumps(sorted(tags.items()), separators=(",", ":"))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=7).digest(), "big")


async def forecast_values(
    metrics: MetricStore,
    forecaster: Forecaster,
    project: str,
    rule: AlertRule,
    now_us: int,
) -> list[tuple[dict[str, str], float]]:
    """Each group's value for a FORECAST rule at `now_us` (groups whose history cannot be
    forecast are left out: silence, which the no-data policy judges)."""
    settings = rule.forecast or ForecastSettings()
    step = forecast_step(settings)
    end = now_us - now_us % step  # whole buckets only: the last one is complete
    start = end - settings.history_us
    result = await metrics.aggregate(
        GetMetricSeriesQuery(
            project,
            rule.metric,
            start,
            end,
            Aggregation(rule.aggregation.value),
            step,
            rule.matchers,
            rule.group_by,
        )
    )
    upper = rule.condition.direction > 0
    level = 1.0 - settings.confidence if upper else settings.confidence
    horizon = min(MAX_HORIZON_BUCKETS, -(-settings.horizon_us // step))
    groups = result.series[:MAX_GROUPS]
    inputs = [
        ForecastInput(
            data.values,
            result.timestamps_us[0] if result.timestamps_us else start,
            step,
            horizon,
            level,
            upper,
        )
        for data in groups
    ]
    if not inputs:
        return []
    found = await forecaster.extremes(inputs)
    return [
        (dict(data.tags), value)
        for data, value in zip(groups, found, strict=True)
        if value is not None
    ]


class ForecastRunner:
    """When each FORECAST rule is next due, and its evaluation as a derived batch."""

    def __init__(self, metrics: MetricStore, forecaster: Forecaster) -> None:
        self._metrics = metrics
        self._forecaster = forecaster
        self._due: dict[tuple[str, str], int] = {}  # (alert id, input name) -> next due

    async def due(
        self, rules: Iterable[tuple[str, str, AlertRule]], now_us: int
    ) -> list[MetricCollectedEvent]:
        """Evaluate the rules due at `now_us` ((alert id, project, rule) each): one batch
        per rule, its points named by the rule's input name, at `now_us`."""
        batches: list[MetricCollectedEvent] = []
        seen: set[tuple[str, str]] = set()
        for alert_id, project, rule in rules:
            if rule.kind is not RuleKind.FORECAST:
                continue
            key = (alert_id, rule.input_name)
            seen.add(key)
            if self._due.get(key, 0) > now_us:
                continue
            self._due[key] = now_us + rule.window_us
            try:
                values = await forecast_values(
                    self._metrics, self._forecaster, project, rule, now_us
                )
            except Exception:  # one rule's failure must not stop the others
                logger.exception("forecasting for alert %s failed", alert_id)
                continue
            batches.append(_batch(project, rule.input_name, values, now_us))
        for key in [k for k in self._due if k not in seen]:
            del self._due[key]
        return batches


def _batch(
    project: str, name: str, values: Sequence[tuple[dict[str, str], float]], now_us: int
) -> MetricCollectedEvent:
    series = [{"id": group_series_id(tags), "name": name, "tags": tags} for tags, _ in values]
    return MetricCollectedEvent(
        project,
        series,
        list(range(len(series))),
        [now_us] * len(series),
        [v if math.isfinite(v) else math.nan for _, v in values],
    )
