"""Series interning: a wire key (raw label bytes, a tuple of strings...) is turned into a
DecodedSeries once per process, not once per point or per request."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import repeat
from typing import Final

import numpy as np
import numpy.typing as npt

from infra.collectors import scan
from infra.collectors.decoded import DecodedSeries

__all__ = ["DEFAULT_MAX_SERIES", "SeriesInterner"]

DEFAULT_MAX_SERIES: Final = 200_000


class SeriesInterner:
    """Bounded map of wire keys to series; when full it starts again empty.

    Not thread-safe: one per decoder, used from one thread (the event loop or one worker).
    """

    def __init__(self, *, max_entries: int = DEFAULT_MAX_SERIES) -> None:
        self._ids: dict[Hashable, int] = {}
        self._series: list[DecodedSeries] = []
        self._max = max_entries

    def __len__(self) -> int:
        return len(self._ids)

    def clear(self) -> None:
        self._ids.clear()
        self._series.clear()

    def index(
        self, keys: Sequence[Hashable], make: Callable[[Hashable], DecodedSeries]
    ) -> tuple[list[DecodedSeries], npt.NDArray[np.int64]]:
        """The request's distinct series, and for each key the position of its series.

        `make` builds the series of a key not seen before; it may raise DecodeError.
        """
        if len(self._ids) + len(keys) > self._max:
            self.clear()  # cheaper than LRU bookkeeping on the hot path
        ids = self._ids
        gids = _looked_up(ids, keys)
        unseen = np.flatnonzero(gids < 0)
        for pos in unseen.tolist():
            key = keys[pos]
            known = ids.get(key)  # an earlier position may have just added it
            if known is None:
                series = make(key)  # may raise: record nothing before it returns
                known = ids[key] = len(self._series)
                self._series.append(series)
            gids[pos] = known
        unique, inverse = _distinct(gids)
        return list(map(self._series.__getitem__, unique.tolist())), inverse


def _looked_up(ids: dict[Hashable, int], keys: Sequence[Hashable]) -> npt.NDArray[np.int64]:
    """Each key's id, -1 for a key not interned yet."""
    if scan.compiled is not None and type(keys) is list:
        return scan.compiled.lookup(ids, keys)  # 5,000 fresh keys: 0.10 against 0.20 ms
    return np.fromiter(map(ids.get, keys, repeat(-1)), np.int64, len(keys))


def _distinct(gids: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """np.unique(gids, return_inverse=True). A request's series were usually interned
    together, so their ids fill a narrow range: marking them in a table over that range
    costs a fraction of unique's sort (5,000 points of 1,000 series: ~10x less)."""
    if not len(gids):
        return gids, gids
    low = int(gids.min())
    span = int(gids.max()) - low + 1
    if span > 4 * len(gids):
        unique, inverse = np.unique(gids, return_inverse=True)
        return unique, inverse.astype(np.int64, copy=False)
    offsets = gids - low
    present = np.zeros(span, np.bool_)
    present[offsets] = True
    unique = np.flatnonzero(present)
    position = np.empty(span, np.int64)
    position[unique] = np.arange(len(unique))
    return unique + low, position[offsets]
