"""A sender retries a whole request (its answer was lost): a user still sees each point once.

Storing the same (series, timestamp) again keeps one point, last write wins (decision
0021).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from infra.collectors.prometheus import CONTENT_TYPE_V1
from tests.api.collectors_support import points
from tests.api.test_collectors_refusals import snappy, v1_request_of
from tests.support import make_settings, serve, token

COLLECTOR = token("agent", demo="collector")
NOW_NS = time.time_ns()
OTLP_BODY = (
    b'{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "up", "gauge": '
    b'{"dataPoints": [{"timeUnixNano": "%d", "asDouble": 1, '
    b'"attributes": [{"key": "instance", "value": {"stringValue": "host-0"}}]}]}}]}]}]}'
) % NOW_NS


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/v1/write", CONTENT_TYPE_V1, snappy(v1_request_of(3))),
        ("/v1/metrics", "application/json", OTLP_BODY),
    ],
    ids=["remote-write", "otlp"],
)
async def test_a_retried_request_is_stored_once(
    tmp_path: Path, path: str, content_type: str, body: bytes
) -> None:
    headers = {"Authorization": f"Bearer {COLLECTOR}", "Content-Type": content_type}
    async with serve(make_settings(tmp_path)) as vigil:
        for _ in range(2):
            answer = await vigil.http.post(path, content=body, headers=headers)
            assert answer.status_code in (200, 204)
        stored = await points(vigil, "up")
        assert len({p["tags"]["instance"] for p in stored}) == len(stored)
