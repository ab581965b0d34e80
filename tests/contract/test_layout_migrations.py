"""Layout versions: an older store is migrated at open, a newer one is refused, on every store.

Each test builds a store at layout 1 directly (old_layouts.py: the first release's tables
and indexes, and data as it stored them), then opens it with the current code.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest

from domain.alerting.ports import AlertStore
from domain.analytics.ports import AnalyticsJobStore
from domain.anomaly.detection import AnomalyDetection
from domain.anomaly.model import DetectorConfig
from domain.anomaly.ports import AnomalyStore
from domain.anomaly.records import BandRow
from domain.compliance.model import Revocation, RevocationKind
from domain.compliance.ports import ComplianceStore
from domain.dashboards import Dashboard, DashboardStore, read_spec
from domain.errors import Unavailable
from domain.incidents.model import Incident, IncidentState
from domain.incidents.ports import IncidentStore
from domain.metrics.model import MetricDescription, MetricType, decode_point_id
from domain.metrics.queries import GetMetricsListQuery
from domain.notifications import Channel, ChannelKind, NotificationStore
from domain.system.model import GENESIS, entry_hash
from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry
from infra.stores.duckdb import migrations as duckdb_migrations
from infra.stores.mongo import migrations as mongo_migrations
from infra.stores.mongo.options import MongoOptions
from tests.contract.analytics_data import sample_job
from tests.contract.conftest import StoreDatabase, StoreFactory
from tests.contract.data import NOW_US
from tests.contract.old_layouts import (
    OLD_ALERT,
    OLD_AUDIT,
    OLD_BATCH,
    OLD_KEY,
    STALE_VALUE,
    Layout,
    OldMongo,
    OldStore,
    far_future_us,
    old_store,
)

CURRENT = 14  # the layout this build writes; both stores agree on it
NEWER = (
    f"the store was written by a newer Vigil (layout {CURRENT + 1}, this build knows"
    f" {CURRENT}); upgrade Vigil"
)


@pytest.fixture
async def old(store_factory: StoreFactory, tmp_path: Path) -> AsyncIterator[OldStore]:
    store = old_store(store_factory, tmp_path)
    try:
        yield store
    finally:
        await store.aclose()


def test_both_stores_list_one_step_per_version_up_to_the_current_one() -> None:
    for package in (duckdb_migrations, mongo_migrations):
        assert package.LAYOUT_VERSION == CURRENT
        assert [m.version for m in package.MIGRATIONS] == list(range(2, CURRENT + 1))


async def test_a_layout_1_store_is_migrated_and_keeps_its_data(old: OldStore) -> None:
    await old.build_v1()
    assert (await old.layout()).version is None  # written before layouts had versions

    db = await old.open()
    try:
        await _old_data_is_readable(db)
        await _new_features_work(db)
    finally:
        await db.close()
    assert await old.layout() == _migrated_once()


async def test_opening_a_current_store_again_changes_nothing(old: OldStore) -> None:
    await old.build_v1()
    await (await old.open()).close()
    layout, described = await old.layout(), await old.describe()

    db = await old.open()
    try:
        await _old_data_is_readable(db)
    finally:
        await db.close()
    assert await old.layout() == layout == _migrated_once()
    assert await old.describe() == described


async def test_a_migrated_store_has_the_layout_of_a_new_one(
    old: OldStore, store_factory: StoreFactory, tmp_path: Path
) -> None:
    await old.build_v1()
    await (await old.open()).close()
    fresh = old_store(store_factory, tmp_path / "fresh")
    try:
        await (await fresh.open()).close()
        assert await fresh.layout() == _created_new()
        assert await old.describe() == await fresh.describe()
    finally:
        await fresh.aclose()


async def test_a_step_left_half_done_is_finished(
    old: OldStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A store of an unreleased build that already had some layout-2 tables, or a step
    that crashed halfway on MongoDB: the step runs again over what exists."""
    await old.build_v1(half_of_v2=True)
    if isinstance(old, OldMongo):  # and its migrating instance died an hour ago
        await old.set_lock("dead-instance", until_us=NOW_US)
    db = await old.open()
    try:
        await _old_data_is_readable(db)
        await _new_features_work(db)
    finally:
        await db.close()
    assert await old.layout() == _migrated_once()
    if isinstance(old, OldMongo):
        assert "took over the layout migration 1 -> 2 of dead-instance" in caplog.text


