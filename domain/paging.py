"""Paging: one page type and one bound on page sizes for every list Vigil answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import BadUserInput

__all__ = ["MAX_PAGE", "Page", "check_first"]

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
