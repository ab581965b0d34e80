"""Work: what a kind's reading step hands to the worker processes, and what comes back.

A `Task` is one unit (one series, mostly) computed in a worker process by the kind's
compute function; it pickles (grids and plain options). What comes back is a list of
result items: each a result's `to_dict()`, or a `skipped` item naming a series the method
refused and why. The items are stored as they are and read back as typed results.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.analytics.model import AnalyticsInput
from domain.analytics.results import AnalyticsKind
from domain.analytics.series import Grid
from domain.messagebus import Ask

__all__ = [
    "SKIPPED",
    "Compute",
    "Item",
    "Kind",
    "Prepare",
    "StoredItem",
    "Task",
    "Work",
    "skipped_item",
]

Item = dict[str, Any]
SKIPPED = "SKIPPED"  # the `kind` of an item that names a series the method refused


def skipped_item(tags: Mapping[str, str], reason: str) -> Item:
    return {"kind": SKIPPED, "tags": dict(tags), "reason": reason}


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as the JSON a store keeps, encoded in the worker process that computed it.

    A job's items only go to the store, so they cross to the server as text: a 1,000-series
    FORECAST job's 7.2M floats never become Python objects there (unpickling, encoding and
    then freeing them held the event loop ~0.6 s). `reason`: a skipped item's.
    """

    kind: str
    json: bytes
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """One unit of computation: the kind's compute function of `grids` with `options`."""

    kind: AnalyticsKind
    grids: tuple[Grid, ...]
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def points(self) -> int:
        return sum(len(g) for g in self.grids)


@dataclass(frozen=True, slots=True)
class Work:
    tasks: Sequence[Task]

    @property
    def points(self) -> int:
        return sum(t.points for t in self.tasks)


class Prepare(Protocol):
    """A kind's reading step: the data, through the bus, cut into tasks. Raises
    BadUserInput (as `TooLarge`) as soon as the data passes `max_points`."""

    def __call__(
        self, ask: Ask, project: str, spec: AnalyticsInput, *, max_points: int
    ) -> Awaitable[Work]: ...


Compute = Callable[[Task], list[Item]]


@dataclass(frozen=True, slots=True)
class Kind:
    """What a kind is made of: its reading step (here, async, on the event loop) and its
    compute function (a module-level function, run in a worker process)."""

    prepare: Prepare
    compute: Compute
