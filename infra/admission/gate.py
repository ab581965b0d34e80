"""Admission of commands on the message bus: a caller's command in a project is charged to
the project's operations bucket; storing points also to the caller's and the project's
points buckets, then counted as pending until its commit, which it waits its fair turn
for. Commands without a caller (self-monitoring, StatsD's flush) are Vigil's own."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from domain.commands import Command
from domain.messagebus import Caller
from domain.metrics.commands import CreateMetricsCommand
from infra.admission.buckets import RateLimits
from infra.admission.fair import FairTurns
from infra.admission.inflight import InflightBudget

__all__ = ["AdmissionGate", "points_in"]


class AdmissionGate:
    """The bus's CommandGate (domain/messagebus.py)."""

    def __init__(self, rates: RateLimits, inflight: InflightBudget, turns: FairTurns) -> None:
        self.rates = rates
        self.inflight = inflight
        self.turns = turns

    @contextlib.asynccontextmanager
    async def admit(self, command: Command, caller: Caller) -> AsyncIterator[None]:
        project = getattr(command, "project", None)
        if not isinstance(command, CreateMetricsCommand):
            if caller.actor and isinstance(project, str) and project:
                self.rates.ingest(caller.actor, project, 0)
            yield
            return
        points = points_in(command.points)
        if caller.actor:
            self.rates.ingest(caller.actor, command.project, points)
        with self.inflight.points_pending(points):
            async with self.turns.turn(command.project):
                yield


def points_in(points: Any) -> int:
    """Points of a batch: a `PointBatch` list (a point, or a series entry with arrays of
    values, per element) or a collector's columns."""
    if not isinstance(points, list):
        return len(points)
    count = 0
    for entry in points:
        values = entry.get("values") if type(entry) is dict else None
        count += len(values) if isinstance(values, list) else 1
    return count
