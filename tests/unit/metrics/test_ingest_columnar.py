"""The columnar form: series entries in a PointBatch and collectors' PointColumns give the
same batch as points, name their bad points, and metric descriptions travel with them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from domain.errors import BadUserInput
from domain.messagebus import MessageBus
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.ingest import (
    BatchRejected,
    IngestLimits,
    PointColumns,
    SeriesCache,
    validate_points,
)
from domain.metrics.model import MetricDescription, MetricType
from domain.metrics.queries import GetMetricMetadataQuery
from infra.stores.duckdb.overlap import Columns
from tests.unit.fakes import NOW_US, FakeMetricStore

NOW_MS = NOW_US // 1000
LIMITS = IngestLimits()


@dataclass(frozen=True)
class Decoded:
    """What a collector's decoder hands over: name, tags, type."""

    name: str
    tags: dict[str, str] = field(default_factory=dict)
    type: str = "gauge"


def check(points: object, cache: SeriesCache | None = None) -> object:
    return validate_points("acme", points, now_us=NOW_US, limits=LIMITS, cache=cache)


def test_series_entries_make_the_same_batch_as_points() -> None:
    entries = [
        {"name": "cpu", "tags": {"host": "a"}, "timestamps": [NOW_MS - 2, NOW_MS - 1],
         "values": [1.0, 2]},
        {"name": "mem", "type": "counter", "timestamps": [NOW_MS], "values": [3.5],
         "source": "agent"},
    ]  # fmt: skip
    points = [
        {"name": "cpu", "tags": {"host": "a"}, "timestamp": NOW_MS - 2, "value": 1.0},
        {"name": "cpu", "tags": {"host": "a"}, "timestamp": NOW_MS - 1, "value": 2},
        {"name": "mem", "type": "counter", "timestamp": NOW_MS, "value": 3.5, "source": "agent"},
    ]
    assert check(entries) == check(points)


def test_a_bad_entry_or_point_is_named_by_entry_and_position() -> None:
    entries = [
        {"name": "ok", "timestamps": [NOW_MS], "values": [1.0]},
        {"name": "cpu", "timestamps": [NOW_MS, NOW_MS], "values": [1.0, float("nan")]},
        {"name": "bad name", "timestamps": [NOW_MS], "values": [1.0]},
        {"name": "short", "timestamps": [NOW_MS], "values": [1.0, 2.0]},
    ]
    with pytest.raises(BatchRejected) as refused:
        check(entries)
    assert [(e.index, e.reason) for e in refused.value.errors] == [
        (3, "timestamps must be a list as long as values"),
    ]
    with pytest.raises(BatchRejected) as refused:
        check(entries[:3])
    assert [(e.index, e.reason) for e in refused.value.errors] == [
        (1, "point 1: value must be finite (no NaN or Infinity)"),
        (2, "point 0: name 'bad name' has characters outside [a-zA-Z0-9_:.-]"),
    ]


def test_collector_columns_are_checked_as_columns() -> None:
    cpu, mem = Decoded("cpu", {"host": "a"}), Decoded("mem", type="counter")
    columns = PointColumns(
        [cpu, mem],
        np.array([0, 1, 0]),
        np.array([NOW_US - 2, NOW_US - 1, NOW_US]),
        np.array([1.0, 2.0, 3.0]),
        source="prometheus",
    )
    cache = SeriesCache()
    batch = check(columns, cache)
    assert batch == check(columns, cache)  # found again by identity
    assert [(s.name, s.tags, s.type, s.source) for s in batch.series] == [  # type: ignore[attr-defined]
        ("cpu", {"host": "a"}, MetricType.GAUGE, "prometheus"),
        ("mem", {}, MetricType.COUNTER, "prometheus"),
    ]
    assert batch.series_index == [0, 1, 0]  # type: ignore[attr-defined]
    assert batch.timestamps_us == [NOW_US - 2, NOW_US - 1, NOW_US]  # type: ignore[attr-defined]

    old = PointColumns([cpu], np.array([0, 0]), np.array([NOW_US, 0]), np.array([1.0, 2.0]))
    with pytest.raises(BatchRejected) as refused:
        check(old)
    assert [(e.index, e.reason) for e in refused.value.errors] == [
        (1, "timestamp is older than the retention period")
    ]


