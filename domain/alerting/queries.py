"""Alert queries: reads of alerts, their history, the templates, and rule previews."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.alerting.model import AlertSeverity, AlertState
from domain.alerting.rule import AlertRule
from domain.queries import Query

__all__ = [
    "GetAlertHistoryQuery",
    "GetAlertNoiseQuery",
    "GetAlertsByIdQuery",
    "GetAlertsListQuery",
    "ListAlertTemplatesQuery",
    "PreviewAlertQuery",
]


@dataclass(frozen=True, slots=True)
class GetAlertsByIdQuery(Query):
    project: str
    id: str


@dataclass(frozen=True, slots=True)
class GetAlertsListQuery(Query):
    """The project's alerts, oldest first, filtered by their current state and severity
    (AlertDto.state, AlertDto.severity); `after` is the id of the last alert seen."""

    project: str
    state: AlertState | None = None
    severity: AlertSeverity | None = None
    first: int = 100
    after: str | None = None


@dataclass(frozen=True, slots=True)
class GetAlertHistoryQuery(Query):
    """The alert's transitions, newest first; `before_us` pages back in time."""

    project: str
    alert_id: str
    first: int = 100
    before_us: int | None = None


@dataclass(frozen=True, slots=True)
class ListAlertTemplatesQuery(Query):
    pass


@dataclass(frozen=True, slots=True)
class PreviewAlertQuery(Query):
    """Replay the rule over the stored points of [start, end), ticking every `step_us`."""

    project: str
    rule: AlertRule | Mapping[str, Any]
    start_us: int
    end_us: int
    step_us: int


@dataclass(frozen=True, slots=True)
class GetAlertNoiseQuery(Query):
    """The project's alerts, noisiest first, judged on their last `days` of history, with
    suggestions backtested on that history for the first `first` of them."""

    project: str
    first: int = 10
    days: int = 7
