"""Read models of alerting (the RFC's AlertDto): an alert with where its instances stand."""

from __future__ import annotations

from dataclasses import dataclass

from domain.alerting.alert import Alert
from domain.alerting.model import AlertSeverity, AlertState
from domain.alerting.preview import PreviewResult
from domain.alerting.state import InstanceState

__all__ = ["AlertDto", "AlertPreviewDto"]

# The state an alert shows is the most pressing of its instances' states.
_PRESSING = (
    AlertState.FIRING,
    AlertState.ACKNOWLEDGED,
    AlertState.PENDING,
    AlertState.ERROR,
    AlertState.NODATA,
    AlertState.RESOLVED,
)
_ACTIVE = (AlertState.PENDING, AlertState.FIRING, AlertState.ACKNOWLEDGED)


@dataclass(frozen=True, slots=True)
class AlertDto:
    """An alert and its instances (sorted by key)."""

    alert: Alert
    instances: tuple[InstanceState, ...] = ()

    @property
    def state(self) -> AlertState:
        """The most pressing instance state: FIRING, ACKNOWLEDGED, PENDING, ERROR, NODATA,
        RESOLVED, else OK (also with no instance at all)."""
        present = {i.state for i in self.instances}
        return next((s for s in _PRESSING if s in present), AlertState.OK)

    @property
    def severity(self) -> AlertSeverity:
        """The highest severity among pending, firing and acknowledged instances; the
        rule's severity while none is."""
        active = [i.severity for i in self.instances if i.state in _ACTIVE and i.severity]
        return max(active, key=lambda s: s.rank) if active else self.alert.rule.severity

    @property
    def resolved_at_us(self) -> int | None:
        """When the alert last resolved, while RESOLVED is its state."""
        if self.state is not AlertState.RESOLVED:
            return None
        return max(
            (i.since_us for i in self.instances if i.state is AlertState.RESOLVED and i.since_us),
            default=None,
        )


@dataclass(frozen=True, slots=True)
class AlertPreviewDto:
    result: PreviewResult
    points: int  # how many stored points were replayed
