"""Metric names, tag keys and tag values: sorted, distinct, and per project."""

from __future__ import annotations

import pytest

from domain.metrics.ports import MetricStore
from tests.contract.data import NOW_US, Point, point_batch


@pytest.fixture(autouse=True)
async def loaded(metrics: MetricStore) -> None:
    await metrics.append(
        point_batch(
            "alpha",
            [
                Point("http.requests", {"host": "web-2", "method": "GET"}, NOW_US, 1.0),
                Point("http.requests", {"host": "web-1", "method": "POST"}, NOW_US, 1.0),
                Point("http.latency", {"host": "web-1", "route": "/"}, NOW_US, 1.0),
                Point("cpu", {"host": "db-1", "core": "0"}, NOW_US, 1.0),
                Point("cpu", {"host": "db-1", "core": "1"}, NOW_US, 1.0),
            ],
        )
    )
    await metrics.append(
        point_batch("beta", [Point("secret.metric", {"tenant": "beta-only"}, NOW_US, 1.0)])
    )


async def test_metric_names(metrics: MetricStore) -> None:
    assert await metrics.metric_names("alpha") == ["cpu", "http.latency", "http.requests"]
    assert await metrics.metric_names("alpha", prefix="http.") == [
        "http.latency",
        "http.requests",
    ]
    assert await metrics.metric_names("alpha", limit=2) == ["cpu", "http.latency"]
    assert await metrics.metric_names("beta") == ["secret.metric"]
    assert await metrics.metric_names("gamma") == []


async def test_tag_keys(metrics: MetricStore) -> None:
    assert await metrics.tag_keys("alpha") == ["core", "host", "method", "route"]
    assert await metrics.tag_keys("alpha", "http.requests") == ["host", "method"]
    assert await metrics.tag_keys("alpha", "nothing") == []
    assert await metrics.tag_keys("beta") == ["tenant"]


async def test_tag_values(metrics: MetricStore) -> None:
    assert await metrics.tag_values("alpha", "host") == ["db-1", "web-1", "web-2"]
    assert await metrics.tag_values("alpha", "host", "http.requests") == ["web-1", "web-2"]
    assert await metrics.tag_values("alpha", "host", limit=1) == ["db-1"]
    assert await metrics.tag_values("alpha", "tenant") == []
    assert await metrics.tag_values("beta", "tenant") == ["beta-only"]


async def test_ping_answers_a_version(metrics: MetricStore) -> None:
    version = await metrics.ping()
    assert isinstance(version, str)
    assert version
