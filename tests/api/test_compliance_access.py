"""Access reviews and revocations through /graphql: who used the project with which role,
reviewers' decisions kept and audited, and revoked access refused on HTTP and live
websockets, after a restart too."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.api.compliance_support import (
    ACCESS,
    APPROVE,
    AUDIT,
    NAMES,
    POINTS,
    REPORT,
    RESTORE,
    REVOKE,
    START,
    claims_of,
    vigil_on,
)
from tests.notifications_support import CONFIGURE, webhook
from tests.support import RunningVigil, make_settings, serve, token, ws_client

ALICE = token("alice", demo="admin")
SUB = """subscription($p: String!) { metricCollected(project: $p) { name value } }"""
REVIEWS = """query($p: String!) { accessReviews(project: $p) { id completedAt
  decisions { subject decision by comment } } }"""


@pytest.mark.parametrize("kind", ["duckdb", "mongo-emulated"])
async def test_a_review_lists_subjects_with_flags_and_keeps_its_decisions(
    kind: str, tmp_path: Path
) -> None:
    async with vigil_on(kind, tmp_path) as vigil:
        await _review_flow(vigil)


async def _review_flow(vigil: RunningVigil) -> None:
    bob, carol = token("bob", demo="viewer"), token("carol", demo="editor")
    dave = token("dave", ttl=200 * 86_400, demo="admin")  # valid for 200 days
    await vigil.ok(POINTS, {"p": "demo", "points": [{"name": "cpu", "value": 1}]}, auth=ALICE)
    await vigil.ok(CONFIGURE, {"p": "demo", "c": webhook("https://8.8.8.8/x")}, auth=ALICE)
    for reader in (bob, carol, dave):
        await vigil.ok(NAMES, {"p": "demo"}, auth=reader)

    live = (await vigil.ok(ACCESS, {"p": "demo"}, auth=ALICE))["accessReview"]
    seen = {s["subject"]: s for s in live["subjects"]}
    assert {s: (v["role"], sorted(v["flags"])) for s, v in seen.items()} == {
        "alice": ("admin", []),
        "bob": ("viewer", []),
        "carol": ("editor", ["ROLE_BEYOND_USE"]),
        "dave": ("admin", ["LONG_LIVED_TOKEN", "ROLE_BEYOND_USE"]),
    }
    assert seen["carol"]["suggestedRole"] == "viewer" and seen["carol"]["used"] == ["read"]
    assert sorted(seen["alice"]["used"]) == ["administer", "write_metrics"]
    assert seen["dave"]["lastTokenId"] == claims_of(dave)["jti"]

    review = (await vigil.ok(START, {"p": "demo"}, auth=ALICE))["startAccessReview"]
    assert review["pending"] == ["alice", "bob", "carol", "dave"]
    for subject in ("alice", "bob", "carol"):
        args = {"p": "demo", "r": review["id"], "s": subject}
        decided = (await vigil.ok(APPROVE, args, auth=ALICE))["approveAccess"]
    assert decided["pending"] == ["dave"] and decided["completedAt"] is None
    revoked = (await vigil.ok(REVOKE, {"p": "demo", "s": "dave", "r": review["id"]}, auth=ALICE))[
        "revokeAccess"
    ]
    assert (revoked["kind"], revoked["value"], revoked["by"]) == ("SUBJECT", "dave", "alice")

    body = await vigil.gql(NAMES, {"p": "demo"}, auth=dave)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["message"] == "token has been revoked"
    (kept,) = (await vigil.ok(REVIEWS, {"p": "demo"}, auth=ALICE))["accessReviews"]
    assert kept["completedAt"] is not None
    assert {(d["subject"], d["decision"]) for d in kept["decisions"]} == {
        ("alice", "approve"),
        ("bob", "approve"),
        ("carol", "approve"),
        ("dave", "revoke"),
    }
    log = (await vigil.ok(AUDIT, {"p": "demo", "first": 100}, auth=ALICE))["auditLog"]
    actions = [e["action"] for e in log]
    assert actions.count("ApproveAccessCommand") == 3 and "StartAccessReviewCommand" in actions
    revoke = next(e for e in log if e["action"] == "RevokeAccessCommand")
    assert revoke["target"] == {"subject": "dave", "review": review["id"]}
    report = (await vigil.ok(REPORT, {"p": "demo", "f": "ISO27001"}, auth=ALICE))[
        "complianceReport"
    ]
    status = {(c["id"], c["check"]): c["status"] for c in report["controls"]}
    assert status[("A.5.18", "access_review")] == "PASS"
    assert status[("A.5.18", "revocations")] == "PASS"
    assert status[("A.8.5", "token_expiry")] == "FAIL"  # dave's 200-day token was used


async def test_a_revoked_token_ends_its_live_subscription_within_seconds(
    vigil: RunningVigil,
) -> None:
    bob = token("bob", demo="viewer")
    async with ws_client(vigil.ws_url, bob) as ws:
        op = await ws.subscribe(SUB, {"p": "demo"})
        await vigil.ok(POINTS, {"p": "demo", "points": [{"name": "cpu", "value": 1}]}, auth=ALICE)
        assert (await ws.next_for(op))["type"] == "next"
        args = {"p": "demo", "t": claims_of(bob)["jti"]}
        assert (await vigil.ok(REVOKE, args, auth=ALICE))["revokeAccess"]["kind"] == "TOKEN"

        ended = await ws.next_for(op, timeout=5)
        assert ended["type"] == "error"
        assert ended["payload"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await ws.close_code(timeout=5) == 4403
    body = await vigil.gql(NAMES, {"p": "demo"}, auth=bob)
    assert body["errors"][0]["message"] == "token has been revoked"
    # One token: the subject's other tokens still work.
    assert await vigil.ok(NAMES, {"p": "demo"}, auth=token("bob", demo="viewer"))


async def test_a_revocation_outlives_a_restart_until_restored(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    eve = token("eve", demo="viewer", other="viewer")
    async with serve(settings) as vigil:
        await vigil.ok(REVOKE, {"p": "demo", "s": "eve"}, auth=ALICE)
    async with serve(settings) as vigil:
        body = await vigil.gql(NAMES, {"p": "demo"}, auth=eve)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # demo taken away
        assert await vigil.ok(NAMES, {"p": "other"}, auth=eve)  # the rest of the token works
        assert await vigil.ok(RESTORE, {"p": "demo", "s": "eve"}, auth=ALICE)
        await asyncio.sleep(0)
        assert await vigil.ok(NAMES, {"p": "demo"}, auth=eve)
        body = await vigil.gql(RESTORE, {"p": "demo", "s": "eve"}, auth=ALICE)
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_bad_revocations_change_nothing(vigil: RunningVigil) -> None:
    for args, code in (
        ({"p": "demo"}, "BAD_USER_INPUT"),  # neither subject nor token
        ({"p": "demo", "s": "x", "t": "y"}, "BAD_USER_INPUT"),
        ({"p": "demo", "s": "x", "r": "no-such-review"}, "NOT_FOUND"),
    ):
        body = await vigil.gql(REVOKE, args, auth=ALICE)
        assert body["errors"][0]["extensions"]["code"] == code, body
    assert (await vigil.ok(ACCESS, {"p": "demo"}, auth=ALICE))["accessReview"]["revocations"] == []
    body = await vigil.gql(REVOKE, {"p": "demo", "s": "x"}, auth=token(demo="editor"))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
