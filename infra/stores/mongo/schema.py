"""Collections and indexes (docs/decisions/0004-mongodb-layout.md), created idempotently."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, OperationFailure

from domain.errors import Unavailable
from infra.stores.mongo.notifications import NOTIFICATION_INDEXES
from infra.stores.mongo.options import MongoOptions

__all__ = [
    "ALERTS",
    "ALERT_INSTANCES",
    "ALERT_TRANSITIONS",
    "AUDIT",
    "COUNTERS",
    "DASHBOARDS",
    "DASHBOARD_VERSIONS",
    "KEYS",
    "LEASES",
    "POINTS",
    "SERIES",
    "Database",
    "ensure_schema",
]

Database = AsyncDatabase[dict[str, Any]]

# Points: {t: date (ms), m: {p: project, n: name, s: series id, tags: {...}}, us: int64
# microseconds (exact), v: double, b: ObjectId of the batch}. A time-series collection.
POINTS = "points"
# The catalogue: {p, s: series id, n: name, tags, type, category, source, first_seen}.
SERIES = "series"
# Idempotency keys: {_id, p, k, n: first count, b: batch id, done, at, lo, hi}.
KEYS = "ingest_keys"
# The audit log: {seq, actor, action, project, outcome, ts: date, us, request_id, detail}.
AUDIT = "audit"
# {_id: "audit" or "alert_transitions", n: the last number handed out}
COUNTERS = "counters"
# Alerting (infra/stores/mongo/alerts.py). An alert: {_id: id, **Alert.to_dict()}.
ALERTS = "alerts"
# An instance's state: {_id: JSON text of [alert id, *key], alert_id, state: to_dict()}.
ALERT_INSTANCES = "alert_instances"
# Append-only: {alert_id, at_us, seq: from counters, **Transition.to_dict()}.
ALERT_TRANSITIONS = "alert_transitions"
# {_id: lease name, owner, expires_at: microseconds}.
LEASES = "leases"
# Dashboards (infra/stores/mongo/dashboards.py): {_id: JSON text of [project, id], project,
# id, created_at_us, version, doc: Dashboard.to_dict()}; each saved version likewise, its
# _id [project, id, version].
DASHBOARDS = "dashboards"
DASHBOARD_VERSIONS = "dashboard_versions"

_NAMESPACE_EXISTS = 48
_INDEX_OPTIONS_CONFLICT = 85
_KEY_TTL = "at_ttl"

_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    # Every read names a project and series ids, most a time range too.
    POINTS: [([("m.p", ASCENDING), ("m.s", ASCENDING), ("t", ASCENDING)], {})],
    SERIES: [([("p", ASCENDING), ("s", ASCENDING)], {"unique": True})],
    KEYS: [([("p", ASCENDING), ("k", ASCENDING)], {"unique": True})],
    AUDIT: [
        ([("seq", DESCENDING)], {"unique": True}),
        ([("project", ASCENDING), ("seq", DESCENDING)], {}),
        ([("project", ASCENDING), ("actor", ASCENDING), ("seq", DESCENDING)], {}),
        ([("project", ASCENDING), ("action", ASCENDING), ("seq", DESCENDING)], {}),
    ],
    ALERTS: [
        ([("project", ASCENDING), ("created_at_us", ASCENDING), ("_id", ASCENDING)], {}),
        ([("enabled", ASCENDING), ("created_at_us", ASCENDING), ("_id", ASCENDING)], {}),
    ],
    ALERT_INSTANCES: [([("alert_id", ASCENDING)], {})],
    DASHBOARDS: [
        ([("project", ASCENDING), ("created_at_us", ASCENDING), ("id", ASCENDING)], {}),
    ],
    DASHBOARD_VERSIONS: [
        ([("project", ASCENDING), ("id", ASCENDING), ("version", DESCENDING)], {}),
    ],
    ALERT_TRANSITIONS: [
        ([("alert_id", ASCENDING), ("at_us", DESCENDING), ("seq", DESCENDING)], {}),
    ],
    **NOTIFICATION_INDEXES,  # channels, silences, deliveries
}


async def ensure_schema(db: Database, options: MongoOptions) -> None:
    """Create what is missing; bring the retention of what exists to `options`.

    Several Vigil instances may start at once: "already exists" is success.
    """
    infos = await (await db.list_collections()).to_list()
    existing = {info["name"]: info for info in infos}
    if POINTS not in existing:
        try:
            await db.create_collection(
                POINTS,
                timeseries={"timeField": "t", "metaField": "m", "granularity": options.granularity},
                expireAfterSeconds=options.retention_seconds,
            )
        except CollectionInvalid:
            pass
        except OperationFailure as exc:
            if exc.code != _NAMESPACE_EXISTS:
                raise
        infos = await (await db.list_collections(filter={"name": POINTS})).to_list()
        existing |= {info["name"]: info for info in infos}
    settings = existing.get(POINTS, {}).get("options", {})
    if "timeseries" not in settings:
        raise Unavailable(f"MongoDB: the collection {POINTS!r} exists but is not time-series")
    if settings.get("expireAfterSeconds") != options.retention_seconds:
        await db.command({"collMod": POINTS, "expireAfterSeconds": options.retention_seconds})
    for name, indexes in _INDEXES.items():
        for keys, extra in indexes:
            await db[name].create_index(keys, **extra)
    await _key_ttl(db, options.retention_seconds)


async def _key_ttl(db: Database, seconds: int) -> None:
    """Keys older than the retention expire: the points they protect are gone too."""
    try:
        await db[KEYS].create_index("at", name=_KEY_TTL, expireAfterSeconds=seconds)
    except OperationFailure as exc:
        if exc.code != _INDEX_OPTIONS_CONFLICT:
            raise
        index = {"name": _KEY_TTL, "expireAfterSeconds": seconds}
        await db.command({"collMod": KEYS, "index": index})
