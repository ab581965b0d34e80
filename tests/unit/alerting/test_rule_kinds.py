"""ANOMALY and FORECAST rules: their checks, stored form, derived input, placement, and the
engine evaluating them with the threshold rules' machine."""

from __future__ import annotations

from typing import Any

import pytest

from domain.alerting import Alert, AlertRule, AlertState
from domain.alerting.evaluator import cohort_key
from domain.alerting.model import AnomalySettings, ForecastSettings, RuleKind
from domain.alerting.ports import ForecastInput
from domain.alerting.runtime import AlertEngine
from domain.alerting.runtime.forecasts import ForecastRunner
from domain.anomaly.model import placement_of
from domain.errors import BadUserInput
from domain.metrics.ingest import IngestLimits, validate_points
from tests.unit.alerting.fakes import FakeAlertStore
from tests.unit.fakes import NOW_US, FakeClock, FakeMetricStore

S = 1_000_000


def rule(**fields: Any) -> AlertRule:
    base: dict[str, Any] = {"name": "r", "metric": "lat", "threshold": 0.5}
    return AlertRule(**(base | fields))


def test_threshold_rules_are_stored_as_before() -> None:
    plain = rule()
    assert "kind" not in plain.to_dict() and plain.input_name == "lat" and not plain.derived
    assert AlertRule.from_dict(plain.to_dict()) == plain


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "anomaly", "aggregation": "p95"}, "an ANOMALY rule aggregates AVG"),
        ({"kind": "anomaly", "threshold": 1.5}, "threshold is a share"),
        ({"kind": "anomaly", "condition": "<"}, "fires on GT or GE"),
        ({"kind": "anomaly", "anomaly": {"min_score": 120}}, "min_score must be within"),
        ({"anomaly": AnomalySettings()}, "anomaly settings belong to ANOMALY rules"),
        ({"kind": "forecast", "condition": "=="}, "compares with GT, GE, LT or LE"),
        ({"kind": "forecast", "aggregation": "rate"}, "not RATE"),
        ({"kind": "forecast", "window_us": 5 * S}, "at least 10 s"),
        ({"kind": "forecast", "forecast": {"confidence": 0.3}}, "confidence must be within"),
        ({"kind": "forecast", "forecast": {"history_us": 60 * S}}, "at least 1 hour"),
    ],
)
def test_derived_rules_that_cannot_work_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        rule(**fields)
    assert message in refused.value.message


def test_derived_rules_round_trip_and_read_their_own_series() -> None:
    anomaly = rule(kind="anomaly", condition=">=", anomaly={"min_score": 70, "direction": "up"})
    assert anomaly.anomaly == AnomalySettings(70, anomaly.anomaly.direction)  # type: ignore[union-attr]
    assert AlertRule.from_dict(anomaly.to_dict()) == anomaly
    assert anomaly.input_name.split("\x1f") == ["lat", "anomaly", "up", "auto", "70"]
    threshold = rule(condition=">=")
    assert cohort_key(anomaly) != cohort_key(threshold)  # never one window
    forecast = rule(kind="forecast", threshold=95, window_us=60 * S)
    assert forecast.forecast == ForecastSettings()
    assert forecast.no_data_period_us == 180 * S  # three evaluations
    assert AlertRule.from_dict(forecast.to_dict()) == forecast
    a = Alert("a1", "acme", anomaly, NOW_US, "al")
    assert a.placement == placement_of("acme", "lat")
    assert Alert("a2", "acme", forecast, NOW_US, "al").placement == "a2"


class FakeForecaster:
    def __init__(self, value: float | None) -> None:
        self.value = value
        self.asked: list[ForecastInput] = []

    async def extremes(self, inputs: Any) -> list[float | None]:
        self.asked += inputs
        return [self.value for _ in inputs]


async def test_a_forecast_rule_is_evaluated_every_window_with_the_threshold_machine() -> None:
    metrics = FakeMetricStore()
    raw = [{"name": "disk", "value": 50.0 + i, "timestamp": (NOW_US - (40 - i) * 60 * S) // 1000}
           for i in range(40)]  # fmt: skip
    await metrics.append(validate_points("acme", raw, now_us=NOW_US, limits=IngestLimits()))
    forecaster = FakeForecaster(97.0)
    store = FakeAlertStore()
    disk = AlertRule(
        name="disk full soon", metric="disk", threshold=95.0, kind=RuleKind.FORECAST,
        window_us=60 * S, for_us=120 * S, aggregation="max",  # type: ignore[arg-type]
        forecast=ForecastSettings(horizon_us=3_600 * S, confidence=0.9, history_us=3_600 * S),
    )  # fmt: skip
    await store.save_alert(Alert("f1", "acme", disk, NOW_US, "al"))
    clock = FakeClock(NOW_US)
    engine = AlertEngine(
        store, metrics, clock, tick_seconds=0, forecasts=ForecastRunner(metrics, forecaster)
    )

    async def publish(_: Any) -> None:
        return None

    await engine.start(publish)
    await engine.evaluate_forecasts(NOW_US)
    (asked,) = forecaster.asked
    assert (asked.step_us, asked.horizon, asked.upper) == (10 * S, 360, True)
    assert asked.level == pytest.approx(0.1)
    assert [v for v in asked.values if v is not None][-1] == 89.0  # the newest point
    assert [s.state for s in engine.instances("f1") or []] == [AlertState.PENDING]
    await engine.evaluate_forecasts(NOW_US + 30 * S)  # not due yet: once a window
    assert len(forecaster.asked) == 1
    await engine.evaluate_forecasts(NOW_US + 60 * S)
    await engine.evaluate_forecasts(NOW_US + 120 * S)
    assert [s.state for s in engine.instances("f1") or []] == [AlertState.FIRING]  # after `for`
    forecaster.value = None  # the history cannot be forecast any more: silence
    for minutes in (3, 4, 5, 6):
        await engine.evaluate_forecasts(NOW_US + minutes * 60 * S)
        await engine.tick(NOW_US + minutes * 60 * S)
    assert [s.state for s in engine.instances("f1") or []] == [AlertState.NODATA]
    await engine.close()
