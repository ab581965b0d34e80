"""The message bus with the real handler tables, driven end to end over in-memory fakes."""

from __future__ import annotations

import logging
import math

import orjson
import pytest

from domain.messagebus import MessageBus
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.ingest import BatchRejected, series_id
from domain.metrics.queries import GetMetricsByIdQuery
from tests.unit.fakes import (
    NOW_US,
    FakeAuditStore,
    FakeClock,
    FakeMetricStore,
    FakePublisher,
    cpu,
    ingest,
)

NOW_MS = NOW_US // 1000


# -- CreateMetricsCommand -----------------------------------------------------------------


async def test_create_metrics_stores_the_batch_and_publishes_one_event(
    bus: MessageBus, store: FakeMetricStore, publisher: FakePublisher
) -> None:
    receipt = await ingest(
        bus,
        "acme",
        cpu(0.5, ago_ms=2000, category="infra", source="agent"),
        cpu(0.7, ago_ms=1000, category="infra", source="agent"),
        cpu(0.1, host="db-1", type="counter"),
    )

    assert (receipt.accepted, receipt.replayed) == (3, False)
    assert store.count("acme") == 3
    assert len(publisher.published) == 1
    channel, message = publisher.published[0]
    assert channel == "metrics.acme"
    web = series_id("acme", "cpu.load", (("host", "web-1"),))
    db = series_id("acme", "cpu.load", (("host", "db-1"),))
    expected = {
        "type": "MetricCollectedEvent",
        "project": "acme",
        "series": [
            {
                "id": web,
                "name": "cpu.load",
                "tags": {"host": "web-1"},
                "type": "gauge",
                "category": "infra",
                "source": "agent",
            },
            {
                "id": db,
                "name": "cpu.load",
                "tags": {"host": "db-1"},
                "type": "counter",
                "category": "",
                "source": "",
            },
        ],
        "series_index": [0, 0, 1],
        "timestamps_us": [NOW_US - 2_000_000, NOW_US - 1_000_000, NOW_US],
        "values": [0.5, 0.7, 0.1],
    }
    # What crosses the event bus is JSON: it must survive an orjson round trip unchanged.
    assert orjson.loads(orjson.dumps(message)) == expected


async def test_the_receipt_names_the_stored_points(bus: MessageBus, store: FakeMetricStore) -> None:
    receipt = await ingest(bus, "acme", cpu(0.5, ago_ms=1000), cpu(0.1, host="db-1"))

    ids = receipt.point_ids()
    assert len(ids) == 2
    for point_id, value in zip(ids, [0.5, 0.1], strict=True):
        metric = await bus.ask(GetMetricsByIdQuery("acme", point_id))
        assert (metric.id, metric.value, metric.project) == (point_id, value, "acme")


async def test_points_are_published_on_their_own_projects_channel(
    bus: MessageBus, publisher: FakePublisher
) -> None:
    await ingest(bus, "acme", cpu(1))
    await ingest(bus, "globex", cpu(2))

    assert [(c, m["project"], m["values"]) for c, m in publisher.published] == [
        ("metrics.acme", "acme", [1.0]),
        ("metrics.globex", "globex", [2.0]),
    ]


async def test_a_rejected_batch_stores_nothing_publishes_nothing_and_is_audited(
    bus: MessageBus, store: FakeMetricStore, publisher: FakePublisher, audit: FakeAuditStore
) -> None:
    points = [cpu(1), cpu(math.nan), cpu(3), cpu("high"), cpu(5)]

    with pytest.raises(BatchRejected) as caught:
        await bus.handle(CreateMetricsCommand("acme", points), actor="alice", request_id="r-1")

    assert [e.index for e in caught.value.errors] == [1, 3]
    assert "#1:" in caught.value.message and "#3:" in caught.value.message
    assert store.count() == 0
    assert store.appends == 0
    assert publisher.published == []
    [entry] = audit.entries
    assert (entry.actor, entry.action, entry.project, entry.outcome, entry.request_id) == (
        "alice",
        "CreateMetricsCommand",
        "acme",
        "BAD_USER_INPUT",
        "r-1",
    )
    assert entry.timestamp_us == NOW_US


async def test_an_accepted_batch_is_audited_ok(
    bus: MessageBus, audit: FakeAuditStore, clock: FakeClock
) -> None:
    clock.advance(5)
    await bus.handle(CreateMetricsCommand("acme", [cpu(1)]), actor="alice", request_id="r-2")

    [entry] = audit.entries
    assert (entry.actor, entry.action, entry.project, entry.outcome, entry.request_id) == (
        "alice",
        "CreateMetricsCommand",
        "acme",
        "ok",
        "r-2",
    )
    assert entry.timestamp_us == NOW_US + 5_000_000


async def test_vigils_own_commands_without_an_actor_are_not_audited(
    bus: MessageBus, audit: FakeAuditStore, store: FakeMetricStore
) -> None:
    await bus.handle(CreateMetricsCommand("system", [cpu(1)]))
    with pytest.raises(BatchRejected):
        await bus.handle(CreateMetricsCommand("system", [cpu(math.inf)]), actor="")

    assert store.count("system") == 1
    assert audit.entries == []


async def test_a_store_failure_raises_publishes_nothing_and_is_audited_internal(
    bus: MessageBus, store: FakeMetricStore, publisher: FakePublisher, audit: FakeAuditStore
) -> None:
    store.fail_next_append = OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        await ingest(bus, "acme", cpu(1))

    assert store.count() == 0
    assert publisher.published == []
    assert [e.outcome for e in audit.entries] == ["INTERNAL"]


async def test_a_replayed_idempotency_key_stores_and_publishes_nothing_new(
    bus: MessageBus, store: FakeMetricStore, publisher: FakePublisher
) -> None:
    first = await ingest(bus, "acme", cpu(1), cpu(2, ago_ms=1), idempotency_key="k-1")
    again = await ingest(bus, "acme", cpu(1), cpu(2, ago_ms=1), idempotency_key="k-1")
    # a retry that differs still counts as the same request
    other = await ingest(bus, "acme", cpu(9, ago_ms=5), idempotency_key="k-1")

    assert (first.accepted, first.replayed) == (2, False)
    assert (again.accepted, again.replayed) == (2, True)
    assert (other.accepted, other.replayed) == (2, True)
    assert store.count("acme") == 2
    assert len(publisher.published) == 1


async def test_idempotency_keys_are_per_project(
    bus: MessageBus, store: FakeMetricStore, publisher: FakePublisher
) -> None:
    await ingest(bus, "acme", cpu(1), idempotency_key="k-1")
    receipt = await ingest(bus, "globex", cpu(1), idempotency_key="k-1")

    assert receipt.replayed is False
    assert store.count("globex") == 1
    assert [c for c, _ in publisher.published] == ["metrics.acme", "metrics.globex"]


async def test_a_failing_event_handler_does_not_fail_the_command(
    bus: MessageBus,
    store: FakeMetricStore,
    publisher: FakePublisher,
    audit: FakeAuditStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    publisher.fail_with = ConnectionError("redis went away")

    with caplog.at_level(logging.ERROR, logger="vigil.bus"):
        receipt = await ingest(bus, "acme", cpu(1))

    assert (receipt.accepted, receipt.replayed) == (1, False)
    assert store.count("acme") == 1
    assert [e.outcome for e in audit.entries] == ["ok"]
    assert any("MetricCollectedEvent" in r.getMessage() for r in caplog.records)

    publisher.fail_with = None  # the next batch goes out again
    await ingest(bus, "acme", cpu(2, ago_ms=1))
    assert len(publisher.published) == 1
