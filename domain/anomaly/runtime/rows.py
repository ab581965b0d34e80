"""The bank's detectors as rows: their state in a DetectorPool, and beside it what the
bank keeps per detector (the open band minute, generations, flags) in arrays of the same
rows, so that a batch's outputs are numpy operations too."""

from __future__ import annotations

import numpy as np

from domain.anomaly.detector import AnomalyDetector
from domain.anomaly.model import DetectorConfig
from domain.anomaly.pool import DetectorPool
from domain.columns import grown

__all__ = ["DetectorRows"]

_COLUMNS = ("band_bucket", "band", "band_points", "learned", "saved", "warming", "feeds")


class DetectorRows:
    """Rows of detectors, each with its band minute being summed and its generations."""

    def __init__(self) -> None:
        self.pool = DetectorPool()
        self.band_bucket = np.zeros(0, dtype=np.int64)  # the minute being summed (-1: none)
        self.band = np.zeros((0, 3))  # sums of baseline, lower, upper over that minute
        self.band_points = np.zeros(0, dtype=np.int64)
        self.learned = np.zeros(0, dtype=np.int64)  # points learned: a generation
        self.saved = np.zeros(0, dtype=np.int64)  # the generation last written (-1: never)
        self.warming = np.zeros(0, dtype=np.bool_)  # not seeded yet: flags nothing
        self.feeds = np.zeros(0, dtype=np.bool_)  # feeds the derived series of rules
        self._fit()

    def take(self, config: DetectorConfig) -> int:
        """A row for a new detector, warming."""
        row = self.pool.take(AnomalyDetector(config))
        self._fit()
        self.band_bucket[row] = -1
        self.band[row] = 0.0
        self.band_points[row] = 0
        self.learned[row] = 0
        self.saved[row] = -1
        self.warming[row] = True
        self.feeds[row] = False
        return row

    def give_back(self, row: int) -> None:
        self.pool.give_back(row)

    def close_band(self, row: int) -> tuple[int, list[float], int] | None:
        """The open minute's (bucket, sums, points), now closed; None if it has none."""
        points = int(self.band_points[row])
        if not points:
            return None
        found = (int(self.band_bucket[row]), self.band[row].tolist(), points)
        self.band[row] = 0.0
        self.band_points[row] = 0
        return found

    def _fit(self) -> None:
        """Grow the bank's columns to the pool's rows."""
        size = self.pool.capacity
        if size != len(self.learned):
            for name in _COLUMNS:
                setattr(self, name, grown(getattr(self, name), size))
