"""Tenancy: a caller sees only its own projects, by query, by id and by subscription."""

from __future__ import annotations

from domain.metrics.events import MetricCollectedEvent
from tests.support import RunningVigil, token, ws_client

CREATE = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { ids } }"""
READ = "query($id: ID!) { metric(id: $id) { id } }"
SERIES = """query($p: String!) { metricSeries(project: $p, name: "cpu",
  from: "2020-01-01T00:00:00Z") { series { values } } }"""


async def ingest(vigil: RunningVigil, project: str, value: float = 1.0) -> str:
    data = await vigil.ok(
        CREATE,
        {"p": project, "points": [{"name": "cpu", "value": value}]},
        auth=token(**{project: "collector"}),
    )
    ids: list[str] = data["createMetrics"]["ids"]
    return ids[0]


async def test_a_foreign_id_answers_exactly_as_a_missing_one(vigil: RunningVigil) -> None:
    b_point = await ingest(vigil, "b")
    viewer_a = token(a="viewer")
    foreign = await vigil.gql(READ, {"id": b_point}, auth=viewer_a)
    missing = await vigil.gql(READ, {"id": "0" * 30}, auth=viewer_a)
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    strip = lambda m: m.replace(b_point, "<id>").replace("0" * 30, "<id>")
    assert strip(foreign["errors"][0]["message"]) == strip(missing["errors"][0]["message"])
    named = await vigil.gql(
        'query($id: ID!) { metric(id: $id, project: "b") { id } }', {"id": b_point}, auth=viewer_a
    )
    assert named["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_queries_of_another_project_are_forbidden(vigil: RunningVigil) -> None:
    await ingest(vigil, "b")
    body = await vigil.gql(SERIES, {"p": "b"}, auth=token(a="admin"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None


async def test_roles_are_enforced(vigil: RunningVigil) -> None:
    write = await vigil.gql(
        CREATE, {"p": "a", "points": [{"name": "cpu", "value": 1}]}, auth=token(a="viewer")
    )
    assert write["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await ingest(vigil, "a")
    read = await vigil.gql(SERIES, {"p": "a"}, auth=token(a="collector"))
    assert read["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await vigil.ok(SERIES, {"p": "a"}, auth=token(a="viewer")))["metricSeries"]
    audit = await vigil.gql('{ auditLog(project: "a") { action } }', auth=token(a="editor"))
    assert audit["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_no_token_or_a_bad_token_is_unauthenticated(vigil: RunningVigil) -> None:
    for auth in (None, "not-a-token", token(a="admin", ttl=-10)):
        body = await vigil.gql(SERIES, {"p": "a"}, auth=auth)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body


async def test_denials_and_mutations_are_audited(vigil: RunningVigil) -> None:
    await ingest(vigil, "a")
    await vigil.gql(SERIES, {"p": "a"}, auth=token("mallory", a="collector"))
    entries = (
        await vigil.ok(
            '{ auditLog(project: "a") { actor action outcome requestId } }', auth=token(a="admin")
        )
    )["auditLog"]
    outcomes = {(e["actor"], e["action"], e["outcome"]) for e in entries}
    assert ("alice", "CreateMetricsCommand", "ok") in outcomes
    assert ("mallory", "query:metricSeries", "FORBIDDEN") in outcomes
    assert all(e["requestId"] for e in entries)


async def test_a_subscriber_of_a_sees_nothing_of_b(vigil: RunningVigil) -> None:
    query = "subscription($p: String!) { metricCollected(project: $p) { project value } }"
    async with ws_client(vigil.ws_url, token(a="viewer")) as client:
        denied = await client.subscribe(query, {"p": "b"})
        message = await client.next_for(denied)
        assert message["type"] in ("error", "next")
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        own = await client.subscribe(query, {"p": "a"})
        await vigil.listening(MetricCollectedEvent.channel_for("a"))
        for i in range(5):
            await ingest(vigil, "b", float(i))
        await ingest(vigil, "a", 42.0)
        received = await client.next_for(own)
        assert received["payload"]["data"]["metricCollected"] == [{"project": "a", "value": 42.0}]
