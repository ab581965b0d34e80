"""The retention runner's tier logic on in-memory fakes: each tier cut at its own retention
(rollups at a bucket boundary, so at most one bucket past it stays), overrides grouped by
their first match, a legal hold deleting nothing, the counts audited per project, and the
rollup tiers reported as not wired when no RollupExpiry is given."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from domain.storage.retention.model import (
    DAY_US,
    LegalHold,
    MetricOverride,
    RetentionDefaults,
    RetentionPolicy,
)
from domain.storage.retention.runtime import PolicyBook, RetentionRunner, RunnerSettings
from domain.storage.tiers import HOUR, MINUTE, RAW, TIERS, Tier
from domain.system.read_models import AuditEntry
from tests.unit.fakes import FakeClock

HOUR_US = 3_600_000_000
NOW = 1_800_000_000_000_000 + 1_234_567_890  # not on any bucket boundary


@dataclass
class Row:
    tier: str
    project: str
    name: str
    ts: int


@dataclass
class FakeData:
    """Raw points and rollup buckets as rows; implements PointExpiry and RollupExpiry."""

    rows: list[Row] = field(default_factory=list)
    calls: list[tuple[str, str, int, tuple[str, ...] | None, tuple[str, ...]]] = field(
        default_factory=list
    )
    keys_before: list[int] = field(default_factory=list)

    async def point_projects(self) -> list[str]:
        return sorted({r.project for r in self.rows})

    async def point_names(self, project: str) -> list[str]:
        return sorted({r.name for r in self.rows if r.project == project})

    async def expire_points(
        self, project: str, before_us: int, names: Sequence[str] | None, exclude: Sequence[str]
    ) -> int:
        return self._expire(RAW.name, project, before_us, names, exclude)

    async def expire_rollups(
        self,
        tier: Tier,
        project: str,
        before_us: int,
        names: Sequence[str] | None,
        exclude: Sequence[str],
    ) -> int:
        assert before_us % tier.resolution_us == 0
        return self._expire(tier.name, project, before_us, names, exclude)

    async def expire_ingest_keys(self, before_us: int) -> int:
        self.keys_before.append(before_us)
        return 0

    def _expire(
        self,
        tier: str,
        project: str,
        before: int,
        names: Sequence[str] | None,
        exclude: Sequence[str],
    ) -> int:
        self.calls.append((tier, project, before, None if names is None else tuple(names),
                           tuple(exclude)))  # fmt: skip
        gone = [
            r
            for r in self.rows
            if r.tier == tier
            and r.project == project
            and r.ts < before
            and (names is None or r.name in names)
            and r.name not in exclude
        ]
        dropped = {id(r) for r in gone}
        self.rows = [r for r in self.rows if id(r) not in dropped]
        return len(gone)


class FakePolicies:
    def __init__(self, *policies: RetentionPolicy) -> None:
        self.stored = {p.project: p for p in policies}

    async def get_retention_policy(self, project: str) -> RetentionPolicy | None:
        return self.stored.get(project)

    async def save_retention_policy(
        self, policy: RetentionPolicy, *, expected_version: int
    ) -> bool:
        self.stored[policy.project] = policy
        return True

    async def retention_policies(self) -> list[RetentionPolicy]:
        return list(self.stored.values())


class FakeLeases:
    def __init__(self) -> None:
        self.held: dict[str, tuple[str, int]] = {}

    async def acquire_lease(self, name: str, owner: str, *, now_us: int, ttl_us: int) -> bool:
        holder = self.held.get(name)
        if holder is not None and holder[0] != owner and holder[1] > now_us:
            return False
        self.held[name] = (owner, now_us + ttl_us)
        return True

    async def renew_leases(
        self, names: Collection[str], owner: str, *, now_us: int, ttl_us: int
    ) -> set[str]:
        return {
            n for n in names if await self.acquire_lease(n, owner, now_us=now_us, ttl_us=ttl_us)
        }

    async def release_lease(self, name: str, owner: str) -> None:
        self.held.pop(name, None)

    async def lease_holders(self, prefix: str, *, now_us: int) -> dict[str, str]:
        return {
            n: o for n, (o, until) in self.held.items() if n.startswith(prefix) and until > now_us
        }


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    async def record(self, **entry: Any) -> AuditEntry:
        self.entries.append(entry)
        return AuditEntry(actor=entry["actor"], action=entry["action"], project=entry["project"],
                          outcome=entry["outcome"], timestamp_us=NOW)  # fmt: skip


def runner(
    data: FakeData, *policies: RetentionPolicy, rollups: bool = True
) -> tuple[RetentionRunner, FakeAudit]:
    clock = FakeClock(NOW)
    book = PolicyBook(FakePolicies(*policies), RetentionDefaults(), clock)
    audit = FakeAudit()
    made = RetentionRunner(
        book,
        data,
        audit,
        FakeLeases(),
        clock,
        settings=RunnerSettings(owner="me"),
        rollups=data if rollups else None,
    )
    return made, audit


def every(tier: Tier, project: str, name: str, step_us: int, span_us: int) -> list[Row]:
    """Rows from now back over `span_us`, on the tier's bucket boundaries."""
    res = tier.resolution_us or 1
    top = NOW - NOW % res
    return [Row(tier.name, project, name, top - k * step_us) for k in range(span_us // step_us)]


def load(project: str, name: str) -> list[Row]:
    return [
        *every(RAW, project, name, 6 * HOUR_US, 40 * DAY_US),
        *every(MINUTE, project, name, 6 * HOUR_US, 200 * DAY_US),
        *every(HOUR, project, name, DAY_US, 1000 * DAY_US),
    ]


def left(data: FakeData, tier: Tier, name: str) -> list[int]:
    return sorted(r.ts for r in data.rows if r.tier == tier.name and r.name == name)


def check_cut(data: FakeData, before: list[Row], name: str, keep: Mapping[str, int]) -> None:
    """Nothing older than retention + one bucket remains; everything newer does."""
    for tier in TIERS:
        remaining = left(data, tier, name)
        horizon = NOW - keep[tier.name]
        assert remaining, tier
        assert min(remaining) >= horizon - tier.resolution_us, tier
        newer = sorted(r.ts for r in before if r.tier == tier.name and r.name == name
                       and r.ts >= horizon)  # fmt: skip
        assert [ts for ts in remaining if ts >= horizon] == newer, tier


DEFAULTS = {"raw": 15 * DAY_US, "1m": 90 * DAY_US, "1h": 730 * DAY_US}


async def test_each_tier_is_cut_at_its_retention_and_the_counts_are_audited() -> None:
    rows = load("alpha", "cpu")
    data = FakeData(list(rows))
    run, audit = runner(data)

    await run.run()

    check_cut(data, rows, "cpu", DEFAULTS)
    (entry,) = audit.entries
    gone = {t.name: sum(1 for r in rows if r.tier == t.name) - len(left(data, t, "cpu"))
            for t in TIERS}  # fmt: skip
    assert entry["detail"]["deleted"] == gone
    assert all(gone.values())
    assert entry["outcome"] == "ok" and entry["project"] == "alpha"
    assert data.keys_before == [NOW - 86_400_000_000]
    # One call per tier: no overrides.
    assert [c[0] for c in data.calls] == ["raw", "1m", "1h"]
    assert data.calls[1][2] == (NOW - DEFAULTS["1m"]) // MINUTE.resolution_us * 60_000_000


async def test_overrides_group_names_by_their_first_match_per_tier() -> None:
    rows = load("alpha", "cpu") + load("alpha", "disk.io") + load("alpha", "disk.used")
    policy = RetentionPolicy(
        "alpha",
        DEFAULTS,
        (
            MetricOverride("disk.*", {"1h": 1000 * DAY_US}),
            MetricOverride("disk.io", {"1h": 100 * DAY_US}),  # shadowed by disk.*
        ),
    )
    data = FakeData(list(rows))
    run, _ = runner(data, policy)

    await run.run()

    check_cut(data, rows, "cpu", DEFAULTS)
    longer = {**DEFAULTS, "1h": 1000 * DAY_US}
    check_cut(data, rows, "disk.io", longer)
    check_cut(data, rows, "disk.used", longer)
    # raw and 1m: the override's durations equal the project's, one call each; 1h: the
    # override's names apart, and the project's call excluding them.
    by_tier = [(c[0], c[3], c[4]) for c in data.calls]
    assert by_tier == [
        ("raw", None, ()),
        ("1m", None, ()),
        ("1h", ("disk.io", "disk.used"), ()),
        ("1h", None, ("disk.io", "disk.used")),
    ]


async def test_a_legal_hold_deletes_nothing_and_the_entry_says_why() -> None:
    rows = load("alpha", "cpu")
    hold = LegalHold("audit by regulator", "carol", NOW - DAY_US)
    data = FakeData(list(rows))
    run, audit = runner(data, RetentionPolicy("alpha", DEFAULTS, hold=hold, version=3))

    await run.run()

    assert data.rows == rows and data.calls == []
    (entry,) = audit.entries
    assert entry["outcome"] == "held"
    assert entry["detail"]["note"] == "legal hold: nothing deleted"
    assert entry["target"] == {"policy_version": "3"}


async def test_without_rollups_wired_only_raw_points_are_deleted() -> None:
    rows = load("alpha", "cpu")
    data = FakeData(list(rows))
    run, audit = runner(data, rollups=False)

    await run.run()

    assert {c[0] for c in data.calls} == {"raw"}
    assert audit.entries[0]["detail"]["deleted"]["1m"] is None


@pytest.mark.parametrize(
    ("keep", "overrides", "message"),
    [
        ({"raw": 0}, (), "tier raw must be kept 1 hour to 10000 days"),
        ({"raw": 20 * DAY_US, "1m": 10 * DAY_US}, (), "a coarser tier must be kept"),
        ({"raw": 40 * DAY_US}, (), "at most 30 days"),
        ({"5m": DAY_US}, (), "no tier '5m'"),
        ({}, (MetricOverride("", {"raw": DAY_US}),), "pattern must be 1 to 200"),
        ({}, (MetricOverride("a*", {}),), "changes no tier"),
        ({}, (MetricOverride("a*", {"1h": DAY_US}),), "a coarser tier must be kept"),
        (
            {},
            (MetricOverride("a*", {"raw": DAY_US}), MetricOverride("a*", {"raw": DAY_US})),
            "given twice",
        ),
    ],
)
def test_bad_policies_are_refused(
    keep: dict[str, int], overrides: tuple[MetricOverride, ...], message: str
) -> None:
    from domain.errors import BadUserInput

    policy = RetentionPolicy("alpha", {**DEFAULTS, **keep}, overrides)
    with pytest.raises(BadUserInput, match=message):
        policy.validate(raw_ceiling_us=30 * DAY_US)
