"""The audit trail through /graphql: what an entry says, where refusals go, and the chain
that shows a single entry edited, deleted or moved directly in the store (DuckDB and the
MongoDB emulator), located by `verifyAuditLog`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.config import Settings
from tests.api.compliance_support import AUDIT, NAMES, POINTS, VERIFY, DuckDBAudit, MongoAudit
from tests.contract.mongo_emulator import open_mongo_emulated
from tests.notifications_support import CONFIGURE, webhook
from tests.support import RunningVigil, make_settings, serve, token

ADMIN = token(demo="admin")
UPDATE_ALERT = """mutation($p: String!, $id: ID!, $v: Int!, $rule: AlertRuleInput) {
  updateAlert(project: $p, alertId: $id, expectedVersion: $v, rule: $rule) { version } }"""
CREATE_ALERT = """mutation($p: String!, $rule: AlertRuleInput!) {
  createAlert(project: $p, rule: $rule) { id version } }"""


async def entries(vigil: RunningVigil, project: str = "demo", auth: str = ADMIN) -> list[Any]:
    found: list[Any] = (await vigil.ok(AUDIT, {"p": project, "first": 500}, auth=auth))["auditLog"]
    return found


async def test_an_entry_names_role_target_changes_and_client_and_never_a_secret(
    vigil: RunningVigil,
) -> None:
    await vigil.ok(POINTS, {"p": "demo", "points": [{"name": "cpu", "value": 1}]}, auth=ADMIN)
    rule = {"name": "cpu high", "metric": "cpu", "threshold": 90}
    alert = (await vigil.ok(CREATE_ALERT, {"p": "demo", "rule": rule}, auth=ADMIN))["createAlert"]
    await vigil.ok(
        UPDATE_ALERT,
        {"p": "demo", "id": alert["id"], "v": alert["version"], "rule": {**rule, "threshold": 95}},
        auth=ADMIN,
    )
    hook = webhook("https://8.8.8.8/hook", secret="first-s3cret-of-24-bytes-or-more")
    channel = (await vigil.ok(CONFIGURE, {"p": "demo", "c": hook}, auth=ADMIN))[
        "configureNotification"
    ]
    await vigil.ok(
        CONFIGURE,
        {"p": "demo", "id": channel["id"], "c": {"secret": "second-s3cret-of-24-bytes-or-more"}},
        auth=ADMIN,
    )

    log = await entries(vigil)
    by_action = {e["action"]: e for e in log}
    update = by_action["UpdateAlertCommand"]
    assert (update["actor"], update["role"], update["outcome"]) == ("alice", "admin", "ok")
    assert update["target"] == {"alert": alert["id"]} and update["client"] == "127.0.0.1"
    assert {"field": "rule.threshold", "old": 90.0, "new": 95.0, "redacted": False} in update[
        "changes"
    ]
    secret_change = next(e for e in log if e["action"] == "ConfigureNotificationCommand")
    assert secret_change["target"] == {"channel": channel["id"]}
    assert secret_change["changes"] == [
        {"field": "secret", "old": None, "new": None, "redacted": True}
    ]
    assert "s3cret" not in str(log)
    assert [e["chainIndex"] for e in log] == list(range(len(log), 0, -1))


async def test_outsiders_refusals_go_to_the_security_log_counted_past_a_limit(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, security_log_per_source=5)
    async with serve(settings) as vigil:
        for _ in range(30):  # what flooded a tenant's log before: anonymous requests
            await vigil.gql(NAMES, {"p": "demo"})
        await vigil.gql(NAMES, {"p": "demo"}, auth=token(other="viewer"))  # not a member
        await vigil.gql(NAMES, {"p": "demo"}, auth=ADMIN[:-4] + "AAAA")  # forged signature
        viewer = token("vic", demo="viewer")
        body = await vigil.gql(
            'mutation { createAlert(project: "demo", rule: {name: "x", metric: "cpu",'
            " threshold: 1}) { id } }",
            auth=viewer,
        )
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with serve(settings) as vigil:  # closing wrote the count of what was suppressed
        tenant = await entries(vigil)
        security = await entries(vigil, "system", auth=token(system="admin"))

    assert [(e["actor"], e["role"], e["outcome"]) for e in tenant] == [
        ("vic", "viewer", "FORBIDDEN")  # a member's refusal stays in its project's log
    ]
    assert (
        sum(e["actor"] == "anonymous" and e["action"] == "query:metricNames" for e in security) == 5
    )
    suppressed = [e for e in security if e["action"] == "suppressed"]
    assert [(e["client"], e["detail"]["refusals"]) for e in suppressed] == [("127.0.0.1", 27)]
    assert all(e["detail"].get("asked_project") in (None, "demo") for e in security)


@pytest.fixture(params=["duckdb", "mongo-emulated"])
async def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


Restart = Callable[[Callable[[Any], None]], Awaitable[RunningVigil]]


@pytest.fixture
async def tampered(store_kind: str, tmp_path: Path) -> AsyncIterator[Any]:
    """A Vigil with 6 audit entries in project `demo`, and a way to change the store
    behind its back, then look again (restarting Vigil when DuckDB needs its file)."""
    settings = make_settings(tmp_path)
    points = {"p": "demo", "points": [{"name": "cpu", "value": 1}]}
    if store_kind == "duckdb":
        async with serve(settings) as vigil:
            for _ in range(6):
                await vigil.ok(POINTS, points, auth=ADMIN)
        yield _DuckDBCase(settings, DuckDBAudit(tmp_path / "vigil.duckdb"))
        return
    database = await open_mongo_emulated(tmp_path)
    try:
        async with serve(settings, database=database) as vigil:
            for _ in range(6):
                await vigil.ok(POINTS, points, auth=ADMIN)
            yield _MongoCase(vigil, MongoAudit(tmp_path))
    finally:
        await database.close()


class _DuckDBCase:
    def __init__(self, settings: Settings, rows: DuckDBAudit) -> None:
        self.settings, self.rows = settings, rows

    async def verify(self) -> dict[str, Any]:
        async with serve(self.settings) as vigil:
            found: dict[str, Any] = (await vigil.ok(VERIFY, {"p": "demo"}, auth=ADMIN))[
                "verifyAuditLog"
            ]
            return found


class _MongoCase:
    def __init__(self, vigil: RunningVigil, rows: MongoAudit) -> None:
        self.vigil, self.rows = vigil, rows

    async def verify(self) -> dict[str, Any]:
        found: dict[str, Any] = (await self.vigil.ok(VERIFY, {"p": "demo"}, auth=ADMIN))[
            "verifyAuditLog"
        ]
        return found


async def test_an_untampered_log_verifies(tampered: Any) -> None:
    found = await tampered.verify()
    assert (found["verified"], found["entriesChecked"], found["headIndex"]) == (True, 6, 6)
    assert found["firstBreak"] is None


async def test_an_entry_edited_in_the_store_is_found(tampered: Any) -> None:
    seq = tampered.rows.seq_at("demo", 3)
    tampered.rows.edit("demo", 3)
    found = await tampered.verify()
    assert not found["verified"]
    assert found["firstBreak"]["kind"] == "EDITED"
    assert (found["firstBreak"]["chainIndex"], found["firstBreak"]["seq"]) == (3, seq)


async def test_an_entry_deleted_in_the_store_is_found(tampered: Any) -> None:
    tampered.rows.delete("demo", 4)
    found = await tampered.verify()
    assert (found["firstBreak"]["kind"], found["firstBreak"]["chainIndex"]) == ("MISSING", 4)
    assert found["entriesChecked"] == 3  # the entries before the break held


async def test_two_entries_reordered_in_the_store_are_found(tampered: Any) -> None:
    tampered.rows.swap("demo", 2, 3)
    found = await tampered.verify()
    assert (found["firstBreak"]["kind"], found["firstBreak"]["chainIndex"]) == ("MOVED", 2)
    assert "written at index 3" in found["firstBreak"]["detail"]


async def test_a_cut_tail_is_found_by_the_signed_checkpoint(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with serve(settings) as vigil:
        for _ in range(3):
            await vigil.ok(POINTS, {"p": "demo", "points": [{"name": "c", "value": 1}]}, auth=ADMIN)
    async with serve(settings) as vigil:  # the checkpoint job signs the head once started
        for _ in range(100):
            sealed = (await vigil.ok(VERIFY, {"p": "demo"}, auth=ADMIN))["verifyAuditLog"]
            if sealed["lastCheckpoint"] is not None:
                break
            await asyncio.sleep(0.05)
    assert sealed["lastCheckpoint"]["chainIndex"] == 3 and sealed["checkpointsVerified"] == 1
    assert sealed["lastCheckpoint"]["keyId"].startswith("ed25519:")
    DuckDBAudit(tmp_path / "vigil.duckdb").delete("demo", 3)
    async with serve(settings) as vigil:
        found = (await vigil.ok(VERIFY, {"p": "demo"}, auth=ADMIN))["verifyAuditLog"]
    assert (found["firstBreak"]["kind"], found["firstBreak"]["chainIndex"]) == ("TRUNCATED", 3)


async def test_only_admins_verify(vigil: RunningVigil) -> None:
    body = await vigil.gql(VERIFY, {"p": "demo"}, auth=token(demo="editor"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with httpx.AsyncClient(base_url=vigil.url) as http:
        anonymous = (
            await http.post("/graphql", json={"query": VERIFY, "variables": {"p": "demo"}})
        ).json()
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_metric_reads_are_one_entry_per_actor_project_and_hour(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    reader = token("rita", demo="viewer")
    series = """{ metricSeries(project: "demo", name: "cpu") { timestamps } }"""
    async with serve(settings) as vigil:
        await vigil.ok(POINTS, {"p": "demo", "points": [{"name": "cpu", "value": 1}]}, auth=ADMIN)
        for _ in range(12):
            await vigil.ok(series, auth=reader)
        await vigil.ok(NAMES, {"p": "demo"}, auth=reader)
    async with serve(settings) as vigil:  # the hour's count was written at shutdown
        log = await entries(vigil)

    (reads,) = [e for e in log if e["action"] == "readMetrics"]
    assert (reads["actor"], reads["role"], reads["client"]) == ("rita", "viewer", "127.0.0.1")
    assert reads["detail"]["reads"] == 13
    assert reads["detail"]["queries"] == {"GetMetricNamesQuery": 1, "GetMetricSeriesQuery": 12}
