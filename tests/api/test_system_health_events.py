"""Health and access monitoring: `systemHealthChanged` when a component's status moves,
with its reason; security events recorded as metrics in the `system` project."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

from domain.access import SYSTEM_PROJECT
from domain.system.events import SystemHealthChangedEvent
from tests.api.compliance_support import NAMES, REVOKE
from tests.notifications_support import CONFIGURE, TEST_SEND, webhook
from tests.support import make_settings, serve, token, ws_client

CHANGED = """subscription { systemHealthChanged { status previousStatus instance
  components { name status reason changed } } }"""
SERIES = """query($n: String!) { metricSeries(project: "system", name: $n, aggregation: LAST,
  groupBy: ["project", "reason"], from: "2020-01-01T00:00:00Z") { series { tags values } } }"""
ADMIN = token(demo="admin", system="viewer")
HEALTH = SystemHealthChangedEvent.channel_for(SYSTEM_PROJECT)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_store_going_down_is_announced_with_its_reason(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, health_watch_seconds=0.2)
    async with serve(settings) as vigil, ws_client(vigil.ws_url, token(demo="viewer")) as ws:
        op = await ws.subscribe(CHANGED)
        await vigil.listening(HEALTH)
        await vigil.app.state.vigil.stores.metrics.close()
        event = (await ws.next_for(op))["payload"]["data"]["systemHealthChanged"]

    assert (event["status"], event["previousStatus"]) == ("degraded", "ok")
    store = next(c for c in event["components"] if c["name"] == "store")
    assert store == {
        "name": "store",
        "status": "down",
        "reason": "the DuckDB store is closed",
        "changed": True,
    }
    assert [c["name"] for c in event["components"] if c["changed"]] == ["store"]
    assert event["instance"]


async def test_failing_deliveries_degrade_the_notifications_component(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        health_watch_seconds=0.2,
        notify_allow_loopback=True,
        notify_max_attempts=1,
        notify_tick_seconds=0.05,
    )
    async with serve(settings) as vigil:
        hook = webhook(f"http://127.0.0.1:{closed_port()}/hook")
        made = await vigil.ok(CONFIGURE, {"p": "demo", "c": hook}, auth=ADMIN)
        async with ws_client(vigil.ws_url, ADMIN) as ws:
            op = await ws.subscribe(CHANGED)
            await vigil.listening(HEALTH)
            args = {"p": "demo", "id": made["configureNotification"]["id"]}
            await vigil.ok(TEST_SEND, args, auth=ADMIN)  # refused by the closed port: dead
            event = (await ws.next_for(op))["payload"]["data"]["systemHealthChanged"]

    notifications = next(c for c in event["components"] if c["name"] == "notifications")
    assert (event["status"], notifications["status"]) == ("degraded", "degraded")
    assert notifications["reason"] == "1 deliveries dead in the last 10 minutes"


async def test_security_events_become_metrics_of_the_system_project(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, self_monitor_seconds=0.2, security_log_per_source=2)
    async with serve(settings) as vigil:
        await vigil.gql(NAMES, {"p": "demo"}, auth=ADMIN[:-4] + "AAAA")  # bad signature
        for _ in range(3):
            await vigil.gql(NAMES, {"p": "demo"})  # no token; the third is past the limit
        await vigil.gql(NAMES, {"p": "demo"}, auth=token(other="viewer"))  # no role in demo
        await vigil.gql(
            'mutation { createAlert(project: "demo", rule: {name: "x", metric: "c",'
            " threshold: 1}) { id } }",
            auth=token("vic", demo="viewer"),
        )
        await vigil.ok(REVOKE, {"p": "demo", "s": "mallory"}, auth=ADMIN)
        await vigil.gql(NAMES, {"p": "demo"}, auth=token("mallory", demo="viewer"))

        async def totals(name: str) -> dict[tuple[str, str], float]:
            lines = (await vigil.ok(SERIES, {"n": name}, auth=ADMIN))["metricSeries"]["series"]
            return {
                (s["tags"].get("project", ""), s["tags"].get("reason", "")): [
                    v for v in s["values"] if v is not None
                ][-1]
                for s in lines
            }

        deadline = time.monotonic() + 10
        while not await totals("vigil.security.revoked_token_use_total"):
            assert time.monotonic() < deadline, "self-monitoring recorded nothing"
            await asyncio.sleep(0.1)
        found: dict[str, Any] = {
            name: await totals(f"vigil.security.{name}_total")
            for name in (
                "refused_tokens",
                "refused_permissions",
                "rate_limited",
                "revoked_token_use",
            )
        }

    assert found["refused_tokens"] == {("", "bad_signature"): 1, ("", "missing"): 3}
    assert found["refused_permissions"] == {("", "read"): 1, ("demo", "edit"): 1}
    assert found["rate_limited"][("", "refused_tokens")] >= 1
    assert found["revoked_token_use"] == {("demo", "revoked"): 1}
