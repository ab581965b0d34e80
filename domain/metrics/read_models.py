"""Metric read models: what metric queries and the ingest command answer (the RFC's MetricDto)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.metrics.model import Metric

__all__ = ["IngestReceipt", "MetricDto", "SeriesData", "SeriesResult"]

MetricDto = Metric


@dataclass(frozen=True, slots=True)
class SeriesData:
    """One line of a chart: its tags (the group's, when grouped) and one value per bucket."""

    tags: dict[str, str]
    values: list[float | None]


@dataclass(frozen=True, slots=True)
class SeriesResult:
    """Dense arrays: `timestamps_us[i]` is the start of bucket i for every series.

    `resolution` names the coarsest tier that served part of it (domain/storage/tiers.py:
    "raw", "1m" or "1h"); the values are the same whichever served them."""

    timestamps_us: list[int]
    series: list[SeriesData]
    resolution: str = "raw"


@dataclass(frozen=True, slots=True)
class IngestReceipt:
    """The answer to an accepted batch; point ids are derived only when asked for."""

    accepted: int
    replayed: bool
    batch: Any = None  # the validated PointBatch

    def point_ids(self) -> list[str]:
        return self.batch.point_ids() if self.batch is not None else []
