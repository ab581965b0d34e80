"""The production store: points in a MongoDB time-series collection, via AsyncMongoClient."""

from infra.stores.mongo.audit import MongoAuditStore
from infra.stores.mongo.database import MongoDatabase
from infra.stores.mongo.metrics import MongoMetricStore
from infra.stores.mongo.options import MongoOptions, ServerFeatures

__all__ = [
    "MongoAuditStore",
    "MongoDatabase",
    "MongoMetricStore",
    "MongoOptions",
    "ServerFeatures",
]
