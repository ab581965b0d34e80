"""Anomaly detection: a streaming detector per series, its scores and their explanation."""

from domain.anomaly.detector import AnomalyDetector
from domain.anomaly.explain import explain
from domain.anomaly.model import (
    DetectorConfig,
    Direction,
    Learning,
    ModelState,
    Scored,
    Seasonality,
)

__all__ = [
    "AnomalyDetector",
    "DetectorConfig",
    "Direction",
    "Learning",
    "ModelState",
    "Scored",
    "Seasonality",
    "explain",
]
