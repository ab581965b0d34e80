"""Metric descriptions (type, help, unit per name): kept durably, replaced, per project."""

from __future__ import annotations

from pathlib import Path

from domain.metrics.model import MetricDescription, MetricType
from domain.metrics.ports import MetricStore
from tests.contract.conftest import StoreDatabase, StoreFactory

CPU = MetricDescription("node_cpu_seconds_total", MetricType.COUNTER, "Seconds the CPUs spent.", "")
LATENCY = MetricDescription("http.server.duration", MetricType.HISTOGRAM, "Request time.", "ms")


async def test_descriptions_are_listed_by_name_per_project(metrics: MetricStore) -> None:
    await metrics.describe("alpha", [CPU, LATENCY])
    await metrics.describe("beta", [MetricDescription("secret", None, "beta only", "")])

    assert await metrics.descriptions("alpha") == [LATENCY, CPU]
    assert await metrics.descriptions("alpha", prefix="node_") == [CPU]
    assert await metrics.descriptions("alpha", limit=1) == [LATENCY]
    assert await metrics.descriptions("gamma") == []
    assert [d.name for d in await metrics.descriptions("beta")] == ["secret"]


async def test_a_new_description_replaces_the_old_one(metrics: MetricStore) -> None:
    await metrics.describe("alpha", [CPU])
    changed = MetricDescription(CPU.name, MetricType.COUNTER, "Seconds spent, per mode.", "s")
    await metrics.describe("alpha", [changed])
    await metrics.describe("alpha", [changed])  # unchanged: nothing to do

    assert await metrics.descriptions("alpha") == [changed]


async def test_descriptions_survive_a_restart(store_factory: StoreFactory, tmp_path: Path) -> None:
    first: StoreDatabase = await store_factory(tmp_path)
    try:
        await first.metrics.describe("alpha", [CPU, LATENCY])
    finally:
        await first.close()
    second: StoreDatabase = await store_factory(tmp_path)
    try:
        assert await second.metrics.descriptions("alpha") == [LATENCY, CPU]
        # What the restarted store remembers does not stop it storing a change.
        await second.metrics.describe("alpha", [MetricDescription(CPU.name, None, "", "")])
        assert (await second.metrics.descriptions("alpha", prefix="node"))[0].help == ""
    finally:
        await second.close()
