"""Anomaly commands: opting a metric in to anomaly detection (or out)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.anomaly.model import Direction, Seasonality
from domain.commands import Command
from domain.matchers import TagMatcher

__all__ = ["ConfigureAnomalyDetectionCommand"]


@dataclass(frozen=True, slots=True)
class ConfigureAnomalyDetectionCommand(Command):
    """Detectors on every series of `metric` selected by `matchers`; configuring the same
    metric and matchers again changes them, `enabled=False` stops them."""

    project: str
    metric: str
    matchers: tuple[TagMatcher, ...] = ()
    sensitivity: float = 50.0
    direction: Direction = Direction.BOTH
    seasonality: Seasonality = Seasonality.AUTO
    enabled: bool = True
    actor: str = ""
