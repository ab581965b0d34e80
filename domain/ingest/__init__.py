"""Ingest: raw points in, a validated columnar batch out (the ingest hot path)."""

from domain.ingest.batch import (
    BatchRejected,
    IngestLimits,
    PointBatch,
    SeriesSpec,
    decode_point_id,
    encode_point_id,
    series_id,
)
from domain.ingest.series import SeriesCache
from domain.ingest.validate import validate_points

__all__ = [
    "BatchRejected",
    "IngestLimits",
    "PointBatch",
    "SeriesCache",
    "SeriesSpec",
    "decode_point_id",
    "encode_point_id",
    "series_id",
    "validate_points",
]
