"""Issue 12, item 8: token buckets per caller and per project. A flooding tenant meets
RATE_LIMITED (HTTP 429, `Retry-After`, `extensions.retryAfter`) on GraphQL and 429 on the
collector endpoints, nothing of a refused batch is stored, and another tenant's requests
sent meanwhile all succeed.

Rates are set so low (one point or operation an hour) that no refill happens during the
test: which requests pass depends on the bursts alone, not on the machine's speed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import RunningVigil, make_settings, serve, token

FLOODER = token("flood-bot", noisy="collector")
QUIET = token("quiet-bot", calm="collector")
READER = token("reader", noisy="viewer", calm="viewer")
BATCH = 1_000
PROJECT_POINTS_BURST = 3_000  # three batches of the flooder, then refused
SLOW = 1 / 3600  # per second: nothing refills during a test

INGEST = """mutation($project: String!, $points: PointBatch!) {
  createMetrics(project: $project, points: $points) { accepted } }"""
COUNT = """query($project: String!) { metricSeries(project: $project, name: "load",
  from: "2020-01-01T00:00:00Z", aggregation: COUNT) { series { values } } }"""


def batch(offset_ms: int, size: int) -> list[dict[str, Any]]:
    start = (int(time.time()) - 1800) * 1000 + offset_ms
    return [{"name": "load", "value": 1.0, "timestamp": start + i} for i in range(size)]


async def ingest(vigil: RunningVigil, auth: str, project: str, offset: int, size: int) -> Any:
    return await vigil.http.post(
        "/graphql",
        json={"query": INGEST, "variables": {"project": project, "points": batch(offset, size)}},
        headers={"Authorization": f"Bearer {auth}"},
    )


async def stored(vigil: RunningVigil, project: str) -> float:
    data = await vigil.ok(COUNT, {"project": project}, auth=READER)
    return sum(sum(s["values"]) for s in data["metricSeries"]["series"])


def assert_rate_limited(answer: httpx.Response) -> None:
    assert answer.status_code == 429, answer.text
    seconds = int(answer.headers["retry-after"])
    assert seconds >= 1
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == seconds


async def test_a_flooding_project_is_rate_limited_while_another_is_served(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        tmp_path,
        rate_project_points_per_second=SLOW,
        rate_project_points_burst=PROJECT_POINTS_BURST,
        # the same end at the collector endpoint: its own project, by request count
        rate_project_operations_per_second=SLOW,
        rate_project_operations_burst=40,
    )
    async with serve(settings) as vigil:
        flood = [ingest(vigil, FLOODER, "noisy", i * BATCH, BATCH) for i in range(12)]
        calm = [ingest(vigil, QUIET, "calm", i * 10, 10) for i in range(12)]
        answers = await asyncio.gather(*flood, *calm)
        flooded, served = answers[:12], answers[12:]

        accepted = [a for a in flooded if a.status_code == 200]
        assert len(accepted) == PROJECT_POINTS_BURST // BATCH, [a.text for a in flooded]
        for answer in flooded:
            if answer.status_code != 200:
                assert_rate_limited(answer)
        for answer in served:  # the other tenant: every request through, none refused
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"data": {"createMetrics": {"accepted": 10}}}
        # a refused batch stored nothing
        assert await stored(vigil, "noisy") == PROJECT_POINTS_BURST
        assert await stored(vigil, "calm") == 12 * 10

        # The collector endpoints answer 429 for the flooding project, 204 for the other.
        line = b"load,host=a value=1 %d\n" % time.time_ns()
        for project, auth, status in (("noisy", FLOODER, 429), ("calm", QUIET, 204)):
            answer = await vigil.http.post(
                f"/api/v2/write?project={project}&bucket=b&precision=ns",
                content=line,
                headers={"Authorization": f"Token {auth}"},
            )
            assert answer.status_code == status, answer.text
            if status == 429:
                assert int(answer.headers["retry-after"]) >= 1


async def test_a_caller_past_its_operations_is_refused_until_its_bucket_refills(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        tmp_path, rate_caller_operations_per_second=SLOW, rate_caller_operations_burst=5
    )
    async with serve(settings) as vigil:
        for i in range(5):
            answer = await ingest(vigil, FLOODER, "noisy", i, 1)
            assert answer.status_code == 200, answer.text
        refused = await ingest(vigil, FLOODER, "noisy", 99, 1)
        assert_rate_limited(refused)
        # refused again before its body is read (the edge knows the caller now) ...
        assert_rate_limited(await ingest(vigil, FLOODER, "noisy", 100, BATCH))
        # ... and at a collector endpoint too
        answer = await vigil.http.post(
            "/api/v2/write?project=noisy&bucket=b",
            content=b"load value=1\n",
            headers={"Authorization": f"Token {FLOODER}"},
        )
        assert answer.status_code == 429 and int(answer.headers["retry-after"]) >= 1
        # another caller is not concerned
        for i in range(5):
            answer = await ingest(vigil, QUIET, "calm", i, 1)
            assert answer.status_code == 200, answer.text
        assert await stored(vigil, "noisy") == 5
