"""Issue 12, item 1, at the edge: while the in-flight bound is taken (here one request,
its body still arriving), the next ingest is answered at once, unread: 503 with
`Retry-After` at a collector endpoint, `UNAVAILABLE` with `retryAfter` at /graphql; and
once the slow request ends, ingest is served again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

from tests.support import make_settings, serve, token, until

COLLECTOR = token("agent", demo="collector")
AUTH = {"Authorization": f"Token {COLLECTOR}"}
WRITE = "/api/v2/write?bucket=b&precision=ns"
INGEST = """mutation { createMetrics(project: "demo", points: [{name: "load", value: 1}])
  { accepted } }"""


def line(host: str) -> bytes:
    return b"load,host=%s value=1 %d\n" % (host.encode(), time.time_ns())


async def test_ingest_past_the_in_flight_bound_is_answered_503_at_once(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, ingest_max_inflight_requests=1)) as vigil:
        inflight = vigil.app.state.vigil.admission.inflight
        release = asyncio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            yield line("slow")
            await release.wait()  # the body is not finished until the test says so

        slow = asyncio.create_task(vigil.http.post(WRITE, content=slow_body(), headers=AUTH))
        await until(lambda: inflight.requests == 1, 10, "the slow request in flight")

        refused = await vigil.http.post(WRITE, content=line("a"), headers=AUTH)
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "1"
        answer = await vigil.http.post(
            "/graphql", json={"query": INGEST}, headers={"Authorization": f"Bearer {COLLECTOR}"}
        )
        assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
        (error,) = answer.json()["errors"]
        assert error["extensions"] == {"code": "UNAVAILABLE", "retryAfter": 1}

        release.set()
        assert (await slow).status_code == 204
        assert inflight.requests == 0 and inflight.bytes == 0
        served = await vigil.http.post(WRITE, content=line("b"), headers=AUTH)
        assert served.status_code == 204, served.text
