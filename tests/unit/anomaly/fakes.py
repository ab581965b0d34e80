"""An in-memory AnomalyStore following the port's contract (domain/anomaly/ports.py)."""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from typing import Any

from domain.anomaly.detection import AnomalyDetection
from domain.anomaly.records import AnomalyRecord, BandRow

__all__ = ["FakeAnomalyStore"]


class FakeAnomalyStore:
    def __init__(self) -> None:
        self.detections: dict[str, AnomalyDetection] = {}
        self.states: dict[str, tuple[str, dict[str, Any]]] = {}
        self.records: list[AnomalyRecord] = []
        self.bands: list[BandRow] = []
        self.state_writes = 0

    async def save_detection(
        self, detection: AnomalyDetection, *, expected_version: int | None = None
    ) -> bool:
        stored = self.detections.get(detection.id)
        if stored is not None and stored.project != detection.project:
            return False
        if expected_version is not None and (stored is None or stored.version != expected_version):
            return False
        self.detections[detection.id] = detection
        return True

    async def get_detection(self, project: str, detection_id: str) -> AnomalyDetection | None:
        found = self.detections.get(detection_id)
        return found if found is not None and found.project == project else None

    async def list_detections(self, project: str) -> list[AnomalyDetection]:
        return [d for d in self.detections.values() if d.project == project]

    async def enabled_detections(self) -> list[AnomalyDetection]:
        return [d for d in self.detections.values() if d.enabled]

    async def save_detector_states(self, states: Mapping[str, tuple[str, dict[str, Any]]]) -> None:
        self.state_writes += 1
        self.states.update(copy.deepcopy(dict(states)))

    async def load_detector_states(self, placements: Collection[str]) -> dict[str, dict[str, Any]]:
        return {k: copy.deepcopy(s) for k, (p, s) in self.states.items() if p in placements}

    async def add_anomalies(self, records: list[AnomalyRecord]) -> None:
        self.records += records

    async def list_anomalies(
        self,
        project: str,
        metric: str,
        *,
        start_us: int,
        end_us: int,
        min_score: float,
        before: tuple[int, int] | None,
        first: int,
    ) -> list[AnomalyRecord]:
        found = sorted(
            (
                r
                for r in self.records
                if r.project == project
                and r.metric == metric
                and start_us <= r.timestamp_us < end_us
                and r.score >= min_score
                and (before is None or (r.timestamp_us, r.series_id) < before)
            ),
            key=lambda r: (r.timestamp_us, r.series_id),
            reverse=True,
        )
        return found[:first]

    async def add_band_rows(self, rows: list[BandRow]) -> None:
        self.bands += rows

    async def band_rows(
        self, project: str, metric: str, *, start_us: int, end_us: int
    ) -> list[BandRow]:
        return [
            r
            for r in self.bands
            if r.project == project and r.metric == metric and start_us <= r.bucket_us < end_us
        ]

    async def prune(self, before_us: int) -> None:
        self.records = [r for r in self.records if r.timestamp_us >= before_us]
        self.bands = [r for r in self.bands if r.bucket_us >= before_us]
