"""Access reviews and revocations: what a reviewer sees, and what a revocation takes away."""

from __future__ import annotations

from domain.access import Permission, Principal, Role
from domain.compliance.events import AccessRevokedEvent
from domain.compliance.model import AccessFlag, AccessUsage, Revocation, RevocationKind
from domain.compliance.reviews import DAY_US, CompliancePolicy, review_lines
from domain.compliance.runtime import AccessLedger, RevocationList
from tests.unit.compliance.fakes import MemoryComplianceStore
from tests.unit.fakes import NOW_US, FakeClock


def usage(
    subject: str, role: str, *used: Permission, last_days_ago: float = 0, **kw: object
) -> AccessUsage:
    last = NOW_US - int(last_days_ago * DAY_US)
    return AccessUsage(
        "demo",
        subject,
        role,
        last - DAY_US,
        last,
        frozenset(p.value for p in used),
        **kw,  # type: ignore[arg-type]
    )


def test_flags_show_stale_privilege_no_expiry_long_tokens_and_roles_beyond_use() -> None:
    lines = review_lines(
        [
            usage("ann", "admin", Permission.ADMINISTER, last_days_ago=91),
            usage("bob", "admin", Permission.READ, longest_token_s=86_400),
            usage("cid", "editor", Permission.READ, Permission.EDIT, no_expiry=True),
            usage("dee", "collector", Permission.WRITE_METRICS, longest_token_s=200 * 86_400),
            usage("eve", "viewer", Permission.READ),
        ],
        [Revocation("demo", RevocationKind.SUBJECT, "eve", NOW_US, "ann")],
        now_us=NOW_US,
        policy=CompliancePolicy(),
    )
    flags = {line.subject: set(line.flags) for line in lines}
    assert flags == {
        "ann": {AccessFlag.STALE_PRIVILEGE},
        "bob": {AccessFlag.ROLE_BEYOND_USE},
        "cid": {AccessFlag.NO_EXPIRY},
        "dee": {AccessFlag.LONG_LIVED_TOKEN},
        "eve": {AccessFlag.REVOKED},
    }
    bob = next(line for line in lines if line.subject == "bob")
    assert bob.suggested_role == "viewer" and bob.idle_days == 0
    assert next(line for line in lines if line.subject == "ann").idle_days == 91


async def test_the_ledger_merges_use_and_flushes_it() -> None:
    store, clock = MemoryComplianceStore(), FakeClock()
    ledger = AccessLedger(store, clock)
    ann = Principal(
        "ann",
        {"demo": Role.ADMIN},
        expires_at=NOW_US / 1e6 + 3600,
        issued_at=NOW_US / 1e6,
        token_id="t1",
    )
    ledger.seen(ann, "demo", Permission.READ)
    clock.advance(60)
    ledger.seen(ann, "demo", Permission.ADMINISTER)

    assert await ledger.flush() == 1
    (seen,) = await store.usage("demo")
    assert (seen.first_us, seen.last_us) == (NOW_US, NOW_US + 60_000_000)
    assert seen.used == {"read", "administer"} and seen.longest_token_s == 3600
    assert (seen.role, seen.last_token_id, seen.no_expiry) == ("admin", "t1", False)


def test_a_revocation_takes_a_project_from_the_subject_or_the_token() -> None:
    revoked = RevocationList()
    told: list[tuple[str, RevocationKind, str]] = []
    revoked.listen(lambda *a: told.append(a))
    ann = Principal("ann", {"a": Role.ADMIN, "b": Role.VIEWER}, token_id="t1")

    revoked.apply_event(AccessRevokedEvent("a", "subject", "ann", NOW_US, "root"))
    revoked.apply_event(AccessRevokedEvent("a", "subject", "ann", NOW_US, "root"))  # again
    assert revoked.revoked_in(ann) == {"a"} and told == [("a", RevocationKind.SUBJECT, "ann")]

    revoked.apply_event(AccessRevokedEvent("b", "token", "t1", NOW_US, "root"))
    assert revoked.revoked_in(ann) == {"a", "b"}
    assert revoked.revoked_in(Principal("ann", {"b": Role.VIEWER}, token_id="t2")) == set()

    revoked.apply_event(AccessRevokedEvent("a", "subject", "ann", NOW_US, "root", revoked=False))
    assert revoked.revoked_in(ann) == {"b"}
    revoked.replace_all([])
    assert revoked.revoked_in(ann) == set()
