"""Cost command handlers: a project's pricing, checked, stored by compare-and-set on its
version and noted for the audit trail."""

from __future__ import annotations

from typing import Any

from domain.changes import note_changes, note_target
from domain.cost.commands import ConfigurePricingCommand
from domain.cost.model import Pricing
from domain.cost.ports import PricingStore
from domain.cost.read_models import PricingDto
from domain.errors import Conflict
from domain.events import Event
from domain.ports import Clock

__all__ = ["configure_pricing"]


async def configure_pricing(
    command: ConfigurePricingCommand,
    events: list[Event],
    *,
    pricing_store: PricingStore,
    clock: Clock,
) -> PricingDto:
    current = await pricing_store.get_pricing(command.project) or Pricing(command.project)
    what = f"the pricing of {command.project!r}"
    if command.expected_version is not None and command.expected_version != current.version:
        raise Conflict(what, current.version)
    wanted = Pricing(
        project=command.project,
        prices=command.prices,
        metrics=command.metrics,
        owner_tag=command.owner_tag,
        node_tag=command.node_tag,
        version=current.version + 1,
        updated_by=command.actor,
        updated_us=clock.now_us(),
    )
    wanted.validate()
    if not await pricing_store.save_pricing(wanted, expected_version=current.version):
        stored = await pricing_store.get_pricing(command.project)
        raise Conflict(what, stored.version if stored is not None else 0)
    note_target(project=wanted.project, pricing_version=str(wanted.version))
    note_changes(_audited(current), _audited(wanted))
    return PricingDto(wanted)


def _audited(pricing: Pricing) -> dict[str, Any]:
    return {
        "prices": [p.to_dict() for p in pricing.prices],
        "metrics": [m.to_dict() for m in pricing.metrics],
        "owner_tag": pricing.owner_tag,
        "node_tag": pricing.node_tag,
    }
