"""Where cost keeps what it needs: each project's pricing."""

from __future__ import annotations

from typing import Protocol

from domain.cost.model import Pricing

__all__ = ["PricingStore"]


class PricingStore(Protocol):
    async def get_pricing(self, project: str) -> Pricing | None: ...

    async def save_pricing(self, pricing: Pricing, *, expected_version: int) -> bool:
        """Store `pricing` (its `version` is `expected_version + 1`) if the stored one is at
        `expected_version` (0: none stored); False, writing nothing, otherwise."""
        ...

    async def pricings(self) -> list[Pricing]:
        """Every stored pricing, by project."""
        ...
