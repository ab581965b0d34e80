"""Alerts end to end: a real `vigil serve`, a collector over HTTP, subscribers over websockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import VigilProcess
from tests.support import MARKER, WSClient, primed, token, ws_client

pytestmark = pytest.mark.e2e

POINTS = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
CREATE = """mutation($p: String!, $rule: AlertRuleInput!) {
  createAlert(project: $p, rule: $rule) { id state } }"""
STATE = """query($p: String!, $id: ID!) { alert(project: $p, id: $id) {
  state instances { key state since } history { from to reason at } } }"""
HEALTH = "{ systemHealth { uptimeSeconds } }"
ACK = """mutation($p: String!, $id: ID!) {
  acknowledgeAlert(project: $p, alertId: $id, comment: "on it") { state } }"""
RESOLVE = """mutation($p: String!, $id: ID!) {
  resolveAlert(project: $p, alertId: $id, comment: "fixed") { state } }"""
TRIGGERED = """subscription($p: String!) {
  alertTriggered(project: $p) { alertId tags value at } }"""
RESOLVED = """subscription($p: String!) {
  alertResolved(project: $p) { alertId by comment reason } }"""
RULE = {
    "name": "cpu high",
    "metric": "cpu",
    "threshold": 90,
    "aggregation": "LAST",
    "groupBy": ["host"],
}
ADMIN = token(demo="admin")
TICK = {"VIGIL_ALERT_TICK_SECONDS": "0.5"}


async def post(vigil: VigilProcess, query: str, variables: dict[str, Any], auth: str) -> Any:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{vigil.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {auth}"},
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def send(vigil: VigilProcess, value: float, project: str = "demo") -> None:
    points = [{"name": "cpu", "value": value, "tags": {"host": "web-1"}}]
    await post(vigil, POINTS, {"p": project, "points": points}, token(**{project: "collector"}))


async def state(vigil: VigilProcess, alert_id: str) -> dict[str, Any]:
    data = await post(vigil, STATE, {"p": "demo", "id": alert_id}, ADMIN)
    alert: dict[str, Any] = data["alert"]
    return alert


async def data_of(client: WSClient, op: str, field: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next event of `op` that is not about a marker alert (`primed_alerts`)."""
    while True:
        message = await client.next_for(op, timeout)
        assert message["type"] == "next", message
        payload: dict[str, Any] = message["payload"]["data"][field]
        if payload["alertId"] not in MARKERS:
            return payload


MARKER_RULE = {"name": "marker", "metric": MARKER, "threshold": 0, "aggregation": "LAST"}
MARKERS: set[str] = set()  # the ids of the marker alerts


async def marker_alert(vigil: VigilProcess, project: str) -> Callable[[int], Awaitable[None]]:
    """An alert on the MARKER metric of `project`, and what `primed` sends to fire it
    with value n: -1 first (it resolves, if it had fired), then n."""
    admin = token(**{project: "admin"})

    async def send_marker(value: float) -> None:
        points = [{"name": MARKER, "value": value}]
        await post(vigil, POINTS, {"p": project, "points": points}, admin)

    await send_marker(-1.0)  # an alert names a metric the project has
    made = await post(vigil, CREATE, {"p": project, "rule": MARKER_RULE}, admin)
    MARKERS.add(made["createAlert"]["id"])

    async def poke(n: int) -> None:
        await send_marker(-1.0)
        await send_marker(float(n))

    return poke


def fired_marker(message: dict[str, Any]) -> int:
    event = message["payload"]["data"]["alertTriggered"]
    return int(event["value"]) if event["alertId"] in MARKERS else 0


