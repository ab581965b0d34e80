"""What a pool's `observe` gives per point, and the tail model's p-values for arrays."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from domain.anomaly.model import Direction, ModelState, Scored, Seasonality
from domain.anomaly.tuning import TAIL_FLOOR, TAIL_FROM

__all__ = ["DIRECTIONS", "SEASONALITIES", "Scores", "band_sigmas", "p_values"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# Codes of the arrays, in the order of these tuples.
DIRECTIONS = (Direction.BOTH, Direction.UP, Direction.DOWN, Direction.NONE)
SEASONALITIES = (Seasonality.AUTO, Seasonality.NONE, Seasonality.DAILY, Seasonality.WEEKLY)
BOTH, UP, DOWN, NO_SIDE = range(4)
AUTO, NONE, DAILY, WEEKLY = range(4)

SQRT2 = math.sqrt(2.0)
# math.erfc element by element (~0.1 µs each): the scalar detector's own function, so the
# scores agree exactly, and numpy has no erfc of its own.
_erfc = np.frompyfunc(math.erfc, 1, 1)


class Scores(NamedTuple):
    """What `observe` found for each point it was given (arrays in the points' order)."""

    baseline: Floats
    lower: Floats
    upper: Floats
    score: Floats
    p_value: Floats
    deviations: Floats
    side: npt.NDArray[np.int8]  # index into DIRECTIONS: UP or DOWN when anomalous, else NONE
    seasonality: npt.NDArray[np.int8]  # index into SEASONALITIES
    learning: Bools
    anomalous: Bools
    onset: Bools
    age_points: Ints
    age_seconds: Floats

    def scored(self, i: int, timestamp_us: int, value: float) -> Scored:
        """Point i as the scalar detector reports it (never called for a LEARNING point:
        its Learning is not kept)."""
        seasonality = SEASONALITIES[self.seasonality[i]]
        return Scored(
            timestamp_us=timestamp_us,
            value=value,
            baseline=float(self.baseline[i]),
            lower=float(self.lower[i]),
            upper=float(self.upper[i]),
            score=float(self.score[i]),
            p_value=float(self.p_value[i]),
            deviations=float(self.deviations[i]),
            direction=DIRECTIONS[self.side[i]],
            seasonality=seasonality,
            state=ModelState.BASIC if seasonality is Seasonality.NONE else ModelState.SEASONAL,
            model_age_points=int(self.age_points[i]),
            model_age_seconds=float(self.age_seconds[i]),
            anomalous=bool(self.anomalous[i]),
            onset=bool(self.onset[i]),
        )


def p_values(magnitude: Floats, tail: Floats, excess: Floats, both: Bools) -> Floats:
    """tail.p_value for arrays: P(a deviation at least `magnitude` sigmas on this side),
    doubled where both sides count."""
    body = np.asarray(_erfc(magnitude / SQRT2), dtype=np.float64)
    body = np.where(both, body, 0.5 * body)
    with np.errstate(over="ignore"):
        found = np.maximum(tail, TAIL_FLOOR) * np.exp((TAIL_FROM - magnitude) / excess)
    found = np.minimum(np.where(both, found * 2.0, found), 1.0)
    return np.where(magnitude <= TAIL_FROM, body, found)


def band_sigmas(tail: Floats, excess: Floats, allowed: Floats) -> Floats:
    """tail.band_sigmas for arrays."""
    return TAIL_FROM + excess * np.log(np.maximum(tail, TAIL_FLOOR) / allowed)
