"""A detector's status as the API shows it."""

from __future__ import annotations

from domain.anomaly.model import ModelState, Seasonality
from domain.anomaly.read_models import DetectorStatus
from domain.anomaly.runtime.slots import Slot

__all__ = ["status_of"]


def status_of(slot: Slot) -> DetectorStatus:
    last = slot.last
    learning = None if last is None else last.learning
    if slot.warm is not None or last is None:
        return DetectorStatus(
            slot.series_id,
            dict(slot.tags),
            ModelState.LEARNING,
            _seasonality(slot),
            0,
            0.0,
            "reading its history" if slot.warm is not None else "no point scored yet",
            0,
            0.0,
        )
    return DetectorStatus(
        slot.series_id,
        dict(slot.tags),
        last.state,
        last.seasonality,
        last.model_age_points,
        last.model_age_seconds,
        None if learning is None else learning.reason,
        0 if learning is None else learning.points_needed,
        0.0 if learning is None else max(0.0, learning.seconds_needed),
    )


def _seasonality(slot: Slot) -> Seasonality:
    return Seasonality.NONE if slot.model[1] is Seasonality.AUTO else slot.model[1]
