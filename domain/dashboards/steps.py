"""Chart steps: no more points than the widget has pixels, on steps a person reads easily."""

from __future__ import annotations

from domain.buckets import bucket_count
from domain.dashboards.widgets import GRID_COLUMNS, SECOND_US

__all__ = ["auto_step", "widget_pixels"]

_MINUTE, _HOUR, _DAY = 60 * SECOND_US, 3_600 * SECOND_US, 86_400 * SECOND_US
NICE_STEPS_US = (
    *(s * SECOND_US for s in (1, 2, 5, 10, 15, 30)),
    *(m * _MINUTE for m in (1, 2, 5, 10, 15, 30)),
    *(h * _HOUR for h in (1, 2, 3, 6, 12)),
    *(d * _DAY for d in (1, 2, 7)),
)


def auto_step(start_us: int, end_us: int, pixels: int) -> int:
    """The smallest nice step giving at most `pixels` buckets over [start, end)."""
    pixels = max(pixels, 1)
    for step in NICE_STEPS_US:
        if bucket_count(start_us, end_us, step) <= pixels:
            return step
    step = max(_DAY, (end_us - start_us) // pixels // _DAY * _DAY)
    while bucket_count(start_us, end_us, step) > pixels:
        step += _DAY
    return step


def widget_pixels(columns: int, width_px: int) -> int:
    """A widget's width in pixels on a dashboard `width_px` wide."""
    return max(1, columns * width_px // GRID_COLUMNS)
