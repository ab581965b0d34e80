"""Retention through the real app: admins read and set a project's policy and legal hold
(audited), others are refused, bad input is refused with BAD_USER_INPUT and changes
nothing, ingest refuses points older than their project's (or metric's) raw retention,
and a run of the retention runner deletes what a shorter policy no longer keeps."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import RunningVigil, make_settings, serve, token, until

DAY = 86_400
ADMIN = token("ann", demo="admin")
FIELDS = """project version updatedBy rawCeiling
  tiers { tier resolution keep }
  overrides { pattern tiers { tier keep } effective { tier keep } }
  legalHold { reason by }"""
READ = f"query($p: String!) {{ retentionPolicy(project: $p) {{ {FIELDS} }} }}"
SET = f"""mutation($p: String!, $policy: RetentionPolicyInput!, $v: Int) {{
  setRetentionPolicy(project: $p, policy: $policy, expectedVersion: $v) {{ {FIELDS} }} }}"""
HOLD = f"""mutation($p: String!, $r: String!) {{
  setLegalHold(project: $p, reason: $r) {{ {FIELDS} }} }}"""
RELEASE = f"""mutation($p: String!) {{ releaseLegalHold(project: $p) {{ {FIELDS} }} }}"""
POINTS = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
LIST = """query($p: String!, $n: String!) { metrics(project: $p, name: $n, first: 100) {
  items { timestamp } } }"""
REPORT = """query($p: String!) { complianceReport(project: $p, framework: SOC2) {
  controls { id check status detail evidence } } }"""
AUDIT = """query($p: String!, $a: String!) { auditLog(project: $p, action: $a) {
  actor outcome detail target changes { field old new } } }"""


def tiers(**keep: str) -> list[dict[str, str]]:
    return [{"tier": {"m1": "1m", "h1": "1h"}.get(k, k), "keep": v} for k, v in keep.items()]


def ago_ms(days: float) -> int:
    return int((time.time() - days * DAY) * 1000)


async def read(vigil: RunningVigil) -> dict[str, Any]:
    found: dict[str, Any] = (await vigil.ok(READ, {"p": "demo"}, auth=ADMIN))["retentionPolicy"]
    return found


async def store(vigil: RunningVigil, name: str, days_ago: float) -> dict[str, Any]:
    point = {"name": name, "value": 1.0, "timestamp": ago_ms(days_ago)}
    return await vigil.gql(POINTS, {"p": "demo", "points": [point]}, auth=ADMIN)


async def stored(vigil: RunningVigil, name: str) -> int:
    found = await vigil.ok(LIST, {"p": "demo", "n": name}, auth=ADMIN)
    return len(found["metrics"]["items"])


async def test_a_project_without_a_policy_shows_the_defaults(vigil: RunningVigil) -> None:
    policy = await read(vigil)
    assert policy["version"] == 0 and policy["legalHold"] is None
    assert policy["tiers"] == [
        {"tier": "raw", "resolution": 0, "keep": 15 * DAY},
        {"tier": "1m", "resolution": 60, "keep": 90 * DAY},
        {"tier": "1h", "resolution": 3600, "keep": 730 * DAY},
    ]
    assert policy["rawCeiling"] == 30 * DAY


async def test_an_admin_sets_a_policy_with_overrides_and_it_is_audited(
    vigil: RunningVigil,
) -> None:
    wanted = {
        "tiers": tiers(raw="20d", m1="180d"),
        "overrides": [{"pattern": "disk.*", "tiers": tiers(raw="30d")}],
    }
    answer = await vigil.ok(SET, {"p": "demo", "policy": wanted}, auth=ADMIN)
    policy = answer["setRetentionPolicy"]
    assert policy == await read(vigil)
    assert policy["version"] == 1 and policy["updatedBy"] == "ann"
    assert [t["keep"] for t in policy["tiers"]] == [20 * DAY, 180 * DAY, 730 * DAY]
    (override,) = policy["overrides"]
    assert override["tiers"] == [{"tier": "raw", "keep": 30 * DAY}]
    assert [t["keep"] for t in override["effective"]] == [30 * DAY, 180 * DAY, 730 * DAY]

    found = await vigil.ok(AUDIT, {"p": "demo", "a": "SetRetentionPolicyCommand"}, auth=ADMIN)
    (entry,) = found["auditLog"]
    assert (entry["actor"], entry["outcome"]) == ("ann", "ok")
    assert entry["target"] == {"project": "demo", "policy_version": "1"}
    changed = {c["field"]: c for c in entry["changes"]}
    assert changed["keep_us"]["new"]["raw"] == 20 * DAY * 1_000_000
    assert changed["overrides"]["new"] == [
        {"pattern": "disk.*", "keep_us": {"raw": 30 * DAY * 1_000_000}}
    ]

    stale = await vigil.gql(SET, {"p": "demo", "policy": wanted, "v": 0}, auth=ADMIN)
    assert stale["errors"][0]["extensions"]["code"] == "CONFLICT"


@pytest.mark.parametrize("role", ["viewer", "editor", "collector"])
async def test_only_admins_read_or_set_retention(vigil: RunningVigil, role: str) -> None:
    other = token("bob", demo=role)
    wanted = {"tiers": tiers(raw="1d")}
    for query, variables in (
        (READ, {"p": "demo"}),
        (SET, {"p": "demo", "policy": wanted}),
        (HOLD, {"p": "demo", "r": "mine"}),
        (RELEASE, {"p": "demo"}),
    ):
        body = await vigil.gql(query, variables, auth=other)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", query
    assert (await read(vigil))["version"] == 0


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"tiers": tiers(raw=0)}, "between 1 hour and 10000 days"),
        ({"tiers": tiers(raw="-5")}, "is not a duration"),
        ({"tiers": tiers(raw="ten days")}, "is not a duration"),
        ({"tiers": tiers(raw="40d")}, "at most 30 days on this instance"),
        ({"tiers": tiers(raw="20d", m1="10d")}, "a coarser tier must be kept"),
        ({"tiers": tiers(h1="30000d")}, "between 1 hour and 10000 days"),
        ({"tiers": [{"tier": "5m", "keep": "1d"}]}, "no tier '5m'"),
        ({"tiers": [{"tier": "raw", "keep": "1d"}] * 2}, "given twice"),
        ({"overrides": [{"pattern": "", "tiers": tiers(raw="1d")}]}, "pattern must be"),
        ({"overrides": [{"pattern": "a*", "tiers": []}]}, "changes no tier"),
        ({"overrides": [{"pattern": "a*", "tiers": tiers(h1="1d")}]}, "coarser tier"),
    ],
)
async def test_a_bad_policy_is_refused_and_changes_nothing(
    vigil: RunningVigil, policy: dict[str, Any], message: str
) -> None:
    body = await vigil.gql(SET, {"p": "demo", "policy": policy}, auth=ADMIN)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in error["message"]
    assert (await read(vigil))["version"] == 0


async def test_a_legal_hold_is_set_released_and_audited(vigil: RunningVigil) -> None:
    held = await vigil.ok(HOLD, {"p": "demo", "r": "case 42"}, auth=ADMIN)
    assert held["setLegalHold"]["legalHold"] == {"reason": "case 42", "by": "ann"}
    blank = await vigil.gql(HOLD, {"p": "demo", "r": "  "}, auth=ADMIN)
    assert blank["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    released = await vigil.ok(RELEASE, {"p": "demo"}, auth=ADMIN)
    assert released["releaseLegalHold"]["legalHold"] is None
    again = await vigil.gql(RELEASE, {"p": "demo"}, auth=ADMIN)
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    for action in ("SetLegalHoldCommand", "ReleaseLegalHoldCommand"):
        found = await vigil.ok(AUDIT, {"p": "demo", "a": action}, auth=ADMIN)
        assert [e["outcome"] for e in found["auditLog"]][-1] == "ok", action


async def test_ingest_refuses_points_past_the_projects_raw_retention(vigil: RunningVigil) -> None:
    refused = await store(vigil, "cpu", days_ago=20)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "older than the retention period" in refused["errors"][0]["message"]

    wanted = {
        "tiers": tiers(raw="25d"),
        "overrides": [{"pattern": "tmp.*", "tiers": tiers(raw="2d")}],
    }
    await vigil.ok(SET, {"p": "demo", "policy": wanted}, auth=ADMIN)
    assert "errors" not in await store(vigil, "cpu", days_ago=20)
    short = await store(vigil, "tmp.x", days_ago=5)
    assert "older than the retention period of its metric" in short["errors"][0]["message"]
    assert "errors" not in await store(vigil, "tmp.x", days_ago=1)
    # The columnar form names the entry and the point inside it.
    entries = [
        {"name": "cpu", "timestamps": [ago_ms(1)], "values": [1.0]},
        {"name": "tmp.y", "timestamps": [ago_ms(1), ago_ms(3)], "values": [1.0, 2.0]},
    ]
    body = await vigil.gql(POINTS, {"p": "demo", "points": entries}, auth=ADMIN)
    (error,) = body["errors"]
    assert error["extensions"]["errors"] == [
        {
            "index": 1,
            "reason": "point 1: timestamp is older than the retention period of its metric",
        }
    ]


async def test_a_run_deletes_what_a_shorter_policy_no_longer_keeps(tmp_path: Path) -> None:
    """Runs on (the default period: the test is over long before the first tick), one
    driven by hand; the compliance control of retention shows the policy and the counts."""
    async with serve(make_settings(tmp_path)) as vigil:
        await vigil.ok(SET, {"p": "demo", "policy": {"tiers": tiers(raw="25d")}}, auth=ADMIN)
        for days in (20, 12, 1):
            assert "errors" not in await store(vigil, "cpu", days_ago=days)
        await vigil.ok(SET, {"p": "demo", "policy": {"tiers": tiers(raw="10d")}}, auth=ADMIN)

        runs = await vigil.app.state.vigil.runtimes.retention.run()

        assert [r.deleted["raw"] for r in runs] == [2]
        assert await stored(vigil, "cpu") == 1
        found = await vigil.ok(AUDIT, {"p": "demo", "a": "ApplyRetention"}, auth=ADMIN)
        (entry,) = found["auditLog"]
        assert (entry["actor"], entry["outcome"]) == ("vigil:retention", "ok")
        # The rollup tiers are wired in (decision 0028): nothing of theirs was old enough.
        assert entry["detail"]["deleted"] == {"raw": 2, "1m": 0, "1h": 0}

        report = await vigil.ok(REPORT, {"p": "demo"}, auth=ADMIN)
        (control,) = [c for c in report["complianceReport"]["controls"] if c["id"] == "CC6.5"]
        assert control["status"] == "PASS"
        assert control["detail"] == "retention raw 10d, 1m 90d, 1h 730d enforced"
        assert control["evidence"]["deletions"] == control["evidence"]["deletions_audited"] == 2


async def test_with_runs_off_the_retention_control_fails(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, retention_run_seconds=0)) as vigil:
        report = await vigil.ok(REPORT, {"p": "demo"}, auth=ADMIN)
        (control,) = [c for c in report["complianceReport"]["controls"] if c["id"] == "CC6.5"]
        assert control["status"] == "FAIL"
        assert "is not enforced" in control["detail"]


async def test_the_runner_applies_policies_by_itself_every_period(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, retention_run_seconds=1)) as vigil:
        await vigil.ok(SET, {"p": "demo", "policy": {"tiers": tiers(raw="25d")}}, auth=ADMIN)
        assert "errors" not in await store(vigil, "cpu", days_ago=20)
        await vigil.ok(SET, {"p": "demo", "policy": {"tiers": tiers(raw="10d")}}, auth=ADMIN)

        async def deleted() -> bool:
            found = await vigil.ok(AUDIT, {"p": "demo", "a": "ApplyRetention"}, auth=ADMIN)
            return any(e["detail"]["deleted"]["raw"] == 1 for e in found["auditLog"])

        await until(deleted, 20, "a scheduled run that deleted the 20-day-old point")
        assert await stored(vigil, "cpu") == 0
