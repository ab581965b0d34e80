"""The current MongoDB layout (docs/decisions/0004-mongodb-layout.md): collections and indexes.

A new database gets it from `create_layout`; an older one is brought here by the steps of
migrations.py instead. Changing an index below takes a new step there and a higher
`LAYOUT_VERSION` (decision 0012); the contract suite checks that a migrated database and
a new one have the same indexes. `apply_settings` runs at every start: the retention is a
setting, not a layout.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, OperationFailure

from domain.errors import Unavailable
from infra.stores.mongo.anomalies import ANOMALY_INDEXES
from infra.stores.mongo.incidents import INCIDENT_INDEXES
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
    "INDEXES",
    "KEYS",
    "LEASES",
    "META",
    "POINTS",
    "SERIES",
    "Database",
    "apply_settings",
    "create_layout",
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
# {_id: "layout", version, lock: {owner, version, until} while migrating, history: [...]}
# (infra/stores/mongo/migrations.py).
META = "meta"

_NAMESPACE_EXISTS = 48
_INDEX_OPTIONS_CONFLICT = 85
_KEY_TTL = "at_ttl"

INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
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
    **ANOMALY_INDEXES,  # detections, detector states, anomalies, bands (layout 3)
    **INCIDENT_INDEXES,  # incidents (layout 3)
}


async def create_layout(db: Database, options: MongoOptions) -> None:
    """Create every collection and index of the current layout that is missing.

    Several Vigil instances may run it at once: "already exists" is success.
    """
    if not await (await db.list_collections(filter={"name": POINTS})).to_list():
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
    for name, indexes in INDEXES.items():
        for keys, extra in indexes:
            await db[name].create_index(keys, **extra)
    await _key_ttl(db, options.retention_seconds)


async def apply_settings(db: Database, options: MongoOptions) -> None:
    """Bring the retention of points and idempotency keys to `options` (every start)."""
    infos = await (await db.list_collections(filter={"name": POINTS})).to_list()
    settings = infos[0].get("options", {}) if infos else {}
    if "timeseries" not in settings:
        raise Unavailable(f"MongoDB: the collection {POINTS!r} is missing or not time-series")
    if settings.get("expireAfterSeconds") != options.retention_seconds:
        await db.command({"collMod": POINTS, "expireAfterSeconds": options.retention_seconds})
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
