"""What only the MongoDB store has: transactions over several collections, bounds on what a
query sends or holds in the server, and a retention stored for every instance.

Runs on the emulator and, with VIGIL_TEST_MONGO_URL, on a real server; DuckDB is not
concerned (one process, every write in one transaction, no server limits).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pymongo.errors import AutoReconnect, OperationFailure

from domain.alerting.model import AlertState, InstanceKey
from domain.alerting.state import InstanceState
from domain.dashboards import Dashboard, read_spec
from domain.errors import BadUserInput, Unavailable
from domain.metrics.model import Aggregation
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery
from infra.stores.mongo import MongoDatabase
from infra.stores.mongo.retention import applied_retention
from tests.contract.alerting_data import alert, transition
from tests.contract.conftest import StoreDatabase, StoreFactory, open_duckdb
from tests.contract.data import MINUTE, NOW_US, Point, point_batch
from tests.contract.faults import another_instance

DAY = 86_400


@pytest.fixture
def mongo(store_factory: StoreFactory, store_db: StoreDatabase) -> MongoDatabase:
    if store_factory is open_duckdb:
        pytest.skip("MongoDB only: DuckDB writes each change in one transaction of its own")
    assert isinstance(store_db, MongoDatabase)
    return store_db


class _FailOnce:
    """A collection whose `method` raises the error of a lost connection, once."""

    def __init__(self, inner: Any, method: str) -> None:
        self._inner, self._method, self.failed = inner, method, False

    def __getattr__(self, name: str) -> Any:
        if name != self._method or self.failed:
            return getattr(self._inner, name)

        async def fail(*args: Any, **kwargs: Any) -> Any:
            self.failed = True
            raise AutoReconnect("connection closed (injected)")

        return fail


def firing(key: InstanceKey) -> InstanceState:
    return InstanceState(key=key, state=AlertState.FIRING, since_us=1)


# -- transactions ------------------------------------------------------------------------------


async def test_a_dashboard_save_that_fails_half_way_leaves_nothing(mongo: MongoDatabase) -> None:
    board = Dashboard("d1", "alpha", read_spec({"name": "Web"}), NOW_US, "alice")
    store: Any = mongo.dashboards
    store._versions = _FailOnce(store._versions, "replace_one")  # after the dashboard's write

    with pytest.raises(Unavailable):
        await mongo.dashboards.save_dashboard(board)

    assert await mongo.dashboards.get_dashboard("alpha", "d1") is None
    assert await mongo.dashboards.save_dashboard(board)
    assert await mongo.dashboards.list_versions("alpha", "d1") == [board]


async def test_evaluator_changes_that_fail_half_way_leave_nothing(mongo: MongoDatabase) -> None:
    rule = alert("a1")
    await mongo.alerts.save_alert(rule)
    key: InstanceKey = ("web-1",)
    store: Any = mongo.alerts
    store._transitions = _FailOnce(store._transitions, "insert_many")  # after the states

    changes = {rule.id: ([firing(key)], [transition(1, AlertState.FIRING, key)])}
    with pytest.raises(Unavailable):
        await mongo.alerts.save_changes(changes)

    assert await mongo.alerts.load_instances(rule.id) == []
    await mongo.alerts.save_changes(changes)
    assert await mongo.alerts.load_instances(rule.id) == [firing(key)]
    assert len(await mongo.alerts.list_transitions("alpha", rule.id)) == 1


async def test_an_alert_delete_that_fails_half_way_leaves_the_alert(mongo: MongoDatabase) -> None:
    rule = alert("a1")
    await mongo.alerts.save_alert(rule)
    key: InstanceKey = ("h",)
    await mongo.alerts.save_changes(
        {rule.id: ([firing(key)], [transition(1, AlertState.FIRING, key)])}
    )
    store: Any = mongo.alerts
    store._transitions = _FailOnce(store._transitions, "delete_many")  # the last write

    with pytest.raises(Unavailable):
        await mongo.alerts.delete_alert("alpha", rule.id)

    assert await mongo.alerts.get_alert("alpha", rule.id) == rule
    assert len(await mongo.alerts.load_instances(rule.id)) == 1
    assert await mongo.alerts.delete_alert("alpha", rule.id)
    assert await mongo.alerts.load_instances(rule.id) == []


# -- bounds --------------------------------------------------------------------------------------


async def test_an_exact_percentile_over_too_many_points_is_refused_with_a_hint(
    store_factory: StoreFactory, mongo: MongoDatabase, tmp_path: Path
) -> None:
    small = await another_instance(store_factory, mongo, tmp_path, percentile_max_values=5)
    try:
        points = [Point("cpu", {"host": "a"}, NOW_US + i, float(i)) for i in range(6)]
        await small.metrics.append(point_batch("alpha", points))
        query = GetMetricSeriesQuery("alpha", "cpu", NOW_US, NOW_US + MINUTE, Aggregation.P50)

        with pytest.raises(BadUserInput, match=r"at most 5 points per bucket.*smaller step"):
            await small.metrics.aggregate(query)
        halves = await small.metrics.aggregate(
            GetMetricSeriesQuery(
                "alpha", "cpu", NOW_US, NOW_US + 6, Aggregation.P50, step_us=3, group_by=()
            )
        )
        assert halves.series[0].values == [1.0, 4.0]
    finally:
        await small.close()


async def test_a_selection_of_too_many_series_is_refused(
    store_factory: StoreFactory, mongo: MongoDatabase, tmp_path: Path
) -> None:
    small = await another_instance(store_factory, mongo, tmp_path, max_series_per_query=2)
    try:
        points = [Point("cpu", {"host": h}, NOW_US, 1.0) for h in "abc"]
        await small.metrics.append(point_batch("alpha", points))

        with pytest.raises(BadUserInput, match=r"matches 3 series; .* at most 2"):
            await small.metrics.list_points(GetMetricsListQuery("alpha", name="cpu"))
        with pytest.raises(BadUserInput, match="matches 3 series"):
            await small.metrics.aggregate(
                GetMetricSeriesQuery("alpha", "cpu", NOW_US, NOW_US + MINUTE)
            )
    finally:
        await small.close()


# -- retention -----------------------------------------------------------------------------------


async def test_the_retention_is_stored_once_and_other_settings_only_warn(
    store_factory: StoreFactory,
    mongo: MongoDatabase,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert mongo.retention_seconds == 30 * DAY
    other = await another_instance(store_factory, mongo, tmp_path, retention_seconds=60 * DAY)
    try:
        assert other.retention_seconds == 30 * DAY  # the store's setting, not this one's
        assert "the store keeps points 30 days; this instance was configured for 60" in caplog.text
        assert set((await other.applied_retention()).values()) == {30 * DAY}
    finally:
        await other.close()


async def test_vigil_retention_changes_every_expiry(
    store_factory: StoreFactory, mongo: MongoDatabase, tmp_path: Path
) -> None:
    await mongo.set_retention(7 * DAY, by="test")

    assert set((await mongo.applied_retention()).values()) == {7 * DAY}
    again = await another_instance(store_factory, mongo, tmp_path)  # configured for 30
    try:
        assert again.retention_seconds == 7 * DAY
    finally:
        await again.close()
    with pytest.raises(ValueError, match="1 to 10000 days"):
        await mongo.set_retention(20_800 * DAY, by="test")


async def test_a_user_without_collmod_starts_and_is_told_what_to_grant(
    store_factory: StoreFactory,
    mongo: MongoDatabase,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A least-privilege (readWrite) user cannot run collMod: starting never needs it
    unless the expiries differ from the setting, and then it only warns."""
    db: Any = mongo._db
    command = type(db).command

    async def no_collmod(self: Any, spec: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(spec, dict) and "collMod" in spec:
            raise OperationFailure("not authorized to execute command collMod", code=13)
        return await command(self, spec, *args, **kwargs)

    monkeypatch.setattr(type(db), "command", no_collmod)
    with pytest.raises(Unavailable, match="is stored, but changing an expiry needs the collMod"):
        await mongo.set_retention(7 * DAY, by="test")  # stored, not applied

    with caplog.at_level(logging.WARNING):
        other = await another_instance(store_factory, mongo, tmp_path)
    try:
        assert other.retention_seconds == 7 * DAY
        assert "needs the collMod action on the database (the dbAdmin role)" in caplog.text
        assert set((await applied_retention(db)).values()) == {30 * DAY}
    finally:
        await other.close()
