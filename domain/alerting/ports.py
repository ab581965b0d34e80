"""What alerting needs: a store (alerts, instance states, history), the runtime, and the
sources of the derived series that ANOMALY and FORECAST rules evaluate."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from domain.alerting.alert import Alert
from domain.alerting.model import AnomalySettings, InstanceKey, Transition
from domain.alerting.state import InstanceState
from domain.events import Event
from domain.metrics.events import MetricCollectedEvent

__all__ = [
    "AlertRuntime",
    "AlertStore",
    "ForecastInput",
    "Forecaster",
    "HistoryScorer",
    "Picker",
    "Placed",
    "PointScorer",
    "Scoring",
]

Point = tuple[Mapping[str, str], int, float]


class Placed(Protocol):
    """Anything the engine runs in one process: an alert, an anomaly detection."""

    @property
    def placement(self) -> str: ...


# Which of the placed things a process takes (by shard, with several processes).
Picker = Callable[[Placed], bool]


@dataclass(frozen=True, slots=True)
class Scoring:
    """What scoring a batch gave: batches of derived series for ANOMALY rules (each named by
    its rules' `input_name`), and the events to publish (anomalies)."""

    derived: list[MetricCollectedEvent] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


class PointScorer(Protocol):
    """Detectors riding the alert engine: fed the points the engine hears, they give the
    derived series of the ANOMALY rules the engine evaluates (`cover`), and run the
    detections of the placements the engine holds (`adopt`, `drop`)."""

    def wants(self, project: str) -> bool:
        """Whether any detector runs on `project` (the ingest hot path asks first)."""
        ...

    def observe(self, event: MetricCollectedEvent) -> Scoring: ...

    def cover(self, alert: Alert) -> None:
        """Score the series an enabled ANOMALY rule reads (again, if it changed)."""
        ...

    def uncover(self, alert_id: str) -> None: ...

    @property
    def projects(self) -> frozenset[str]: ...

    async def adopt(self, wanted: Picker) -> int:
        """Run the enabled detections `wanted` picks that are not running yet."""
        ...

    async def drop(self, wanted: Picker, *, save: bool) -> int:
        """Stop the detections and detectors `wanted` picks (states written with `save`)."""
        ...

    async def flush(self, now_us: int, *, everything: bool) -> None:
        """Write what is due: anomalies and finished band minutes; every detector state
        with `everything` (a checkpoint)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ForecastInput:
    """One group's history on a regular grid (None: no point in a bucket), and what a
    FORECAST rule asks of it: the forecast's extreme within `horizon` buckets at `level`
    (the quantile path), its highest value if `upper`, else its lowest."""

    values: Sequence[float | None]
    start_us: int
    step_us: int
    horizon: int
    level: float
    upper: bool


class Forecaster(Protocol):
    """The analytics forecast model, fitted away from the event loop."""

    async def extremes(self, inputs: Sequence[ForecastInput]) -> list[float | None]:
        """Each input's extreme; None where the history cannot be forecast (too short, or
        nothing observed); NaN where the fit failed."""
        ...


class HistoryScorer(Protocol):
    """An ANOMALY rule's input replayed over stored points (its backtest)."""

    def __call__(
        self, points: Sequence[Point], settings: AnomalySettings, *, emit_from_us: int
    ) -> list[Point]: ...


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
