"""Queries through the message bus with the real handler tables, over in-memory fakes."""

from __future__ import annotations

import math

import pytest

from domain.buckets import MAX_BUCKETS
from domain.errors import BadUserInput, NotFound
from domain.matchers import MatchOp, TagMatcher
from domain.messagebus import MessageBus
from domain.metrics.ingest import BatchRejected
from domain.metrics.model import Aggregation, decode_point_id, encode_point_id
from domain.metrics.queries import (
    GetMetricNamesQuery,
    GetMetricsByIdQuery,
    GetMetricSeriesQuery,
    GetMetricsListQuery,
    GetTagValuesQuery,
)
from domain.paging import MAX_PAGE
from domain.system.queries import GetAuditLogQuery, GetSystemHealthQuery
from tests.unit.fakes import (
    NOW_US,
    FakeHealthCheck,
    cpu,
    ingest,
)

NOW_MS = NOW_US // 1000


# -- GetMetricsByIdQuery ------------------------------------------------------------------


async def test_a_point_is_found_by_its_id(bus: MessageBus) -> None:
    receipt = await ingest(bus, "acme", cpu(0.5, category="infra", type="counter"))
    [point_id] = receipt.point_ids()

    metric = await bus.ask(GetMetricsByIdQuery("acme", point_id))

    assert (metric.name, metric.value, metric.timestamp_us) == ("cpu.load", 0.5, NOW_US)
    assert (metric.tags, metric.category, metric.type) == ({"host": "web-1"}, "infra", "counter")


async def test_a_foreign_id_answers_exactly_as_a_missing_one(bus: MessageBus) -> None:
    receipt = await ingest(bus, "acme", cpu(0.5))
    [acme_id] = receipt.point_ids()
    sid, ts = decode_point_id(acme_id) or (0, 0)
    unknown_id = encode_point_id(sid ^ 1, ts)  # well-formed, never stored

    messages = {}
    for label, point_id in [("foreign", acme_id), ("unknown", unknown_id), ("garbage", "x!")]:
        with pytest.raises(NotFound) as caught:
            await bus.ask(GetMetricsByIdQuery("globex", point_id))
        assert caught.value.code == "NOT_FOUND"
        messages[label] = caught.value.message.replace(repr(point_id), "<id>")

    assert messages["foreign"] == messages["unknown"] == messages["garbage"]
    assert messages["foreign"] == "no metric <id> in project 'globex'"


# -- GetMetricSeriesQuery -----------------------------------------------------------------


def series_query(start_us: int, end_us: int, step_us: int | None = None) -> GetMetricSeriesQuery:
    return GetMetricSeriesQuery("acme", "cpu.load", start_us, end_us, step_us=step_us)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param(series_query(NOW_US, NOW_US), "from must be before to", id="from-equals-to"),
        pytest.param(
            series_query(NOW_US, NOW_US - 1), "from must be before to", id="from-after-to"
        ),
        pytest.param(series_query(0, NOW_US, 0), "step must be positive", id="step-zero"),
        pytest.param(series_query(0, NOW_US, -60), "step must be positive", id="step-negative"),
        pytest.param(
            series_query(0, (MAX_BUCKETS + 1) * 60, 60),
            f"more than {MAX_BUCKETS} buckets",
            id="too-many-buckets",
        ),
        pytest.param(
            series_query(0, NOW_US, 1), f"more than {MAX_BUCKETS} buckets", id="step-1us-forever"
        ),
    ],
)
async def test_a_series_query_out_of_bounds_is_refused(
    bus: MessageBus, query: GetMetricSeriesQuery, message: str
) -> None:
    with pytest.raises(BadUserInput, match=message):
        await bus.ask(query)


async def test_a_series_query_within_bounds_answers_dense_arrays(bus: MessageBus) -> None:
    await ingest(bus, "acme", cpu(1, ago_ms=50_000), cpu(3, ago_ms=40_000), cpu(7, ago_ms=5_000))
    await ingest(bus, "acme", cpu(100, host="db-1", ago_ms=5_000))
    start = NOW_US - 60_000_000

    result = await bus.ask(
        GetMetricSeriesQuery(
            "acme",
            "cpu.load",
            start,
            NOW_US,
            step_us=30_000_000,
            aggregation=Aggregation.AVG,
            matchers=(TagMatcher("host", MatchOp.REGEX, "web-.*"),),
        )
    )

    assert result.timestamps_us == [start, start + 30_000_000]
    assert [(s.tags, s.values) for s in result.series] == [({"host": "web-1"}, [2.0, 7.0])]


async def test_exactly_max_buckets_is_allowed(bus: MessageBus) -> None:
    result = await bus.ask(series_query(0, MAX_BUCKETS * 60, 60))
    assert len(result.timestamps_us) == MAX_BUCKETS


# -- paging -------------------------------------------------------------------------------


@pytest.mark.parametrize("first", [0, -1, MAX_PAGE + 1, 10**9])
async def test_list_paging_outside_one_to_max_is_refused(bus: MessageBus, first: int) -> None:
    assert MAX_PAGE == 1000
    with pytest.raises(BadUserInput, match="first must be between 1 and 1000"):
        await bus.ask(GetMetricsListQuery("acme", first=first))
    with pytest.raises(BadUserInput, match="first must be between 1 and 1000"):
        await bus.ask(GetAuditLogQuery("acme", first=first))


