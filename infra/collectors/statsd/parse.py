"""StatsD and DogStatsD lines: `name:value|type[|@rate][|#tag:value,...]`.

Types: `c` counter, `g` gauge (`+n`/`-n` change the current value), `ms` timer, `h` and `d`
histogram / distribution (aggregated like timers), `s` set. DogStatsD service checks
(`_sc|`) and events (`_e{`) are not metrics: they are skipped without counting as errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["KINDS", "Sample", "StatsdLineError", "parse_line"]

Kind = Literal["c", "g", "ms", "h", "d", "s"]
KINDS: Final[frozenset[str]] = frozenset({"c", "g", "ms", "h", "d", "s"})


class StatsdLineError(ValueError):
    """A line that is not StatsD; UDP has no answer, so it is counted and skipped."""


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    kind: Kind
    value: float  # sets: 0.0 (the member is in `member`)
    rate: float = 1.0
    tags: tuple[tuple[str, str], ...] = ()
    delta: bool = False  # a gauge given as +n / -n
    member: str = ""  # sets


def parse_line(line: str) -> Sample | None:
    """The sample of one line; None for service checks and events."""
    if line.startswith(("_sc|", "_e{")):
        return None
    head, sep, rest = line.partition("|")
    name, colon, raw = head.rpartition(":")
    if not sep or not colon or not name or not raw:
        raise StatsdLineError(f"not name:value|type: {line[:200]!r}")
    parts = rest.split("|")
    kind = parts[0]
    if kind not in KINDS:
        raise StatsdLineError(f"unknown metric type {kind!r} in {line[:200]!r}")
    rate = 1.0
    tags: list[tuple[str, str]] = []
    for extra in parts[1:]:
        if extra.startswith("@"):
            try:
                rate = float(extra[1:])
            except ValueError:
                raise StatsdLineError(f"bad sample rate {extra!r}") from None
            if not 0.0 < rate <= 1.0:
                raise StatsdLineError(f"sample rate {extra[1:]} is not in (0, 1]")
        elif extra.startswith("#"):
            for tag in extra[1:].split(","):
                key, _, value = tag.partition(":")
                if key:
                    tags.append((key, value or "true"))  # a bare DogStatsD tag is a flag
        # other DogStatsD extensions (`c:` container id, `T` timestamp) are ignored
    tags.sort()
    if kind == "s":
        return Sample(name, "s", 0.0, rate, tuple(tags), member=raw)
    delta = kind == "g" and raw[0] in "+-"
    try:
        number = float(raw)
    except ValueError:
        raise StatsdLineError(f"value {raw!r} is not a number") from None
    if not math.isfinite(number):
        raise StatsdLineError(f"value {raw!r} is not a finite number")
    return Sample(name, kind, number, rate, tuple(tags), delta=delta)  # type: ignore[arg-type]
