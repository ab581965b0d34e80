"""Two instances on the real Redis sharing one store (DuckDB, the MongoDB emulator): a
revocation made on one is refused by the other on HTTP and on live websockets within
seconds, and by an instance started later; scheduled compliance checks run once per
period across the instances.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from infra.config import Settings
from tests.api.compliance_support import CHECKED, NAMES, POINTS, REVOKE
from tests.api.test_alerting_cluster import open_duckdb
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.support import RunningVigil, WSClient, make_settings, serve, token, ws_client

pytestmark = pytest.mark.redis

SUB = """subscription($p: String!) { metricCollected(project: $p) { value } }"""
RUNS = """query($p: String!) { complianceChecks(project: $p, first: 100) { run instance
  status results { check } } }"""


def named(settings: Settings, name: str) -> Settings:
    return replace(settings, instance=f"{name}-{uuid.uuid4().hex[:6]}")


@pytest.fixture(params=[open_duckdb, open_mongo_emulated], ids=["duckdb", "mongo-emulated"])
async def shared(
    tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Any, Settings]]:
    database = await request.param(tmp_path)
    settings = make_settings(tmp_path, bus_url="redis://127.0.0.1:6379/0")
    try:
        yield database, settings
    finally:
        await database.close()


async def refused(vigil: RunningVigil, auth: str, project: str, within: float) -> float:
    """Seconds until `auth` is refused in `project` on `vigil` (fails after `within`)."""
    start = time.monotonic()
    while True:
        body = await vigil.gql(NAMES, {"p": project}, auth=auth)
        if "errors" in body:
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
            return time.monotonic() - start
        assert time.monotonic() - start < within, "the other instance still serves it"
        await asyncio.sleep(0.05)


async def test_a_revocation_on_one_instance_is_refused_by_every_instance(
    shared: tuple[Any, Settings],
) -> None:
    database, settings = shared
    project = f"p-{uuid.uuid4().hex[:8]}"
    admin, mallory = token(**{project: "admin"}), token("mallory", **{project: "viewer"})
    async with (
        serve(named(settings, "a"), database=database) as a,
        serve(named(settings, "b"), database=database) as b,
        ws_client(b.ws_url, mallory) as ws,
    ):
        op = await ws.subscribe(SUB, {"p": project})
        await a.ok(POINTS, {"p": project, "points": [{"name": "x", "value": 1}]}, auth=admin)
        assert (await ws.next_for(op))["type"] == "next"  # live on B, fed through Redis

        await a.ok(REVOKE, {"p": project, "s": "mallory"}, auth=admin)  # made on A

        await refused(b, mallory, project, within=5)
        ended = await ws.next_for(op, timeout=5)
        assert ended["type"] == "error" and await ws.close_code(timeout=5) == 4403
    async with serve(named(settings, "c"), database=database) as c:  # started afterwards
        body = await c.gql(NAMES, {"p": project}, auth=mallory)
        assert body["errors"][0]["message"] == "token has been revoked"


async def test_a_scheduled_check_runs_once_per_period_across_instances(
    shared: tuple[Any, Settings],
) -> None:
    database, settings = shared
    settings = replace(settings, compliance_check_seconds=2)
    project = f"p-{uuid.uuid4().hex[:8]}"
    admin = token(**{project: "admin"})
    async with (
        serve(named(settings, "a"), database=database) as a,
        serve(named(settings, "b"), database=database) as b,
        ws_client(a.ws_url, admin) as on_a,
        ws_client(b.ws_url, admin) as on_b,
    ):
        ops = [await ws.subscribe(CHECKED, {"p": project}) for ws in (on_a, on_b)]
        await a.ok(POINTS, {"p": project, "points": [{"name": "x", "value": 1}]}, auth=admin)
        seen_a = await runs_heard(on_a, ops[0], at_least=3)
        seen_b = await runs_heard(on_b, ops[1], at_least=3)
        stored = (await b.ok(RUNS, {"p": project}, auth=admin))["complianceChecks"]

    for seen in (seen_a, seen_b):  # every subscriber hears each period once
        assert len(seen) == len(set(seen)) and all(r.startswith("every-2s-") for r in seen)
    common = set(seen_a) & set(seen_b)
    assert len(common) >= 2
    runs = [r["run"] for r in stored]
    assert len(runs) == len(set(runs)) and common <= set(runs)  # one stored run per period
    assert all(r["instance"].startswith(("a-", "b-")) for r in stored)


async def runs_heard(ws: WSClient, op: str, *, at_least: int) -> list[str]:
    """The runs announced to this subscriber, until `at_least` distinct periods were heard
    and one quiet second passed."""
    seen: list[str] = []
    deadline = time.monotonic() + 20
    with contextlib.suppress(TimeoutError):
        while True:
            quiet = 1.5 if len(set(seen)) >= at_least else max(0.1, deadline - time.monotonic())
            message = await ws.next_for(op, timeout=quiet)
            assert message["type"] == "next", message
            event = message["payload"]["data"]["complianceChecked"]
            assert event["scheduled"] and event["status"] in ("PASS", "FAIL")
            seen.append(event["run"])
    assert len(set(seen)) >= at_least, seen
    return seen
