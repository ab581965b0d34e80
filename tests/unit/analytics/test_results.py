"""Every result survives JSON (NaN as null) and change points take audit marks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from domain.analytics.results import (
    RESULT_TYPES,
    AnalyticsKind,
    AuditMark,
    ChangeKind,
    ChangePoint,
    ChangePointsResult,
    ComparisonResult,
    CorrelationResult,
    SeasonalityResult,
    TrendResult,
)
from domain.analytics.series import Grid
from domain.anomaly.history import score_history
from domain.anomaly.model import DetectorConfig
from infra.analytics.methods import (
    capacity,
    change_points,
    comparison,
    correlation,
    forecast,
    seasonality,
    trend,
)
from tests.unit.analytics.support import FIVE_MIN, T0, daily, grid


def _all_results() -> list[object]:
    g = grid(daily(8, seed=1, missing=0.1), host="a")
    other = grid(daily(8, seed=2), host="b")
    return [
        trend(g),
        seasonality(g),
        change_points(g),
        forecast(g, horizon=288),
        capacity(g, limit=1000.0, horizon=288),
        correlation([g, other], window_start_us=T0 + 6 * 86_400_000_000, window_end_us=g.end_us),
        comparison([g], [other], group_by=["host"]),
        score_history(g, DetectorConfig()),
    ]


def test_each_result_round_trips_through_json() -> None:
    results = _all_results()
    assert {r.to_dict()["kind"] for r in results} == set(AnalyticsKind)  # type: ignore[attr-defined]
    for result in results:
        data = json.loads(json.dumps(result.to_dict(), allow_nan=False))  # type: ignore[attr-defined]
        again = RESULT_TYPES[AnalyticsKind(data["kind"])].from_dict(data)
        assert json.dumps(again.to_dict(), allow_nan=False) == json.dumps(
            result.to_dict(),  # type: ignore[attr-defined]
            allow_nan=False,
        )


def test_nan_becomes_null_and_back() -> None:
    result = trend(Grid(T0, FIVE_MIN, np.array([1.0, np.nan])))
    data = result.to_dict()
    assert data["var_s"] is None
    assert math.isnan(TrendResult.from_dict(data).var_s)


def test_seasonality_says_none_in_json() -> None:
    noise = np.random.default_rng(3).normal(size=2_000)
    data = seasonality(grid(noise)).to_dict()
    assert data["none"] is True and data["periods"] == []
    assert SeasonalityResult.from_dict(data).none


def test_audit_marks_attach_to_the_nearest_changes() -> None:
    def point(at: int) -> ChangePoint:
        return ChangePoint(at, 0, ChangeKind.LEVEL, 0.0, 1.0, 1.0, 1.0)

    result = ChangePointsResult({}, 0, 1_000, "PELT", 1.0, (point(100), point(900)))
    marks = [AuditMark(110, "audit", "rule edited", "e1"), AuditMark(500, "deploy", "v2")]
    attached = result.with_audit(marks, within_us=50)
    assert [m.ref for m in attached.points[0].audit] == ["e1"]
    assert attached.points[1].audit == ()
    assert ChangePointsResult.from_dict(attached.to_dict()) == attached


@pytest.mark.parametrize("kind", [CorrelationResult, ComparisonResult])
def test_results_are_frozen(kind: type) -> None:
    assert kind.__dataclass_params__.frozen  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "values",
    [np.full(3_000, 5.0), np.where(np.arange(3_000) % 2, np.nan, np.arange(3_000.0))],
    ids=["flat", "every-other-missing"],
)
def test_degenerate_series_still_answer(values: np.ndarray) -> None:
    g = grid(values)
    for result in (
        trend(g),
        seasonality(g),
        change_points(g),
        forecast(g, horizon=100),
        capacity(g, limit=1e9, horizon=100),
    ):
        json.dumps(result.to_dict(), allow_nan=False)


def test_nothing_observed_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="observed"):
        forecast(grid(np.full(3_000, np.nan)), horizon=10)
