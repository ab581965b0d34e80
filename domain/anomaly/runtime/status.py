"""A detector's status as the API shows it."""

from __future__ import annotations

from domain.anomaly.model import ModelState, Seasonality
from domain.anomaly.read_models import DetectorStatus
from domain.anomaly.runtime.slots import Slot

__all__ = ["status_of"]


def status_of(slot: Slot) -> DetectorStatus:
    if slot.warm is not None:
        return DetectorStatus(
            slot.series_id,
            dict(slot.tags),
            ModelState.LEARNING,
            Seasonality.NONE,
            0,
            0.0,
            "reading its history",
            0,
            0.0,
        )
    state, seasonality, points, seconds, learning = slot.detector.describe()
    return DetectorStatus(
        slot.series_id,
        dict(slot.tags),
        state,
        seasonality,
        points,
        seconds,
        None if learning is None else learning.reason,
        0 if learning is None else learning.points_needed,
        0.0 if learning is None else max(0.0, learning.seconds_needed),
    )
