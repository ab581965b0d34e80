"""Reading a dashboard document (JSON) field by field, collecting every problem with its path.

A document comes from GraphQL inputs, from an imported JSON file or from the store; all
three go through the same readers, so each gets the same checks and the same messages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from domain.errors import BadUserInput

__all__ = ["Problems", "read_flag", "read_list", "read_mapping", "read_number", "read_text"]


class Problems:
    """Every problem of a document, each prefixed with where it is (`widgets[2].title`)."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}" if path else message)

    def raise_if_any(self, what: str = "invalid dashboard") -> None:
        if self.items:
            shown = self.items[:20]
            more = f" (and {len(self.items) - 20} more)" if len(self.items) > 20 else ""
            raise BadUserInput(f"{what}: " + "; ".join(shown) + more, errors=list(self.items))


def read_mapping(
    raw: Any, path: str, problems: Problems, allowed: frozenset[str]
) -> Mapping[str, Any]:
    """An object whose keys are all among `allowed`; {} (with a problem) otherwise."""
    if not isinstance(raw, Mapping):
        problems.add(path, "must be an object")
        return {}
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        problems.add(path, f"unknown field(s) {', '.join(unknown)}")
    return raw


def read_text(
    raw: Any,
    path: str,
    problems: Problems,
    *,
    max_length: int,
    required: bool = False,
    default: str = "",
) -> str:
    if raw is None:
        if required:
            problems.add(path, "is required")
        return default
    if not isinstance(raw, str):
        problems.add(path, "must be text")
        return default
    if required and not raw.strip():
        problems.add(path, "must not be empty")
    if len(raw) > max_length:
        problems.add(path, f"holds at most {max_length} characters")
    return raw


def read_number(
    raw: Any,
    path: str,
    problems: Problems,
    *,
    minimum: float,
    maximum: float,
    integer: bool = False,
) -> float | None:
    """A finite number within [minimum, maximum] (a whole one if `integer`), or None."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        problems.add(path, "must be a number")
        return None
    if integer and raw != int(raw):
        problems.add(path, "must be a whole number")
        return None
    if not minimum <= raw <= maximum:
        problems.add(path, f"must be between {_plain(minimum)} and {_plain(maximum)}")
        return None
    return int(raw) if integer else float(raw)


def read_list(raw: Any, path: str, problems: Problems, *, max_items: int) -> Sequence[Any]:
    if raw is None:
        return []
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        problems.add(path, "must be a list")
        return []
    if len(raw) > max_items:
        problems.add(path, f"holds at most {max_items} entries")
        return list(raw[:max_items])
    return raw


def read_flag(raw: Any, path: str, problems: Problems) -> bool:
    """true or false; absent (null) is false."""
    if raw is None:
        return False
    if not isinstance(raw, bool):
        problems.add(path, "must be true or false")
        return False
    return raw


def _plain(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)
