"""The tail model: how rare a deviation of z sigmas is for this series.

Peaks over threshold (extreme value theory): beyond TAIL_FROM sigmas, excesses are taken as
exponential, with the frequency of passing TAIL_FROM and the mean excess learned per series
and per side. Inside the body (|z| <= TAIL_FROM) a normal distribution's p-value is used.
"""

from __future__ import annotations

import math

from domain.anomaly.tuning import EXCESS_RATE, MAX_EXCESS, TAIL_FLOOR, TAIL_FROM, TAIL_RATE

__all__ = ["band_sigmas", "learn_tail", "p_value"]

SQRT2 = math.sqrt(2.0)


def p_value(magnitude: float, tail: float, excess: float, both: bool) -> float:
    """P(a deviation at least `magnitude` sigmas on this side), doubled when both count."""
    if magnitude <= TAIL_FROM:
        body = math.erfc(magnitude / SQRT2)
        return body if both else 0.5 * body
    found = max(tail, TAIL_FLOOR) * math.exp((TAIL_FROM - magnitude) / excess)
    if both:
        found *= 2.0
    return found if found < 1.0 else 1.0


def band_sigmas(tail: float, excess: float, allowed: float) -> float:
    """How many sigmas from the baseline a point reaches p-value `allowed` (on one side)."""
    return TAIL_FROM + excess * math.log(max(tail, TAIL_FLOOR) / allowed)


def learn_tail(
    z: float, up: float, down: float, excess_up: float, excess_down: float
) -> tuple[float, float, float, float]:
    """The tail frequencies and mean excesses of both sides after seeing `z`."""
    if z > TAIL_FROM:
        up += TAIL_RATE * (1.0 - up)
        down -= TAIL_RATE * down
        excess_up += EXCESS_RATE * (min(z - TAIL_FROM, MAX_EXCESS) - excess_up)
    elif z < -TAIL_FROM:
        down += TAIL_RATE * (1.0 - down)
        up -= TAIL_RATE * up
        excess_down += EXCESS_RATE * (min(-z - TAIL_FROM, MAX_EXCESS) - excess_down)
    else:
        up -= TAIL_RATE * up
        down -= TAIL_RATE * down
    return up, down, excess_up, excess_down
