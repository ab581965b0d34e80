"""Anomaly detection types, inputs and live messages of the GraphQL schema."""

from schema.anomaly.inputs import (
    AnomalyDetectionInput,
    AnomalyDirection,
    DetectorState,
    Seasonality,
)
from schema.anomaly.live import AnomalyDetected
from schema.anomaly.types import (
    Anomaly,
    AnomalyBand,
    AnomalyConnection,
    AnomalyDetection,
    Detector,
    TagContribution,
)

__all__ = [
    "Anomaly",
    "AnomalyBand",
    "AnomalyConnection",
    "AnomalyDetected",
    "AnomalyDetection",
    "AnomalyDetectionInput",
    "AnomalyDirection",
    "Detector",
    "DetectorState",
    "Seasonality",
    "TagContribution",
]
