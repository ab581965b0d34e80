"""Which widgets of a dashboard an event on the bus changes (for `dashboardUpdated`)."""

from __future__ import annotations

from collections.abc import Mapping

from domain.alerting.events import AlertEvent
from domain.dashboards.dashboard import Dashboard
from domain.dashboards.events import DashboardEvent
from domain.dashboards.variables import bind
from domain.dashboards.widgets import WidgetKind
from domain.events import Event
from domain.matchers import TagMatcher, matches_all
from domain.metrics.events import MetricCollectedEvent

__all__ = ["LiveView"]


class LiveView:
    """A dashboard as one subscriber sees it (its variable values), answering which of its
    widgets a bus message touches. Matchers are bound once, not per message."""

    def __init__(self, dashboard: Dashboard, values: Mapping[str, str]) -> None:
        self.dashboard = dashboard
        self._queries: list[tuple[str, str, tuple[TagMatcher, ...]]] = [
            (widget.id, query.metric, bind(query, values))
            for widget in dashboard.spec.widgets
            for query in widget.queries
        ]
        self._alert_widgets = frozenset(
            w.id for w in dashboard.spec.widgets if w.kind is WidgetKind.ALERT_LIST
        )

    def touched(self, event: Event) -> frozenset[str]:
        """The ids of the widgets whose data the event may change."""
        if isinstance(event, MetricCollectedEvent):
            series = event.series
            return frozenset(
                widget_id
                for widget_id, metric, matchers in self._queries
                if any(s["name"] == metric and matches_all(matchers, s["tags"]) for s in series)
            )
        if isinstance(event, AlertEvent):
            return self._alert_widgets
        return frozenset()

    def concerns(self, event: Event) -> bool:
        """Is the event a change of this dashboard (a new version, or its deletion)?"""
        return isinstance(event, DashboardEvent) and event.dashboard_id == self.dashboard.id
