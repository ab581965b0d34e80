"""The detectors of one metric: who wants them (owners), one detector per series and model
(a slot), and which slots each series feeds (memoised until the owners change)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.alerting.model import AnomalySettings
from domain.anomaly.detector import AnomalyDetector
from domain.anomaly.model import (
    MAX_SCORE,
    DetectorConfig,
    Direction,
    Seasonality,
    placement_of,
)
from domain.anomaly.runtime.rows import DetectorRows
from domain.matchers import TagMatcher, matches_all

__all__ = ["MAX_WARM_BUFFER", "CoveredRule", "MetricSlots", "Owner", "Slot", "slot_key"]

MAX_WARM_BUFFER = 10_000  # live points kept per detector while it is seeded from history

Model = tuple[Direction, Seasonality]


def slot_key(project: str, series_id: int, model: Model) -> str:
    """A detector's name in the store: its series and the model's settings."""
    return f"{project}\x1f{series_id}\x1f{model[0].value}\x1f{model[1].value}"


class _Rule(Protocol):
    @property
    def metric(self) -> str: ...

    @property
    def matchers(self) -> tuple[TagMatcher, ...]: ...

    @property
    def anomaly(self) -> AnomalySettings | None: ...

    @property
    def input_name(self) -> str: ...


class CoveredRule(Protocol):
    """What the bank reads of an ANOMALY alert."""

    @property
    def id(self) -> str: ...

    @property
    def project(self) -> str: ...

    @property
    def rule(self) -> _Rule: ...


@dataclass(frozen=True, slots=True)
class Owner:
    """Who wants the detectors of some series: a detection (`family` None) or an ANOMALY
    rule, whose derived series `family` gets 1.0 for each point scoring `threshold`."""

    id: str
    matchers: tuple[TagMatcher, ...]
    model: Model
    threshold: float  # the score from which a point is anomalous for this owner
    family: str | None = None


@dataclass(slots=True, eq=False)
class Slot:
    """One detector: a series under one model, and what its scores feed. The detector's
    state is row `row` of the bank's rows (scored a batch at a time)."""

    key: str
    placement: str  # where its state is stored (model.placement_of its metric)
    series_id: int
    tags: Mapping[str, str]
    model: Model
    rows: DetectorRows
    row: int
    families: list[tuple[str, float]] = field(default_factory=list)  # (input name, score)
    warm: list[tuple[int, float]] | None = None  # live points while seeding (None: ready)

    @property
    def detector(self) -> AnomalyDetector:
        """A copy of the detector as it stands (its state, its description)."""
        return self.rows.pool.export(self.row)

    def configure(self, threshold: float) -> None:
        """Flag anomalies from `threshold` (the most sensitive owner's): the detector keeps
        what it learned, only its sensitivity changes."""
        config = self.rows.pool.config(self.row)
        sensitivity = MAX_SCORE - threshold
        if config.sensitivity != sensitivity:
            changed = DetectorConfig(sensitivity, config.direction, config.seasonality)
            self.rows.pool.configure(self.row, changed)


class MetricSlots:
    """The owners and slots of one (project, metric)."""

    __slots__ = ("metric", "owners", "placement", "project", "routes", "rows", "slots")

    def __init__(self, project: str, metric: str, rows: DetectorRows) -> None:
        self.rows = rows
        self.project = project
        self.metric = metric
        self.placement = placement_of(project, metric)
        self.owners: dict[str, Owner] = {}
        self.slots: dict[str, Slot] = {}
        self.routes: dict[int, list[Slot]] = {}  # series id -> its slots

    def set_owner(self, owner: Owner) -> list[Slot]:
        """Add or replace an owner; the slots no owner wants any more (taken out)."""
        if self.owners.get(owner.id) == owner:
            return []
        replaced = owner.id in self.owners
        self.owners[owner.id] = owner
        self.routes.clear()
        return self._orphans() if replaced else []

    def remove_owner(self, owner_id: str) -> list[Slot]:
        """The slots no owner wants any more (taken out)."""
        if self.owners.pop(owner_id, None) is None:
            return []
        self.routes.clear()
        return self._orphans()

    def _orphans(self) -> list[Slot]:
        owners = self.owners.values()
        orphans = [
            s
            for s in self.slots.values()
            if not any(o.model == s.model and matches_all(o.matchers, s.tags) for o in owners)
        ]
        for slot in orphans:
            del self.slots[slot.key]
        return orphans

    def route(self, series: Mapping[str, Any], created: list[Slot]) -> list[Slot]:
        """The slots of a series, made for the models its owners want (new ones are added to
        `created`, to be warmed); each slot's families and sensitivity brought up to date."""
        tags: Mapping[str, str] = series["tags"]
        sid = int(series["id"])
        wanted: dict[Model, list[Owner]] = {}
        for owner in self.owners.values():
            if matches_all(owner.matchers, tags):
                wanted.setdefault(owner.model, []).append(owner)
        found: list[Slot] = []
        for model, owners in wanted.items():
            key = slot_key(self.project, sid, model)
            threshold = min(o.threshold for o in owners)
            slot = self.slots.get(key)
            if slot is None:
                config = DetectorConfig(MAX_SCORE - threshold, model[0], model[1])
                row = self.rows.take(config)
                slot = Slot(key, self.placement, sid, dict(tags), model, self.rows, row, warm=[])
                self.slots[key] = slot
                created.append(slot)
            else:
                slot.configure(threshold)
            slot.families = sorted({(o.family, o.threshold) for o in owners if o.family})
            self.rows.feeds[slot.row] = bool(slot.families)
            found.append(slot)
        self.routes[sid] = found
        return found
