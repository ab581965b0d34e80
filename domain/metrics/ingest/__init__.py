"""Ingest: raw points in, a validated columnar batch out (the ingest hot path)."""

from domain.metrics.ingest.batch import (
    BatchRejected,
    IngestLimits,
    PointBatch,
    SeriesSpec,
    series_id,
)
from domain.metrics.ingest.columnar import ColumnSeries, PointColumns
from domain.metrics.ingest.describe import check_descriptions
from domain.metrics.ingest.entries import entry_at, is_series_entry
from domain.metrics.ingest.series import SeriesCache
from domain.metrics.ingest.validate import validate_points

__all__ = [
    "BatchRejected",
    "ColumnSeries",
    "IngestLimits",
    "PointBatch",
    "PointColumns",
    "SeriesCache",
    "SeriesSpec",
    "check_descriptions",
    "entry_at",
    "is_series_entry",
    "series_id",
    "validate_points",
]
