"""Cost pricing on MongoDB: one document per project `{_id: project, version, doc}`,
replaced by compare-and-set on `version` (domain/cost)."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from domain.cost.model import Pricing
from infra.stores.mongo.errors import unavailable
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.schema import Database

__all__ = ["COST_PRICING", "MongoPricingStore"]

COST_PRICING = "cost_pricing"


class MongoPricingStore:
    """The PricingStore port (domain.cost.ports)."""

    def __init__(self, db: Database, options: MongoOptions) -> None:
        concern = WriteConcern(w=options.write_concern_w, j=options.write_concern_j)
        self._pricing = db.get_collection(COST_PRICING, write_concern=concern)

    async def get_pricing(self, project: str) -> Pricing | None:
        with unavailable("reading a pricing"):
            doc = await self._pricing.find_one({"_id": project})
        return None if doc is None else Pricing.from_dict(doc["doc"])

    async def save_pricing(self, pricing: Pricing, *, expected_version: int) -> bool:
        doc = {"version": pricing.version, "doc": pricing.to_dict()}
        with unavailable("saving a pricing"):
            if expected_version == 0:
                try:
                    await self._pricing.insert_one({"_id": pricing.project, **doc})
                except DuplicateKeyError:
                    return False
                return True
            result = await self._pricing.replace_one(
                {"_id": pricing.project, "version": expected_version}, doc
            )
        return bool(result.matched_count)

    async def pricings(self) -> list[Pricing]:
        with unavailable("listing pricings"):
            docs = await self._pricing.find({}).sort("_id", ASCENDING).to_list()
        return [Pricing.from_dict(d["doc"]) for d in docs]