async def test_a_crossing_reaches_subscribers_of_its_project_only(
    vigil_process: Callable[..., VigilProcess],
) -> None:
    vigil = vigil_process(**TICK)
    await send(vigil, 10.0)
    await send(vigil, 10.0, project="other")
    alert = (await post(vigil, CREATE, {"p": "demo", "rule": RULE}, ADMIN))["createAlert"]
    pokes = {project: await marker_alert(vigil, project) for project in ("demo", "other")}

    async with (
        ws_client(vigil.ws_url, token(demo="viewer")) as watcher,
        ws_client(vigil.ws_url, token(other="admin")) as stranger,
    ):
        fired = await watcher.subscribe(TRIGGERED, {"p": "demo"})
        resolved = await watcher.subscribe(RESOLVED, {"p": "demo"})
        theirs = await stranger.subscribe(TRIGGERED, {"p": "other"})
        denied = await stranger.subscribe(TRIGGERED, {"p": "demo"})
        refusal = await stranger.next_for(denied)
        assert refusal["type"] == "error" or refusal["payload"]["errors"], refusal
        # The server handles a connection's messages in order: with `fired` served,
        # `resolved` (subscribed just after it) is being served too.
        await primed(watcher, fired, pokes["demo"], marker_of=fired_marker)
        await primed(stranger, theirs, pokes["other"], marker_of=fired_marker)

        await send(vigil, 95.0)
        event = await data_of(watcher, fired, "alertTriggered")
        assert (event["alertId"], event["tags"], event["value"]) == (
            alert["id"],
            {"host": "web-1"},
            95.0,
        )
        assert (await state(vigil, alert["id"]))["state"] == "FIRING"

        acked = await post(vigil, ACK, {"p": "demo", "id": alert["id"]}, token(demo="editor"))
        assert acked["acknowledgeAlert"]["state"] == "ACKNOWLEDGED"
        await send(vigil, 96.0)  # still above: stays acknowledged, nothing fires again
        assert (await state(vigil, alert["id"]))["state"] == "ACKNOWLEDGED"

        await post(vigil, RESOLVE, {"p": "demo", "id": alert["id"]}, token("bob", demo="editor"))
        event = await data_of(watcher, resolved, "alertResolved")
        assert event == {
            "alertId": alert["id"],
            "by": "bob",
            "comment": "fixed",
            "reason": "resolved by hand",
        }
        # As documented: a condition still holding fires again at the next evaluation...
        again = await data_of(watcher, fired, "alertTriggered")
        assert again["value"] == 96.0
        # ...and the alert resolves by itself once the value is back under the threshold.
        await send(vigil, 10.0)
        event = await data_of(watcher, resolved, "alertResolved")
        assert (event["by"], event["reason"]) == ("", "condition cleared")
        history = (await state(vigil, alert["id"]))["history"]
        assert [(h["from"], h["to"]) for h in reversed(history)] == [
            ("OK", "FIRING"),
            ("FIRING", "ACKNOWLEDGED"),
            ("ACKNOWLEDGED", "RESOLVED"),
            ("RESOLVED", "FIRING"),
            ("FIRING", "RESOLVED"),
        ]

        with pytest.raises(TimeoutError):  # project `other` heard nothing of demo's alert
            await stranger.next_for(theirs, timeout=1.0)


PENDING_FOR = 10


async def test_a_pending_alert_survives_a_kill_and_fires_on_time(
    vigil_process: Callable[..., VigilProcess],
) -> None:
    """`for` = 10 s, killed while PENDING: after the restart it fires 10 s after the crossing
    (its pending start was restored), not 10 s after the restart. However long the restart
    takes on a loaded machine: the firing time is read from the alert's history, and
    compared with the moment the new process started (`systemHealth.uptimeSeconds`)."""
    vigil = vigil_process(**TICK)
    await send(vigil, 10.0)
    rule = RULE | {"for": PENDING_FOR, "window": "1m"}
    alert_id = (await post(vigil, CREATE, {"p": "demo", "rule": rule}, ADMIN))["createAlert"]["id"]

    crossed = time.time()
    await send(vigil, 95.0)
    pending = await state(vigil, alert_id)
    assert pending["state"] == "PENDING"
    await asyncio.sleep(1.5)
    assert (await state(vigil, alert_id))["state"] == "PENDING"

    vigil.kill()
    await asyncio.to_thread(vigil.start)
    health = (await post(vigil, HEALTH, {}, ADMIN))["systemHealth"]
    started = time.time() - health["uptimeSeconds"]  # when the new process began serving
    after = await state(vigil, alert_id)
    if after["state"] == "PENDING":  # the restart ended inside the pending period
        assert after["instances"] == pending["instances"]

    # It fires by the first tick past the later of the restored period's end and the
    # start; the bound adds the pending period again as a margin for a loaded machine.
    feeding = asyncio.create_task(_keep_sending(vigil, 95.0))
    try:
        deadline = max(crossed + PENDING_FOR, time.time()) + PENDING_FOR
        while (history := (await state(vigil, alert_id))["history"])[0]["to"] != "FIRING":
            assert time.time() < deadline, history
            await asyncio.sleep(float(TICK["VIGIL_ALERT_TICK_SECONDS"]))
    finally:
        feeding.cancel()
    assert [(h["from"], h["to"]) for h in history] == [("PENDING", "FIRING"), ("OK", "PENDING")]
    fired = datetime.fromisoformat(history[0]["at"]).timestamp()
    assert crossed + PENDING_FOR <= fired + 0.05, "fired before its pending period"
    # Restarted with the process, the period would end PENDING_FOR after `started`.
    assert fired < started + PENDING_FOR, "the pending period restarted with the process"


async def _keep_sending(vigil: VigilProcess, value: float) -> None:
    while True:
        await send(vigil, value)
        await asyncio.sleep(0.25)
