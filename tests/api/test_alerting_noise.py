"""`alertNoise` through the real app: a flapping rule's figures from its stored history,
and a `for` suggestion backtested on the same points that keeps the acknowledged firing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api.anomaly_support import ADMIN, point, send
from tests.support import RunningVigil, make_settings, serve

NOISE = """query($p: String!) { alertNoise(project: $p) {
  alert { name state } days firings firingsPerDay quickResolveShare flappingShare
  neverAcknowledgedShare medianResolveSeconds noiseScore note
  suggestions { change firings baselineFirings missedAcknowledged acknowledged text } } }"""
CREATE = """mutation($p: String!, $rule: AlertRuleInput!) {
  createAlert(project: $p, rule: $rule) { id } }"""
ACK = """mutation($p: String!, $id: ID!) {
  acknowledgeAlert(project: $p, alertId: $id, comment: "real") { state } }"""
WEB1 = {"host": "web-1"}


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    async with serve(make_settings(tmp_path, alert_tick_seconds=3600)) as running:
        yield running


async def test_a_flapping_rule_is_the_noisiest_and_for_would_quiet_it(vigil: RunningVigil) -> None:
    now = time.time()
    start = now - 2400
    await send(vigil, [point("cpu", 10.0, WEB1, start - 60), point("calm", 1.0, WEB1, start)])
    rule = {"name": "cpu flaps", "metric": "cpu", "threshold": 50, "aggregation": "LAST",
            "window": "30s", "groupBy": ["host"]}  # fmt: skip
    made = await vigil.ok(CREATE, {"p": "demo", "rule": rule}, auth=ADMIN)
    alert_id = made["createAlert"]["id"]
    calm = {"name": "calm", "metric": "calm", "threshold": 50, "aggregation": "LAST"}
    await vigil.ok(CREATE, {"p": "demo", "rule": calm}, auth=ADMIN)
    # 30 minutes of 20 s above, 20 s below (45 firings, each over in 20 s), then 5 minutes
    # above until now: the firing someone acknowledges.
    flaps = [point("cpu", 60.0 if i % 2 == 0 else 40.0, WEB1, start + i * 20) for i in range(90)]
    held = [point("cpu", 70.0, WEB1, start + 1800 + i * 10) for i in range(1, 31)]
    await send(vigil, flaps)
    await send(vigil, held)
    await vigil.ok(ACK, {"p": "demo", "id": alert_id}, auth=ADMIN)

    found = (await vigil.ok(NOISE, {"p": "demo"}, auth=ADMIN))["alertNoise"]
    noisy, quiet = found
    assert (noisy["alert"]["name"], quiet["alert"]["name"]) == ("cpu flaps", "calm")
    assert noisy["firings"] == 46 and noisy["days"] == 7
    assert noisy["quickResolveShare"] == pytest.approx(45 / 46)
    assert noisy["flappingShare"] == pytest.approx(45 / 46)  # fired again 20 s after resolving
    assert noisy["neverAcknowledgedShare"] == pytest.approx(45 / 46)
    assert noisy["medianResolveSeconds"] == pytest.approx(20.0)
    assert noisy["noiseScore"] == pytest.approx(45 / 7)
    best = noisy["suggestions"][0]
    assert best["change"] == "for: 1m"
    assert (best["firings"], best["baselineFirings"]) == (1, 46)
    assert (best["missedAcknowledged"], best["acknowledged"]) == (0, 1)
    assert best["text"] == (
        "with `for: 1m` this rule would have fired 1 times instead of 46 in the last 7 days, "
        "missing none of the 1 firings that were acknowledged"
    )
    assert (quiet["firings"], quiet["noiseScore"], quiet["suggestions"]) == (0, 0.0, [])
    assert quiet["note"] == "it did not fire in the period"
