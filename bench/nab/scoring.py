"""NAB scoring, written from its published description (Lavin and Ahmad, 2015; NAB wiki).

- Each file has labelled anomaly windows. The first `PROBATION` (15%) of a file, at most
  750 rows, is a learning period: detections there count for nothing.
- Only the first detection inside a window counts, credited `A_TP * sigma(y)` where `y` is
  its position relative to the window's right end in window lengths (-1 at the window's
  first row, close to 0 at its last) and `sigma(y) = 2 / (1 + exp(5y)) - 1` the scaled
  sigmoid: an early detection earns almost `A_TP`, a late one almost nothing.
- A detection outside every window costs `A_FP * -sigma(y)`, `y` being its distance past the
  end of the preceding window (in that window's lengths), so a detection just after a
  window costs little and one far from it (or before any window) costs the full `A_FP`.
- A window with no detection costs `A_FN`.
- Normalised: 100 * (S - S_null) / (S_perfect - S_null) over the files scored, where the
  null detector never fires and the perfect one fires on each window's first row.

Precision, recall and F1 count windows: a detected window is a TP, a detection outside
every window an FP, a window never detected an FN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

__all__ = [
    "PROBATION",
    "PROFILES",
    "REWARD_LOW_FN",
    "REWARD_LOW_FP",
    "STANDARD",
    "FileScore",
    "Layout",
    "Profile",
    "best_threshold",
    "layout",
    "normalized",
    "probation_rows",
    "scaled_sigmoid",
    "score_file",
]

PROBATION = 0.15
PROBATION_CAP_ROWS = 5000  # the 15% is taken of at most this many rows (750)

Flags = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Profile:
    """Weights of an application profile (NAB's `tpWeight`, `fpWeight`, `fnWeight`)."""

    name: str
    tp: float
    fp: float
    fn: float


STANDARD = Profile("standard", tp=1.0, fp=0.11, fn=1.0)
REWARD_LOW_FP = Profile("reward_low_fp", tp=1.0, fp=0.22, fn=1.0)
REWARD_LOW_FN = Profile("reward_low_fn", tp=1.0, fp=0.11, fn=2.0)
PROFILES = (STANDARD, REWARD_LOW_FP, REWARD_LOW_FN)


def scaled_sigmoid(y: float) -> float:
    """1 for early detections (y = -1 is ~0.987), 0 at a window's end, -1 far after it."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation_rows(n: int) -> int:
    return min(math.floor(PROBATION * n), math.floor(PROBATION * PROBATION_CAP_ROWS))


@dataclass(frozen=True, slots=True)
class Layout:
    """What scoring needs of a file, computed once: per-row credit and penalty."""

    n: int
    probation: int
    windows: tuple[tuple[int, int], ...]
    credit: Floats  # sigma(y) of a detection at this row if it is inside a window, else 0
    penalty: Floats  # cost of a detection at this row (x A_FP) if outside windows, else 0


def layout(n: int, windows: Sequence[tuple[int, int]]) -> Layout:
    """Windows are inclusive row ranges, sorted and disjoint, within `range(n)`."""
    ordered = tuple(sorted(windows))
    for (_, end), (start, _) in pairwise(ordered):
        if start <= end:
            raise ValueError(f"overlapping windows: {ordered}")
    probation = probation_rows(n)
    credit = np.zeros(n)
    penalty = np.ones(n)
    penalty[:probation] = 0.0
    previous: tuple[int, int] | None = None
    nxt = 0
    for i in range(probation, n):
        while nxt < len(ordered) and ordered[nxt][1] < i:
            previous = ordered[nxt]
            nxt += 1
        if nxt < len(ordered) and ordered[nxt][0] <= i:
            start, end = ordered[nxt]
            credit[i] = scaled_sigmoid((i - end - 1) / (end - start + 1))
            penalty[i] = 0.0
        elif previous is not None:
            start, end = previous
            penalty[i] = -scaled_sigmoid((i - end) / (end - start + 1))
    return Layout(n, probation, ordered, credit, penalty)


@dataclass(frozen=True, slots=True)
class FileScore:
    raw: float
    null: float  # a detector that never fires
    perfect: float  # one that fires on each window's first row after probation
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def normalized(self) -> float | None:
        return normalized([self])


def score_file(where: Layout, flags: Flags, profile: Profile) -> FileScore:
    """Score one file's per-row detections (`flags[i]` true: row i flagged anomalous)."""
    if flags.shape != (where.n,):
        raise ValueError(f"expected {where.n} flags, got {flags.shape}")
    raw = null = perfect = 0.0
    tp = fn = 0
    for start, end in where.windows:
        null -= profile.fn
        first_possible = max(start, where.probation)
        if first_possible <= end:
            perfect += profile.tp * float(where.credit[first_possible])
        else:
            perfect -= profile.fn
        hits = np.flatnonzero(flags[first_possible : end + 1])
        if hits.size:
            tp += 1
            raw += profile.tp * float(where.credit[first_possible + int(hits[0])])
        else:
            fn += 1
            raw -= profile.fn
    outside = flags & (where.penalty > 0.0)
    raw -= profile.fp * float(where.penalty[outside].sum())
    return FileScore(raw, null, perfect, tp, int(outside.sum()), fn)


def normalized(scores: Iterable[FileScore]) -> float | None:
    """0 for the null detector, 100 for the perfect one; None when there is no window."""
    raw = null = perfect = 0.0
    for score in scores:
        raw += score.raw
        null += score.null
        perfect += score.perfect
    if perfect == null:
        return None
    return 100.0 * (raw - null) / (perfect - null)


def best_threshold(
    layouts: Sequence[Layout], scores: Sequence[Floats], profile: Profile, candidates: int = 400
) -> tuple[float, float]:
    """NAB's optimisation step: the one threshold for the whole corpus (never per file) that
    maximises the normalised score of `score >= threshold`; returns (threshold, score)."""
    pooled = np.concatenate([s[w.probation :] for w, s in zip(layouts, scores, strict=True)])
    finite = pooled[np.isfinite(pooled)]
    grid = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, candidates)))
    grid = np.append(grid, np.inf)  # infinite scores (a zero scale) may stand alone
    best = (math.inf, 0.0)  # above every score: never fires, scores 0
    for threshold in grid:
        total = normalized(
            score_file(w, s >= threshold, profile) for w, s in zip(layouts, scores, strict=True)
        )
        if total is not None and total > best[1]:
            best = (float(threshold), total)
    return best
