"""Detectors scored together: the state of many AnomalyDetectors, one row each, in arrays.

On the ingest hot path a batch carries one point for each of hundreds of series. Scored
one by one, `AnomalyDetector.observe` costs ~7-12 µs of Python per point; here each step
of the model is one numpy operation over the batch's rows (decision 0039). `observe` does
the detector's arithmetic in the detector's order, so a row and an AnomalyDetector fed the
same points keep the same state to the last bit (tests/unit/anomaly/test_pool.py); only
the score's exp and log may differ from the math module's in the last place.
AnomalyDetector stays the reference and the format: rows are loaded from and exported to
its state.
"""

from domain.anomaly.pool.detectors import DetectorPool
from domain.anomaly.pool.scores import Scores

__all__ = ["DetectorPool", "Scores"]
