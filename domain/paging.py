"""Paging: one page type and one bound on page sizes for every list Vigil answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import BadUserInput

__all__ = ["MAX_PAGE", "Page", "check_first", "cursor_number", "cursor_timestamp"]

MAX_PAGE = 1_000

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Items in order, and whether more follow the last one (ask again with its cursor)."""

    items: list[T]
    has_next_page: bool


def check_first(first: int, *, name: str = "first") -> int:
    """`first` (or a `limit`) if it is a page size Vigil serves, else BadUserInput."""
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"{name} must be between 1 and {MAX_PAGE}")
    return first


# What a stored number may be: a 64-bit integer, as every store keeps it.
_INT64 = range(-(2**63), 2**63)


def cursor_number(text: str) -> int:
    """One number of a cursor's text; ValueError (which the caller turns into its
    BadUserInput) when it is not an integer a store could hold, so a forged cursor never
    reaches a query."""
    value = int(text)
    if value not in _INT64:
        raise ValueError(f"{text!r} is out of range")
    return value


# The instants a cursor may name: the years 1 to 9999, in microseconds (what Python's
# datetime and both stores represent).
_INSTANTS_US = range(-62_135_596_800_000_000, 253_402_300_800_000_000)


def cursor_timestamp(text: str) -> int:
    """A cursor's timestamp in microseconds; ValueError outside the years 1 to 9999."""
    value = int(text)
    if value not in _INSTANTS_US:
        raise ValueError(f"{text!r} is out of range")
    return value
