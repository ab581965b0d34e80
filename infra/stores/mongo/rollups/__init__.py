"""Rollup tiers on MongoDB (decision 0004, "Rollup tiers"): the RollupStore, the pipeline
that fills a tier, and the dirty marks the append path writes."""

from infra.stores.mongo.rollups.marks import RollupMarks
from infra.stores.mongo.rollups.store import MongoRollupStore

__all__ = ["MongoRollupStore", "RollupMarks"]
