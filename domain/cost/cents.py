"""Money rounded to the cent only at the end, so that the parts add up to the whole.

`apportion` is the largest-remainder method (Hamilton's): every exact amount is rounded
down to the cent, then the cents still missing from the rounded total go one each to the
amounts that lost the most in rounding down (ties: the first in order). Rounding each
amount on its own instead could leave rows + idle a cent or two off the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

__all__ = ["CENT", "apportion", "to_cents"]

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    """Rounded to the cent, half to even (banker's rounding: no drift up over many sums)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def apportion(exact: Sequence[Decimal], total: Decimal) -> list[Decimal]:
    """Cent amounts, one per `exact`, that add up to `total` (a whole number of cents),
    each within a cent of its exact amount when `total` is the rounded sum."""
    floors = [a.quantize(CENT, rounding=ROUND_FLOOR) for a in exact]
    missing = int((total - sum(floors, Decimal(0))) / CENT)
    # Largest remainder first; a negative `missing` (a target below the floors) takes
    # cents back from the smallest remainders.
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    if missing < 0:
        order.reverse()
    step = CENT if missing > 0 else -CENT
    i = 0
    while missing and order:
        floors[order[i % len(order)]] += step
        missing += -1 if missing > 0 else 1
        i += 1
    return floors
