"""DashboardStore contract: dashboards, versions and compare-and-set, on every store."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from domain.dashboards import Dashboard, DashboardStore, read_spec
from tests.contract.data import NOW_US
from tests.unit.dashboards.fakes import MemoryDashboardStore

DOCUMENT = {
    "name": "Web",
    "description": "every field away from its default",
    "timeRange": 7200,
    "refresh": 0,
    "variables": [{"name": "host", "tag": "host", "metric": "cpu", "default": "web-1"}],
    "widgets": [
        {
            "id": "cpu",
            "kind": "timeseries",
            "title": "CPU",
            "unit": "%",
            "layout": {"x": 0, "y": 2, "w": 12, "h": 8},
            "queries": [
                {
                    "metric": "cpu",
                    "aggregation": "p95",
                    "matchers": [{"key": "host", "op": "=~", "value": "$host"}],
                    "groupBy": ["host", "dc"],
                    "step": 30,
                    "rate": False,
                    "label": "p95",
                },
                {"metric": "requests", "aggregation": "last", "rate": True},
            ],
        },
        {
            "kind": "gauge",
            "title": "Now",
            "layout": {"x": 12, "y": 0, "w": 4, "h": 4},
            "queries": [{"metric": "cpu"}],
            "min": -5,
            "max": 5,
            "thresholds": [{"value": None, "color": "#0a0"}, {"value": 1.5, "color": "red"}],
        },
        {
            "kind": "alertList",
            "title": "A",
            "layout": {"x": 16, "y": 0, "w": 4, "h": 4},
            "alertState": "firing",
            "alertSeverity": "warning",
        },
        {
            "kind": "text",
            "title": "ünïcode",
            "layout": {"x": 20, "y": 0, "w": 4, "h": 4},
            "text": '# Notes\n`code` and "quotes"',
        },
    ],
}


def dashboard(dashboard_id: str = "d1", project: str = "alpha", **changes: object) -> Dashboard:
    made = Dashboard(dashboard_id, project, read_spec(DOCUMENT), NOW_US, "alice")
    return replace(made, **changes)  # type: ignore[arg-type]


def renamed(d: Dashboard, name: str, version_by: str = "bob") -> Dashboard:
    return d.changed(replace(d.spec, name=name), at_us=NOW_US + d.version, by=version_by)


async def test_round_trip_list_oldest_first_and_insert_only_once(
    dashboards: DashboardStore,
) -> None:
    first = dashboard("d1", created_at_us=NOW_US + 5)
    second = dashboard("d2", created_at_us=NOW_US + 1)
    other = dashboard("d1", "beta")
    for d in (first, second, other):
        assert await dashboards.save_dashboard(d) is True

    assert await dashboards.get_dashboard("alpha", "d1") == first
    assert await dashboards.get_dashboard("beta", "d1") == other
    assert [d.id for d in await dashboards.list_dashboards("alpha")] == ["d2", "d1"]
    assert await dashboards.list_dashboards("gamma") == []
    # an id already taken in the project is not overwritten by an insert
    assert await dashboards.save_dashboard(renamed(first, "intruder")) is False
    assert await dashboards.get_dashboard("alpha", "d1") == first


async def test_compare_and_set_and_history(dashboards: DashboardStore) -> None:
    v1 = dashboard()
    await dashboards.save_dashboard(v1)
    v2 = renamed(v1, "two")
    v3 = renamed(v2, "three", "carol")

    assert await dashboards.save_dashboard(v2, expected_version=1) is True
    assert await dashboards.save_dashboard(renamed(v1, "stale"), expected_version=1) is False
    assert await dashboards.save_dashboard(v3, expected_version=2) is True

    assert await dashboards.get_dashboard("alpha", "d1") == v3
    assert await dashboards.list_versions("alpha", "d1") == [v3, v2, v1]
    assert await dashboards.list_versions("alpha", "d1", first=2) == [v3, v2]
    assert await dashboards.get_version("alpha", "d1", 2) == v2
    assert await dashboards.get_version("alpha", "d1", 9) is None
    # a dashboard that does not exist is not created by a compare-and-set
    assert await dashboards.save_dashboard(dashboard("new"), expected_version=1) is False
    assert await dashboards.get_dashboard("alpha", "new") is None


async def test_racing_updates_one_wins(dashboards: DashboardStore) -> None:
    v1 = dashboard()
    await dashboards.save_dashboard(v1)

    results = await asyncio.gather(
        *(dashboards.save_dashboard(renamed(v1, f"n{i}"), expected_version=1) for i in range(5))
    )

    assert sorted(results) == [False, False, False, False, True]
    current = await dashboards.get_dashboard("alpha", "d1")
    assert current is not None and current.version == 2
    assert [d.version for d in await dashboards.list_versions("alpha", "d1")] == [2, 1]


async def test_a_foreign_id_answers_as_a_missing_one_and_delete_takes_history(
    dashboards: DashboardStore,
) -> None:
    v1 = dashboard()
    await dashboards.save_dashboard(v1)
    await dashboards.save_dashboard(renamed(v1, "two"), expected_version=1)

    assert await dashboards.get_dashboard("beta", "d1") is None
    assert await dashboards.list_versions("beta", "d1") == []
    assert await dashboards.get_version("beta", "d1", 1) is None
    assert await dashboards.save_dashboard(dashboard(project="beta"), expected_version=2) is False
    assert await dashboards.delete_dashboard("beta", "d1") is False

    assert await dashboards.delete_dashboard("alpha", "d1") is True
    assert await dashboards.get_dashboard("alpha", "d1") is None
    assert await dashboards.list_versions("alpha", "d1") == []
    assert await dashboards.delete_dashboard("alpha", "d1") is False
    # the id may be used again, from version 1
    assert await dashboards.save_dashboard(v1) is True
    assert await dashboards.list_versions("alpha", "d1") == [v1]


async def test_the_memory_store_keeps_the_same_contract() -> None:
    """Services' default store (domain/dashboards/memory.py) against the same tests."""
    for test in (
        test_round_trip_list_oldest_first_and_insert_only_once,
        test_compare_and_set_and_history,
        test_racing_updates_one_wins,
        test_a_foreign_id_answers_as_a_missing_one_and_delete_takes_history,
    ):
        await test(MemoryDashboardStore())
