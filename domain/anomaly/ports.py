"""What anomaly detection needs: a store (detections, detector states, anomalies, bands) and
the runtime that holds the detectors."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

from domain.anomaly.detection import AnomalyDetection
from domain.anomaly.read_models import DetectorStatus
from domain.anomaly.records import AnomalyRecord, BandRow

__all__ = ["AnomalyRuntime", "AnomalyStore"]


class AnomalyStore(Protocol):
    """Scoped by project wherever a caller names an id: a foreign id answers as a missing one."""

    async def save_detection(
        self, detection: AnomalyDetection, *, expected_version: int | None = None
    ) -> bool:
        """Insert or replace; with `expected_version`, only over that stored version."""
        ...

    async def get_detection(self, project: str, detection_id: str) -> AnomalyDetection | None: ...

    async def list_detections(self, project: str) -> list[AnomalyDetection]:
        """Oldest first."""
        ...

    async def enabled_detections(self) -> list[AnomalyDetection]: ...

    async def save_detector_states(self, states: Mapping[str, tuple[str, dict[str, Any]]]) -> None:
        """Replace the stored state of each detector key: (its placement, its state)."""
        ...

    async def load_detector_states(self, placements: Collection[str]) -> dict[str, dict[str, Any]]:
        """Every stored detector state of these placements, by detector key."""
        ...

    async def add_anomalies(self, records: list[AnomalyRecord]) -> None:
        """Record anomalies; a point recorded again (same series and time) is kept once."""
        ...

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
        """Newest first (time, then series id, both descending) in [start, end), strictly
        before `before` = (time, series id) when given."""
        ...

    async def add_band_rows(self, rows: list[BandRow]) -> None:
        """Record band rows; a row recorded again (series and minute) replaces the first."""
        ...

    async def band_rows(
        self, project: str, metric: str, *, start_us: int, end_us: int
    ) -> list[BandRow]:
        """The rows of [start, end), oldest first."""
        ...

    async def prune(self, before_us: int) -> None:
        """Forget anomalies and band rows older than `before_us` (the retention)."""
        ...


class AnomalyRuntime(Protocol):
    """The running detectors, as commands change them: this process's, or the cluster's that
    hands a change to the process running the metric's detectors."""

    async def reload_detection(self, detection: AnomalyDetection) -> None:
        """Run this version of an enabled detection from now on (new or changed)."""
        ...

    async def remove_detection(self, detection: AnomalyDetection) -> None: ...

    def detectors(self, detection_id: str) -> list[DetectorStatus] | None:
        """The live detectors of a detection, or None if they run in another process."""
        ...
