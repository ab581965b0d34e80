"""The bucket grid of every chart: buckets start at multiples of the step since the epoch.

One grid and one limit for the chart query, dashboards, alert previews and both stores,
so a range is cut the same way wherever it is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import BadUserInput

__all__ = ["MAX_BUCKETS", "BucketGrid", "bucket_count"]

MAX_BUCKETS = 11_000  # a chart wider than this many pixels is not one we serve in one query


def bucket_count(start_us: int, end_us: int, step_us: int) -> int:
    """How many buckets cover [start, end) when they start at multiples of the step."""
    first = start_us - start_us % step_us
    return -(-(end_us - first) // step_us)


@dataclass(frozen=True, slots=True)
class BucketGrid:
    """[start, end) cut into buckets of `step_us`; no step is one bucket over the range."""

    start_us: int
    end_us: int
    step_us: int | None = None

    @classmethod
    def checked(cls, start_us: int, end_us: int, step_us: int | None) -> BucketGrid:
        """The grid, or BadUserInput for a step that is not positive or too many buckets."""
        if step_us is not None:
            if step_us <= 0:
                raise BadUserInput("step must be positive")
            if end_us > start_us and bucket_count(start_us, end_us, step_us) > MAX_BUCKETS:
                raise BadUserInput(f"range / step gives more than {MAX_BUCKETS} buckets")
        return cls(start_us, end_us, step_us)

    @property
    def first_us(self) -> int:
        """The start of the first bucket (the range's start rounded down to the step)."""
        step = self.step_us
        return self.start_us if step is None else self.start_us - self.start_us % step

    def timestamps(self) -> list[int]:
        """The start of every bucket; empty for an empty range."""
        if self.end_us <= self.start_us:
            return []
        if self.step_us is None:
            return [self.start_us]
        return list(range(self.first_us, self.end_us, self.step_us))