@pytest.mark.parametrize("first", [1, MAX_PAGE])
async def test_list_paging_at_the_bounds_is_served(bus: MessageBus, first: int) -> None:
    page = await bus.ask(GetMetricsListQuery("acme", first=first))
    assert page.items == []
    assert page.has_next_page is False


async def test_a_list_with_from_not_before_to_is_refused(bus: MessageBus) -> None:
    with pytest.raises(BadUserInput, match="from must be before to"):
        await bus.ask(GetMetricsListQuery("acme", start_us=NOW_US, end_us=NOW_US))


async def test_a_list_pages_newest_first_with_a_cursor(bus: MessageBus) -> None:
    await ingest(bus, "acme", *(cpu(i, ago_ms=1000 * i) for i in range(5)))
    await ingest(bus, "globex", cpu(99))

    first = await bus.ask(GetMetricsListQuery("acme", first=2))
    last = first.items[-1]
    cursor = (last.timestamp_us, (decode_point_id(last.id) or (0, 0))[0])
    second = await bus.ask(GetMetricsListQuery("acme", first=10, after=cursor))

    assert [m.value for m in first.items] == [0.0, 1.0]
    assert first.has_next_page is True
    assert [m.value for m in second.items] == [2.0, 3.0, 4.0]
    assert second.has_next_page is False


@pytest.mark.parametrize("limit", [0, MAX_PAGE + 1])
async def test_catalogue_limits_outside_one_to_max_are_refused(bus: MessageBus, limit: int) -> None:
    with pytest.raises(BadUserInput, match="limit must be between 1 and 1000"):
        await bus.ask(GetMetricNamesQuery("acme", limit=limit))
    with pytest.raises(BadUserInput, match="limit must be between 1 and 1000"):
        await bus.ask(GetTagValuesQuery("acme", "host", limit=limit))


async def test_the_catalogue_answers_per_project(bus: MessageBus) -> None:
    await ingest(bus, "acme", cpu(1), cpu(2, host="db-1"))
    await ingest(bus, "globex", {"name": "mem.used", "value": 1, "tags": {"host": "x"}})

    assert await bus.ask(GetMetricNamesQuery("acme")) == ["cpu.load"]
    assert await bus.ask(GetTagValuesQuery("acme", "host")) == ["db-1", "web-1"]


# -- audit log ----------------------------------------------------------------------------


async def test_the_audit_log_lists_a_projects_commands(bus: MessageBus) -> None:
    await ingest(bus, "acme", cpu(1))
    with pytest.raises(BatchRejected):
        await ingest(bus, "acme", cpu(math.nan))
    await ingest(bus, "globex", cpu(1))

    entries = await bus.ask(GetAuditLogQuery("acme"))

    assert [(e.project, e.outcome) for e in entries] == [
        ("acme", "BAD_USER_INPUT"),
        ("acme", "ok"),
    ]


# -- GetSystemHealthQuery -----------------------------------------------------------------


async def test_health_is_degraded_when_one_of_two_checks_fails(
    bus: MessageBus, health_checks: list[FakeHealthCheck]
) -> None:
    health_checks += [
        FakeHealthCheck("store", "duckdb 1.1", delay=0.02),
        FakeHealthCheck("eventbus", error=ConnectionError("redis://user:secret@10.0.0.5:6379")),
    ]

    health = await bus.ask(GetSystemHealthQuery())

    assert health.status == "degraded"
    assert (health.version, health.uptime_seconds) == ("9.9.9", 90.0)
    store, eventbus = health.components
    assert (store.name, store.status, store.version, store.detail) == (
        "store",
        "ok",
        "duckdb 1.1",
        "",
    )
    assert (eventbus.name, eventbus.status, eventbus.version) == ("eventbus", "down", "")
    assert eventbus.detail == "ConnectionError"  # the reason's kind, never its text
    assert "secret" not in repr(health)
    # each component carries its own latency: the slow one took its 20 ms, the other did not
    assert store.latency_ms >= 15
    assert 0 <= eventbus.latency_ms < store.latency_ms


async def test_health_is_ok_when_every_check_passes(
    bus: MessageBus, health_checks: list[FakeHealthCheck]
) -> None:
    health_checks += [FakeHealthCheck("store", "1"), FakeHealthCheck("eventbus", "2")]

    health = await bus.ask(GetSystemHealthQuery())

    assert health.status == "ok"
    assert [(c.name, c.status, c.version) for c in health.components] == [
        ("store", "ok", "1"),
        ("eventbus", "ok", "2"),
    ]
    assert all(isinstance(c.latency_ms, float) and c.latency_ms >= 0 for c in health.components)


async def test_health_is_down_when_every_check_fails(
    bus: MessageBus, health_checks: list[FakeHealthCheck]
) -> None:
    health_checks += [
        FakeHealthCheck("store", error=OSError()),
        FakeHealthCheck("eventbus", error=TimeoutError()),
    ]

    health = await bus.ask(GetSystemHealthQuery())

    assert health.status == "down"
    assert [c.detail for c in health.components] == ["OSError", "TimeoutError"]
