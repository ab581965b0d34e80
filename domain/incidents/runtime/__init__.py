"""The incidents runtime: alert events grouped as they are published."""

from domain.incidents.runtime.tracker import IncidentTracker

__all__ = ["IncidentTracker"]
