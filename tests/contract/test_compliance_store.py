"""The compliance store and the chained audit store: the same behaviour on every adapter."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any, cast

import pytest

from domain.compliance.model import (
    AccessReview,
    AccessUsage,
    CheckResult,
    CheckStatus,
    ComplianceRun,
    Decision,
    DecisionKind,
    ReviewedSubject,
    Revocation,
    RevocationKind,
)
from domain.compliance.ports import ComplianceStore
from domain.notifications import Channel, ChannelKind, NotificationStore
from domain.system.model import GENESIS, Checkpoint, entry_hash
from domain.system.ports import AuditStore
from domain.system.read_models import AuditEntry
from infra.crypto import Keyring, SecretCipher
from tests.contract.conftest import StoreDatabase
from tests.contract.data import NOW_US, SECOND


@pytest.fixture
def compliance(store_db: StoreDatabase) -> ComplianceStore:
    return cast(ComplianceStore, store_db.compliance)  # type: ignore[attr-defined]


def entry(i: int, project: str = "alpha") -> AuditEntry:
    return AuditEntry(
        "ann",
        "createAlert",
        project,
        "ok",
        NOW_US + i * SECOND,
        f"r{i}",
        {"i": i, "odd.key$": [1, "two"]},
        role="admin",
        target={"alert": f"a{i}"},
        changes=[{"field": "threshold", "old": 1.5, "new": 2, "redacted": False}],
        client="10.0.0.1",
    )


async def test_appends_form_one_chain_per_project_even_when_concurrent(audit: AuditStore) -> None:
    stored = await asyncio.gather(*(audit.record(entry(i, "ab"[i % 2])) for i in range(20)))
    assert all(s.seq > 0 and s.hash for s in stored)

    for project in ("a", "b"):
        chain = await audit.chain(project, after_index=0, first=100)
        assert [e.chain_index for e in chain] == list(range(1, 11))
        assert chain[0].prev_hash == GENESIS
        for before, after in itertools.pairwise(chain):
            assert after.prev_hash == before.hash
        for e in chain:  # read back exactly as hashed
            assert e.hash == entry_hash(e, chain_index=e.chain_index, prev_hash=e.prev_hash)
        head = await audit.head(project)
        assert head is not None and head.chain_index == 10
    assert await audit.projects() == ["a", "b"]


async def test_the_chain_is_read_in_pages_and_from_a_time(audit: AuditStore) -> None:
    for i in range(5):
        await audit.record(entry(i))
    page = await audit.chain("alpha", after_index=2, first=2)
    assert [e.chain_index for e in page] == [3, 4]
    assert (page[0].role, page[0].target, page[0].client) == ("admin", {"alert": "a2"}, "10.0.0.1")
    assert page[0].detail == {"i": 2, "odd.key$": [1, "two"]}
    assert await audit.first_index_at("alpha", NOW_US + 3 * SECOND) == 4
    assert await audit.first_index_at("alpha", NOW_US + 9 * SECOND) is None
    assert await audit.head("nobody") is None


async def test_checkpoints_are_kept_per_project(compliance: ComplianceStore) -> None:
    for n in (3, 1, 2):
        await compliance.save_checkpoint(Checkpoint("alpha", n, f"h{n}", NOW_US + n, "k", "sig"))
    await compliance.save_checkpoint(Checkpoint("beta", 9, "h9", NOW_US, "k", "sig"))
    assert [c.chain_index for c in await compliance.checkpoints("alpha")] == [1, 2, 3]
    assert await compliance.latest_checkpoint("alpha") == Checkpoint(
        "alpha", 3, "h3", NOW_US + 3, "k", "sig"
    )
    assert await compliance.latest_checkpoint("gamma") is None


async def test_access_seen_is_merged(compliance: ComplianceStore) -> None:
    first = AccessUsage("alpha", "ann", "viewer", NOW_US, NOW_US, frozenset({"read"}), 3600)
    later = AccessUsage(
        "alpha", "ann", "admin", NOW_US + 5, NOW_US + 9, frozenset({"administer"}), 60, False, "t2"
    )
    await compliance.record_usage([later])
    await compliance.record_usage([first])  # flushed later by another instance
    await compliance.record_usage([AccessUsage("beta", "ann", "viewer", 1, 1, frozenset({"read"}))])

    (merged,) = await compliance.usage("alpha")
    assert (merged.first_us, merged.last_us) == (NOW_US, NOW_US + 9)
    assert merged.used == {"read", "administer"} and merged.longest_token_s == 3600
    assert (merged.role, merged.last_token_id) == ("admin", "t2")  # the latest use's
    forever = AccessUsage("alpha", "bob", "admin", 1, 2, frozenset({"read"}), None, True)
    await compliance.record_usage([forever])
    bob = next(u for u in await compliance.usage("alpha") if u.subject == "bob")
    assert (bob.longest_token_s, bob.no_expiry) == (None, True)


async def test_a_review_changes_only_at_the_version_read(compliance: ComplianceStore) -> None:
    line = ReviewedSubject("ann", "admin", 1, 2, 0.0, ("read",), ())
    review = AccessReview("r1", "alpha", NOW_US, "root", (line,))
    assert await compliance.save_review(review, expected_version=None)
    assert not await compliance.save_review(review, expected_version=None)  # same id
    decided = review.decide(Decision("ann", DecisionKind.APPROVE, "root", NOW_US + 1))
    assert await compliance.save_review(decided, expected_version=1)
    assert not await compliance.save_review(decided, expected_version=1)  # stale
    found = await compliance.get_review("alpha", "r1")
    assert found == decided and found.completed_us == NOW_US + 1
    assert await compliance.get_review("beta", "r1") is None  # a foreign id reads as missing
    assert [r.id for r in await compliance.list_reviews("alpha", first=10)] == ["r1"]


async def test_revocations_are_added_once_listed_and_removed(compliance: ComplianceStore) -> None:
    ann = Revocation("alpha", RevocationKind.SUBJECT, "ann", NOW_US, "root", "left")
    token = Revocation("beta", RevocationKind.TOKEN, "t1", NOW_US + 1, "root")
    assert await compliance.add_revocation(ann) and await compliance.add_revocation(token)
    assert not await compliance.add_revocation(ann)
    assert await compliance.revocations("alpha") == [ann]
    assert await compliance.revocations(None) == [ann, token]
    assert await compliance.remove_revocation("alpha", RevocationKind.SUBJECT, "ann")
    assert not await compliance.remove_revocation("alpha", RevocationKind.SUBJECT, "ann")
    assert await compliance.revocations(None) == [token]


async def test_a_run_is_claimed_by_one_and_finished_once(compliance: ComplianceStore) -> None:
    a = ComplianceRun("alpha", "every-86400s-7", NOW_US, "instance-a")
    b = ComplianceRun("alpha", "every-86400s-7", NOW_US, "instance-b")
    claims = await asyncio.gather(
        compliance.claim_run(a, until_us=NOW_US + 10), compliance.claim_run(b, until_us=NOW_US + 10)
    )
    assert sorted(claims) == [False, True]
    winner, loser = (a, b) if claims[0] else (b, a)
    result = CheckResult("audit_chain", CheckStatus.PASS, "fine", {"entries": {"n.1": 3}})
    done = ComplianceRun(winner.project, winner.slot, NOW_US, winner.owner, (result,), NOW_US + 5)
    assert not await compliance.finish_run(
        ComplianceRun(loser.project, loser.slot, NOW_US, loser.owner, (result,), NOW_US + 5)
    )
    assert await compliance.finish_run(done)
    assert not await compliance.finish_run(done)  # once
    assert await compliance.list_runs("alpha", first=5) == [done]


async def test_a_lapsed_claim_is_taken_over(compliance: ComplianceStore) -> None:
    dead = ComplianceRun("alpha", "s", NOW_US, "dead")
    assert await compliance.claim_run(dead, until_us=NOW_US + 10)
    early = ComplianceRun("alpha", "s", NOW_US + 5, "next")
    assert not await compliance.claim_run(early, until_us=NOW_US + 50)
    late = ComplianceRun("alpha", "s", NOW_US + 11, "next")
    assert await compliance.claim_run(late, until_us=NOW_US + 50)
    assert not await compliance.finish_run(
        ComplianceRun("alpha", "s", NOW_US, "dead", (), NOW_US + 12)
    )


async def test_channel_secrets_are_sealed_in_the_store_and_resealed(
    store_db: StoreDatabase, tmp_path: Path
) -> None:
    notifications = cast(NotificationStore, store_db.notifications)  # type: ignore[attr-defined]
    plain = Channel("c0", "alpha", "old", ChannelKind.WEBHOOK, url="https://8.8.8.8/x", secret="p")
    assert await notifications.save_channel(plain)  # stored before encryption existed
    ring = Keyring.from_file(tmp_path / "keys")
    store: Any = notifications
    store.use_cipher(SecretCipher(ring))
    slack = Channel("c1", "alpha", "chat", ChannelKind.SLACK, url="https://8.8.8.8/T/B/cred")
    hook = Channel("c2", "alpha", "hook", ChannelKind.WEBHOOK, url="https://8.8.8.8/y", secret="s")
    for channel in (slack, hook):
        assert await notifications.save_channel(channel)

    assert await notifications.get_channel("alpha", "c1") == slack  # opened on read
    status = await store.secrets_status("alpha")
    assert (status.sealed, status.plaintext, status.key_versions) == (2, 1, {"1": 2})
    ring.add_version()
    assert await store.reseal_all() == 3  # the plain one and the two under version 1
    status = await store.secrets_status("alpha")
    assert (status.sealed, status.plaintext, status.key_versions) == (3, 0, {"2": 3})
    assert [c.secret for c in await notifications.list_channels("alpha")] == ["p", "", "s"]
