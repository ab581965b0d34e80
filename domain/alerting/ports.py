"""What alerting needs: a store (alerts, instance states, history) and the runtime."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from domain.alerting.alert import Alert
from domain.alerting.model import InstanceKey, Transition
from domain.alerting.state import InstanceState

__all__ = ["AlertRuntime", "AlertStore"]


class AlertStore(Protocol):
    """Every method is scoped by project where a caller could name a foreign id: a foreign
    id answers exactly as a missing one."""

    async def save_alert(self, alert: Alert, *, expected_version: int | None = None) -> bool:
        """Insert, or replace the stored alert of that id. With `expected_version`, replace
        only if the stored version is that one; answer False (nothing written) otherwise."""
        ...

    async def get_alert(self, project: str, alert_id: str) -> Alert | None: ...

    async def list_alerts(
        self, project: str, *, after: str | None = None, first: int | None = None
    ) -> list[Alert]:
        """The project's alerts, oldest first (by creation time, then id): at most `first`
        of them (None: all), after the alert whose id is `after` (none if it is not one of
        the project's)."""
        ...

    async def enabled_alerts(self) -> list[Alert]:
        """Every enabled alert of every project: what an evaluator loads at start."""
        ...

    async def delete_alert(self, project: str, alert_id: str) -> bool:
        """Remove the alert, its instances and its history; False if there was none."""
        ...

    async def save_instances(self, alert_id: str, states: list[InstanceState]) -> None:
        """Replace the stored states of these instances (by `state.key`); others stay."""
        ...

    async def load_instances(self, alert_id: str) -> list[InstanceState]: ...

    async def append_transitions(self, alert_id: str, transitions: list[Transition]) -> None:
        """Record transitions; they are never changed afterwards."""
        ...

    async def list_transitions(
        self, project: str, alert_id: str, *, first: int = 100, before_us: int | None = None
    ) -> list[Transition]:
        """Newest first; `before_us` pages back in time."""
        ...

    async def save_changes(
        self, changes: Mapping[str, tuple[list[InstanceState], list[Transition]]]
    ) -> None:
        """For each alert id: `save_instances` of its states and `append_transitions` of
        its transitions, all in one write (one transaction where the store has them), so
        an evaluator writes what every rule changed since the last write at once."""
        ...


class AlertRuntime(Protocol):
    """The running evaluators, as commands may change them: the engine of this process, or
    the cluster that hands a move to the process evaluating the alert.

    `key` None means every instance the move applies to. The engine that owns the alert
    carries out each move, records what it changed (instance states and transitions) and
    publishes the resulting events before the call returns; the caller publishes nothing.
    """

    async def reload(self, alert: Alert) -> None:
        """Evaluate this version of an enabled alert from now on (new or changed)."""
        ...

    async def remove(self, alert: Alert, *, by: str, comment: str) -> list[Transition]:
        """Stop evaluating the alert; its active instances are resolved by `by`."""
        ...

    async def acknowledge(
        self,
        alert: Alert,
        key: InstanceKey | None,
        *,
        by: str,
        comment: str,
        until_us: int | None,
    ) -> list[Transition]: ...

    async def resolve(
        self, alert: Alert, key: InstanceKey | None, *, by: str, comment: str
    ) -> list[Transition]: ...

    def instances(self, alert_id: str) -> list[InstanceState] | None:
        """The live instance states, or None if this process does not evaluate the alert."""
        ...
