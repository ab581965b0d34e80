"""Durations: Prometheus-style text ("30s", "5m", "1h") or a number of seconds, one parser
for every window, period, step and timing Vigil reads."""

from __future__ import annotations

import math
import re

from domain.errors import BadUserInput

__all__ = ["MAX_DURATION_US", "MAX_STEP_US", "parse_duration", "parse_step", "seconds_of"]

_TEXT = re.compile(r"(\d+)(ms|s|m|h|d)")
_UNIT_US = {"ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
MAX_DURATION_US = 366 * 86_400_000_000
MAX_STEP_US = 10 * MAX_DURATION_US  # ten years: a chart's coarsest bucket


def parse_step(text: str) -> int:
    """A Prometheus-style duration ("30s", "5m", "1h") in microseconds; zero is refused."""
    found = _TEXT.fullmatch(text.strip())
    if found is None or int(found[1]) == 0:
        raise BadUserInput(f"step {text!r} is not a duration such as 30s, 5m or 1h")
    step_us = int(found[1]) * _UNIT_US[found[2]]
    if step_us > MAX_STEP_US:
        raise BadUserInput(f"step {text!r} is longer than {MAX_STEP_US // 86_400_000_000}d")
    return step_us


def parse_duration(value: object, name: str) -> int:
    """A duration given as seconds (a number) or as text such as "90s" or "5m", in
    microseconds; zero is allowed, negative or longer than a year is not."""
    if isinstance(value, str):
        found = _TEXT.fullmatch(value.strip())
        if found is None:
            raise BadUserInput(f"{name} {value!r} is not a duration such as 30s, 5m or 1h")
        micros = int(found[1]) * _UNIT_US[found[2]]
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        if abs(value) > MAX_DURATION_US:  # 1e308 seconds: no integer of microseconds holds it
            raise BadUserInput(f"{name} must be between 0 and 366 days")
        micros = round(value * 1_000_000)
    else:
        raise BadUserInput(f"{name} must be a number of seconds or text such as 5m")
    if not 0 <= micros <= MAX_DURATION_US:
        raise BadUserInput(f"{name} must be between 0 and 366 days")
    return micros


def seconds_of(micros: int | None) -> float | None:
    return None if micros is None else micros / 1_000_000
