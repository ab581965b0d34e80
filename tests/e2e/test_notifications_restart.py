"""A real `vigil serve` killed while a delivery is in flight sends it again after restart,
once, with the same idempotency id."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import VigilProcess
from tests.notifications_support import (
    CONFIGURE,
    CREATE_ALERT,
    CREATE_POINTS,
    DELIVERIES,
    POLICY,
    receiver,
    webhook,
)
from tests.support import token

pytestmark = pytest.mark.e2e
ADMIN = token(demo="admin")


def gql(vigil: VigilProcess, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{vigil.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=10,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_a_delivery_cut_by_a_crash_is_sent_once_more_with_the_same_id(
    tmp_path: Path, vigil_process: Callable[..., VigilProcess]
) -> None:
    with receiver(tmp_path, "hang") as hook:
        vigil = vigil_process(
            VIGIL_NOTIFY_ALLOW_LOOPBACK="true",
            VIGIL_NOTIFY_TIMEOUT_SECONDS="2",  # a claim lapses after 2 * 2 + 5 s
            VIGIL_NOTIFY_TICK_SECONDS="0.1",
        )
        made = gql(vigil, CONFIGURE, {"p": "demo", "c": webhook(hook.url)})
        channel = made["configureNotification"]["id"]
        policy = {"route": {"channels": [channel], "group_wait": 0}}
        gql(vigil, POLICY, {"p": "demo", "policy": policy})
        seed = [{"name": "cpu", "value": 1.0, "tags": {"host": "web-1"}}]
        gql(vigil, CREATE_POINTS, {"p": "demo", "points": seed})
        rule = {"name": "cpu high", "metric": "cpu", "threshold": 90, "aggregation": "LAST"}
        gql(vigil, CREATE_ALERT, {"p": "demo", "rule": rule})
        hot = [{"name": "cpu", "value": 99.0, "tags": {"host": "web-1"}}]
        gql(vigil, CREATE_POINTS, {"p": "demo", "points": hot})

        (first,) = hook.wait_for(1)  # stored, attempted, and the receiver holds it
        vigil.kill()
        vigil.start()
        _, second = hook.wait_for(2, timeout=30)
        time.sleep(1.0)
        assert len(hook.requests()) == 2  # once more, not more
        listed = gql(vigil, DELIVERIES, {"p": "demo"})["notificationDeliveries"]
    delivery_id = first["headers"]["X-Vigil-Delivery"]
    assert second["headers"]["X-Vigil-Delivery"] == delivery_id
    assert second["body"] == first["body"]
    (delivery,) = listed
    assert (delivery["id"], delivery["state"]) == (delivery_id, "DELIVERED")
    assert [a["statusCode"] for a in delivery["attempts"]] == [200]
