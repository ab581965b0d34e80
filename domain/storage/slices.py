"""How long the next slice of background work should be, from how long the last one took.

The rollup runner's advances and DuckDB's dirty-bucket refreshes both work a slice at a
time on the store's single writer, so that ingest waits at most one slice: a slice that
took under a quarter of its budget doubles, one over its budget halves.
"""

from __future__ import annotations

__all__ = ["next_slice"]


def next_slice(length: int, took_seconds: float, budget_seconds: float, low: int, high: int) -> int:
    """The next slice's length (any unit), kept within [low, high]."""
    if took_seconds < budget_seconds / 4:
        return min(2 * length, high)
    if took_seconds > budget_seconds:
        return max(low, length // 2)
    return length
