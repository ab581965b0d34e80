"""A scored point in words: "93.0 is 6.1 deviations above the usual 40.0-55.0 for
Tuesdays at 14:00"."""

from __future__ import annotations

from datetime import datetime, tzinfo

from domain.anomaly.model import ModelState, Scored, Seasonality

__all__ = ["explain", "format_value"]


def format_value(value: float) -> str:
    """Short and readable: 93.0, 0.0123, 1,250,000."""
    magnitude = abs(value)
    if magnitude >= 100_000:
        return f"{value:,.0f}"
    if magnitude >= 10 or magnitude == 0:
        return f"{value:.1f}"
    return f"{value:.3g}"


def explain(scored: Scored, tz: tzinfo) -> str:
    """Words for `scored`; times of day and weekdays are told in `tz`."""
    value = format_value(scored.value)
    if scored.state is ModelState.LEARNING:
        learning = scored.learning
        needed = f" (about {learning.points_needed} more points)" if learning else ""
        return f"{value}: no band yet, the detector is still learning this series{needed}"
    usual = f"the usual {format_value(scored.lower)}-{format_value(scored.upper)}"
    when = _when(scored, tz)
    if scored.value > scored.upper:
        where = f"{abs(scored.deviations):.1f} deviations above"
    elif scored.value < scored.lower:
        where = f"{abs(scored.deviations):.1f} deviations below"
    else:
        return f"{value} is within {usual}{when}"
    return f"{value} is {where} {usual}{when}"


def _when(scored: Scored, tz: tzinfo) -> str:
    if scored.seasonality is Seasonality.NONE:
        return ""
    moment = datetime.fromtimestamp(scored.timestamp_us / 1_000_000, tz)
    if scored.seasonality is Seasonality.DAILY:
        slot = moment.replace(minute=0 if moment.minute < 30 else 30)
        return f" at {slot:%H:%M}"
    return f" for {moment:%A}s at {moment:%H}:00"
