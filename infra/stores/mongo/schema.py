"""The current MongoDB layout (docs/decisions/0004-mongodb-layout.md): collections and indexes.

A new database gets it from `create_layout`; an older one is brought here by the steps of
migrations.py instead. Changing an index below takes a new step there and a higher
`LAYOUT_VERSION` (decision 0012); the contract suite checks that a migrated database and
a new one have the same indexes. The retention is a setting, not a layout (retention.py).
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, OperationFailure

from domain.storage.tiers import ROLLUP_TIERS
from infra.stores.mongo.analytics import ANALYTICS_INDEXES
from infra.stores.mongo.anomalies import ANOMALY_INDEXES
from infra.stores.mongo.compliance import COMPLIANCE_INDEXES
from infra.stores.mongo.incidents import INCIDENT_INDEXES
from infra.stores.mongo.notifications import NOTIFICATION_INDEXES
from infra.stores.mongo.options import MongoOptions
from infra.stores.mongo.report_slots import REPORT_SLOT_INDEXES
from infra.stores.mongo.reports import REPORT_INDEXES

__all__ = [
    "ALERTS",
    "ALERT_INSTANCES",
    "ALERT_TRANSITIONS",
    "AUDIT",
    "COUNTERS",
    "DASHBOARDS",
    "DASHBOARD_VERSIONS",
    "DESCRIPTIONS",
    "INDEXES",
    "KEYS",
    "LEASES",
    "META",
    "POINTS",
    "ROLLUP_DIRTY",
    "ROLLUP_STATE",
    "SERIES",
    "TTL_INDEXES",
    "VOIDS",
    "Database",
    "create_layout",
    "create_ttl_index",
    "rollup_collection",
]

Database = AsyncDatabase[dict[str, Any]]

# Points: {t: date (ms), m: {p: project, n: name, s: series id, tags: {...}}, us: int64
# microseconds (exact), v: double, b: ObjectId of the batch, w: int64 write stamp}. A
# time-series collection; points are never deleted from it but by its expiry
# (batches.py: readers keep the last write of a (series, timestamp), and skip void batches).
POINTS = "points"
# The catalogue: {p, s: series id, n: name, tags, type, category, source, first_seen}.
SERIES = "series"
# Idempotency keys: {_id, p, k, n: first count, b: batch id, done, at, lo, hi: the batch's
# first and last microsecond, abandoned: [{b, lo, hi}] batches of writers taken over}.
KEYS = "ingest_keys"
# Batches whose points readers leave out: {_id: batch id, p, lo, hi, at} (batches.py).
VOIDS = "void_batches"
# The audit log: {seq, actor, action, project, outcome, ts: date, us, request_id, detail,
# role, target, changes, client, chain_index, prev_hash, hash} (infra/stores/mongo/audit.py).
AUDIT = "audit"
# {_id: "audit" or "alert_transitions", n: the last number handed out}, and each project's
# change document {_id: "catalogue/<project>", s, v} (catalogue.py).
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
# What senders say about metric names: {p, n: name, type, help, unit, at}
# (infra/stores/mongo/descriptions.py).
DESCRIPTIONS = "metric_descriptions"
# Rollup tiers (infra/stores/mongo/rollups/, decision 0004 "Rollup tiers"): one ordinary
# collection per tier, `rollup_1m` and `rollup_1h` (`$merge` cannot write to a time-series
# collection), a row per series per bucket: {p, s, n: metric name, b: bucket start (us),
# count, sum, min, max, first, first_us, last, last_us, inc, keys, counts, run}.
# Watermarks: {_id: tier name, w: watermark (us), to: the watermark an unfinished advance
# is moving to}.
ROLLUP_STATE = "rollup_state"
# Dirty buckets: {t: tier name, p, s, n, b, g: a counter bumped by every mark}.
ROLLUP_DIRTY = "rollup_dirty"


def rollup_collection(tier: str) -> str:
    """The collection of a rollup tier ("1m" -> "rollup_1m")."""
    return f"rollup_{tier}"


# {_id: "layout", version, lock: {owner, version, until} while migrating, history: [...]}
# (infra/stores/mongo/migrations.py), and {_id: "retention", seconds, by, at} (retention.py).
META = "meta"

_NAMESPACE_EXISTS = 48
_INDEX_OPTIONS_CONFLICT = 85
# Collections whose documents expire with the points they describe: the TTL index on
# `at` of each, named `at_ttl`, follows the retention (retention.py).
TTL_INDEXES = (KEYS, VOIDS)
TTL_INDEX = "at_ttl"

INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    # Every read names a project and series ids, most a time range too.
    POINTS: [([("m.p", ASCENDING), ("m.s", ASCENDING), ("t", ASCENDING)], {})],
    SERIES: [
        ([("p", ASCENDING), ("s", ASCENDING)], {"unique": True}),
        # Series other instances stored lately (catalogue.py).
        ([("p", ASCENDING), ("first_seen", ASCENDING)], {}),
    ],
    KEYS: [([("p", ASCENDING), ("k", ASCENDING)], {"unique": True})],
    VOIDS: [([("p", ASCENDING)], {})],
    AUDIT: [
        ([("seq", DESCENDING)], {"unique": True}),
        ([("project", ASCENDING), ("seq", DESCENDING)], {}),
        ([("project", ASCENDING), ("actor", ASCENDING), ("seq", DESCENDING)], {}),
        ([("project", ASCENDING), ("action", ASCENDING), ("seq", DESCENDING)], {}),
        # Each project's chain: one entry per index, never a fork.
        ([("project", ASCENDING), ("chain_index", DESCENDING)], {"unique": True}),
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
    DESCRIPTIONS: [([("p", ASCENDING), ("n", ASCENDING)], {"unique": True})],
    **ANALYTICS_INDEXES,  # analytics jobs and their result items
    **COMPLIANCE_INDEXES,  # checkpoints, access seen, reviews, revocations, runs
    **ANOMALY_INDEXES,  # detections, detector states, anomalies, bands (layout 3)
    **INCIDENT_INDEXES,  # incidents (layout 3)
    **REPORT_INDEXES,  # reports, their runs and files (layout 13)
    **REPORT_SLOT_INDEXES,  # report schedules' claimed slots (layout 14)
    **{
        rollup_collection(tier): [
            # One row per (project, series, bucket): what `$merge ... on` needs, and reads.
            ([("p", ASCENDING), ("s", ASCENDING), ("b", ASCENDING)], {"unique": True}),
            # An advance's range over every project; retention's by project and age.
            ([("b", ASCENDING)], {}),
            ([("p", ASCENDING), ("b", ASCENDING)], {}),
        ]
        for tier in (t.name for t in ROLLUP_TIERS)
    },
    ROLLUP_DIRTY: [
        (
            [("t", ASCENDING), ("p", ASCENDING), ("s", ASCENDING), ("b", ASCENDING)],
            {"unique": True},
        ),
    ],
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
    for name in TTL_INDEXES:
        await create_ttl_index(db, name, options.retention_seconds)


async def create_ttl_index(db: Database, name: str, seconds: int) -> None:
    """The expiry of a collection that follows the retention (an existing one is left as
    it is: retention.py changes it)."""
    try:
        await db[name].create_index("at", name=TTL_INDEX, expireAfterSeconds=seconds)
    except OperationFailure as exc:
        if exc.code != _INDEX_OPTIONS_CONFLICT:
            raise
