"""numpy columns that grow: the anomaly pool's rows and the alert lane's slots."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["grown"]


def grown(column: npt.NDArray[Any], capacity: int, fill: float = 0) -> npt.NDArray[Any]:
    """`column` (rows first) with room for `capacity` rows, the new ones `fill`."""
    bigger = np.full((capacity, *column.shape[1:]), fill, dtype=column.dtype)
    bigger[: len(column)] = column
    return bigger
