"""Cost commands: a project's price table and metric mapping."""

from __future__ import annotations

from dataclasses import dataclass

from domain.commands import Command
from domain.cost.model import CostMetric, Price

__all__ = ["ConfigurePricingCommand"]


@dataclass(frozen=True, slots=True)
class ConfigurePricingCommand(Command):
    """Replace the project's prices and mapping; with `expected_version`, refused with
    CONFLICT if they changed since (0: none set yet)."""

    project: str
    prices: tuple[Price, ...]
    metrics: tuple[CostMetric, ...] = ()
    owner_tag: str = "owner"
    node_tag: str = "node"
    expected_version: int | None = None
    actor: str = ""