def test_two_decoded_series_of_one_series_are_merged_and_unused_ones_dropped() -> None:
    one, same, unused = Decoded("cpu"), Decoded("cpu"), Decoded("idle")
    columns = PointColumns(
        [one, same, unused], np.array([0, 1]), np.array([NOW_US - 1, NOW_US]), np.ones(2)
    )
    batch = check(columns)
    assert [s.name for s in batch.series] == ["cpu"]  # type: ignore[attr-defined]
    assert batch.series_index == [0, 0]  # type: ignore[attr-defined]


def test_columnar_batches_have_their_own_limit() -> None:
    limits = IngestLimits(max_columnar_points=2)
    columns = PointColumns([Decoded("cpu")], np.zeros(3, np.int64), np.full(3, NOW_US), np.ones(3))
    with pytest.raises(BadUserInput, match="at most 2 points"):
        validate_points("acme", columns, now_us=NOW_US, limits=limits, cache=SeriesCache())


async def test_descriptions_are_kept_with_the_points_or_on_their_own(
    bus: MessageBus, store: FakeMetricStore
) -> None:
    cpu = MetricDescription("cpu", MetricType.COUNTER, "CPU seconds.", "s")
    latency = MetricDescription("latency", MetricType.HISTOGRAM, "Request time.", "ms")
    point = [{"name": "cpu", "value": 1.0}]
    await bus.handle(CreateMetricsCommand("acme", point, descriptions=(cpu,)))
    await bus.handle(CreateMetricsCommand("acme", [], descriptions=(latency,)))
    await bus.handle(CreateMetricsCommand("acme", [{"name": "latency.bucket", "value": 1.0}]))
    await bus.handle(CreateMetricsCommand("acme", [{"name": "plain", "value": 1.0}]))

    shown = await bus.ask(GetMetricMetadataQuery("acme"))
    assert shown == [
        cpu,
        MetricDescription("latency.bucket", MetricType.HISTOGRAM, "Request time.", "ms"),
        MetricDescription("plain"),
    ]


async def test_a_bad_description_stores_nothing(bus: MessageBus, store: FakeMetricStore) -> None:
    bad = MetricDescription("cpu", None, "x" * 1001)
    with pytest.raises(BadUserInput, match="help longer than 1000"):
        await bus.handle(
            CreateMetricsCommand("acme", [{"name": "cpu", "value": 1.0}], descriptions=(bad,))
        )
    assert store.count("acme") == 0
    assert await store.descriptions("acme") == []


def test_a_columnar_batch_keeps_its_arrays_equal_to_its_lists() -> None:
    """The store appends a collector's batch from its arrays: they must be its lists."""
    columns = PointColumns(
        series=[Decoded("a"), Decoded("b"), Decoded("a")],  # the same series twice
        series_index=np.array([2, 1, 0, 1], dtype=np.int64),
        timestamps_us=np.array([NOW_US - 3, NOW_US - 2, NOW_US - 1, NOW_US], dtype=np.int64),
        values=np.array([1.5, 2.0, -3.0, 4.0]),
    )
    batch = check(columns)
    assert batch.arrays is not None
    assert batch.arrays.series_index.tolist() == batch.series_index == [0, 1, 0, 1]
    assert batch.arrays.timestamps_us.tolist() == batch.timestamps_us
    assert batch.arrays.values.tolist() == batch.values == [1.5, 2.0, -3.0, 4.0]
    from_arrays = Columns.of([batch])
    batch.arrays = None
    from_lists = Columns.of([batch])
    assert from_arrays.series_ids == from_lists.series_ids
    for name in ("slot", "ts", "value"):
        assert (getattr(from_arrays, name) == getattr(from_lists, name)).all()
