"""The units a price is given in: a quantity, optionally per period.

A quantity is `core`; `byte`, `KB`...`TB` (powers of 1000), `KiB`...`TiB` (of 1024); or
`unit`, `thousand`, `million`. A period after a dash (`second`, `minute`, `hour`, `day`,
`month`) makes the resource *held* (a level x time); a month is 730 hours (a 365-day year
/ 12, as clouds bill).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.errors import BadUserInput

__all__ = ["MONTH_SECONDS", "Unit", "parse_unit"]

MONTH_SECONDS = 730 * 3600

_BYTES = {
    "byte": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
}
_QUANTITIES: Mapping[str, tuple[str, int]] = {
    "core": ("cores", 1),
    **{name: ("bytes", size) for name, size in _BYTES.items()},
    "unit": ("units", 1),
    "thousand": ("units", 1_000),
    "million": ("units", 1_000_000),
}
_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400, "month": MONTH_SECONDS}


@dataclass(frozen=True, slots=True)
class Unit:
    """A price's unit: `size` of a quantity (`dimension`), per `period_seconds` if held."""

    text: str
    dimension: str  # cores, bytes or units
    size: int
    period_seconds: int | None

    @property
    def held(self) -> bool:
        return self.period_seconds is not None


def parse_unit(text: str) -> Unit:
    """A unit such as core-hour, GiB-month, GB or thousand; BadUserInput listing the choices."""
    quantity, _, period = text.strip().partition("-")
    found = _QUANTITIES.get(quantity)
    if found is None or (period and period not in _PERIODS):
        raise BadUserInput(
            f"unit {text!r} is not a quantity ({', '.join(_QUANTITIES)}) optionally per"
            f" period ({', '.join(_PERIODS)}), such as core-hour, GiB-month or GB"
        )
    return Unit(text.strip(), found[0], found[1], _PERIODS[period] if period else None)