async def test_a_store_of_a_newer_vigil_is_refused_and_left_as_it_was(old: OldStore) -> None:
    await old.build_v1()
    await old.mark(CURRENT + 1)
    layout, described = await old.layout(), await old.describe()

    with pytest.raises(Unavailable) as refused:
        await old.open()
    assert str(refused.value) == NEWER
    assert await old.layout() == layout
    assert await old.describe() == described  # no table, collection or index was added


async def test_instances_opening_together_migrate_once(
    old: OldStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isinstance(old, OldMongo):
        pytest.skip("DuckDB lets one process open a file: instances never share one")
    await old.build_v1()
    runs = _count_mongo_steps(monkeypatch)
    first, second = await asyncio.gather(old.open(), old.open())
    try:
        await _new_features_work(first)
        await _old_data_is_readable(second)
    finally:
        await first.close()
        await second.close()
    # Each step once: the other instance waited instead of running it too.
    assert runs == Counter({v: 1 for v in range(2, CURRENT + 1)})
    assert await old.layout() == _migrated_once()


async def test_instances_opening_a_new_store_together_create_it_once(
    old: OldStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isinstance(old, OldMongo):
        pytest.skip("DuckDB lets one process open a file: instances never share one")
    runs = _count_mongo_steps(monkeypatch)
    first, second = await asyncio.gather(old.open(), old.open())
    try:
        await _new_features_work(second)
    finally:
        await first.close()
        await second.close()
    assert runs == Counter({CURRENT: 1})
    assert await old.layout() == _created_new()


async def test_an_instance_waits_for_another_ones_migration_then_gives_up(
    old: OldStore,
) -> None:
    if not isinstance(old, OldMongo):
        pytest.skip("DuckDB lets one process open a file: no other instance migrates it")
    await old.build_v1()
    await old.set_lock("vigil-2:41:ab12", until_us=far_future_us())
    described = await old.describe()

    with pytest.raises(Unavailable) as gave_up:
        await mongo_migrations.migrate_layout(old.db, MongoOptions(), wait_seconds=0.3)
    assert str(gave_up.value) == (
        "MongoDB: another Vigil instance (vigil-2:41:ab12) is migrating the store layout"
        " from 1 to 2 and was not done within 0.3 s; start this instance again once it is"
    )
    assert await old.layout() == Layout(1, [])
    assert await old.describe() == described


def _count_mongo_steps(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """How often each MongoDB step runs, by the version it makes (the steps stay real)."""
    runs: Counter[int] = Counter()

    def counted(step: mongo_migrations.Migration) -> mongo_migrations.Migration:
        async def apply(db: Any, options: MongoOptions) -> None:
            runs[step.version] += 1
            await step.apply(db, options)

        return replace(step, apply=apply)

    steps = tuple(counted(step) for step in mongo_migrations.MIGRATIONS)
    monkeypatch.setattr(mongo_migrations, "MIGRATIONS", steps)
    monkeypatch.setattr(mongo_migrations, "NEW_STORE", counted(mongo_migrations.NEW_STORE))
    return runs


def _migrated_once() -> Layout:
    """Every step from 1 recorded exactly once."""
    return Layout(CURRENT, list(range(2, CURRENT + 1)))


def _created_new() -> Layout:
    return Layout(CURRENT, [CURRENT])


async def _old_data_is_readable(db: StoreDatabase) -> None:
    for point_id, value in zip(OLD_BATCH.point_ids(), OLD_BATCH.values, strict=True):
        decoded = decode_point_id(point_id)
        assert decoded is not None
        point = await db.metrics.get_point("alpha", *decoded)
        assert point is not None and point.value == value
    # One point per (series, timestamp) since layout 3: the stale copy is gone from sight.
    listed = await db.metrics.list_points(GetMetricsListQuery("alpha", first=100))
    assert sorted(m.value for m in listed.items) == sorted(OLD_BATCH.values)
    assert STALE_VALUE not in [m.value for m in listed.items]
    assert await db.metrics.metric_names("alpha") == ["cpu", "mem"]
    assert await db.metrics.tag_values("alpha", "host") == ["h1", "h2"]
    replay = await db.metrics.append(OLD_BATCH, idempotency_key=OLD_KEY)
    assert (replay.accepted, replay.replayed) == (len(OLD_BATCH), True)

    entries = await db.audit.list_entries(GetAuditLogQuery("alpha"))
    assert [(e.actor, e.outcome, e.detail) for e in entries[-2:]] == [
        (e.actor, e.outcome, e.detail) for e in reversed(OLD_AUDIT)
    ]
    assert [e.seq for e in entries[-2:]] == [2, 1]
    # Layout 3 chained the old entries, in the order written, and the chain goes on.
    await db.audit.record(AuditEntry("carol", "createDashboard", "alpha", "ok", NOW_US + 9))
    newest = (await db.audit.list_entries(GetAuditLogQuery("alpha", first=1)))[0]
    assert newest.actor == "carol" and newest.seq > len(OLD_AUDIT)
    await _chain_verifies(db, "alpha")

    alerts = cast(AlertStore, db.alerts)  # type: ignore[attr-defined]
    assert await alerts.get_alert("alpha", OLD_ALERT.id) == OLD_ALERT
    assert [a.id for a in await alerts.enabled_alerts()] == [OLD_ALERT.id]


async def _chain_verifies(db: StoreDatabase, project: str) -> None:
    chain = await db.audit.chain(project, after_index=0, first=100)  # type: ignore[attr-defined]
    assert [e.chain_index for e in chain] == list(range(1, len(chain) + 1))
    assert chain and chain[0].prev_hash == GENESIS
    for before, entry in itertools.pairwise(chain):
        assert entry.prev_hash == before.hash
    for entry in chain:
        assert entry.hash == entry_hash(
            entry, chain_index=entry.chain_index, prev_hash=entry.prev_hash
        )


async def _new_features_work(db: StoreDatabase) -> None:
    """Dashboards and notification channels (layout 2), metric descriptions (layout 3),
    analytics jobs (layout 4), compliance (layout 5), anomaly detection and incidents
    (layout 7), through their store ports."""
    jobs = cast(AnalyticsJobStore, db.analytics)  # type: ignore[attr-defined]
    await jobs.add_job(sample_job("j1"))
    assert await jobs.get_job("alpha", "j1", now_us=NOW_US) == sample_job("j1")
    anomalies = cast(AnomalyStore, db.anomalies)  # type: ignore[attr-defined]
    detection = AnomalyDetection("a1", "alpha", "cpu", (), DetectorConfig(), True, NOW_US, "al")
    assert await anomalies.save_detection(detection)
    assert await anomalies.enabled_detections() == [detection]
    await anomalies.save_detector_states({"k": ("p", {"n": 1})})
    assert await anomalies.load_detector_states(["p"]) == {"k": {"n": 1}}
    band = BandRow("alpha", "cpu", 7, {"host": "h1"}, NOW_US, 1.0, 0.5, 1.5, 3)
    await anomalies.add_band_rows([band])
    assert await anomalies.band_rows("alpha", "cpu", start_us=NOW_US, end_us=NOW_US + 1) == [band]
    incidents = cast(IncidentStore, db.incidents)  # type: ignore[attr-defined]
    incident = Incident("i1", "alpha", IncidentState.OPEN, "cpu", NOW_US, NOW_US, "x", (), ())
    assert await incidents.save_incident(incident, expected_version=None)
    assert await incidents.open_incidents("alpha") == [incident]

    dashboards = cast(DashboardStore, db.dashboards)  # type: ignore[attr-defined]
    board = Dashboard("d1", "alpha", read_spec({"name": "Web"}), NOW_US, "alice")
    assert await dashboards.save_dashboard(board)
    assert await dashboards.get_dashboard("alpha", "d1") == board
    assert await dashboards.list_versions("alpha", "d1") == [board]

    notifications = cast(NotificationStore, db.notifications)  # type: ignore[attr-defined]
    hook = Channel("c1", "alpha", "hook", ChannelKind.WEBHOOK, url="https://8.8.8.8/x")
    assert await notifications.save_channel(hook)
    assert await notifications.get_channel("alpha", "c1") == hook

    described = MetricDescription("cpu", MetricType.GAUGE, "CPU in use", "1")
    await db.metrics.describe("alpha", [described])
    assert await db.metrics.descriptions("alpha") == [described]
    compliance = cast(ComplianceStore, db.compliance)  # type: ignore[attr-defined]
    revoked = Revocation("alpha", RevocationKind.SUBJECT, "mallory", NOW_US, "alice")
    assert await compliance.add_revocation(revoked)
    assert await compliance.revocations("alpha") == [revoked]
