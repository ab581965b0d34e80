"""Ingest: raw points in, a validated columnar batch out (the ingest hot path)."""

from domain.metrics.ingest.batch import (
    BatchRejected,
    IngestLimits,
    PointBatch,
    SeriesSpec,
    series_id,
)
from domain.metrics.ingest.series import SeriesCache
from domain.metrics.ingest.validate import validate_points

__all__ = [
    "BatchRejected",
    "IngestLimits",
    "PointBatch",
    "SeriesCache",
    "SeriesSpec",
    "series_id",
    "validate_points",
]
