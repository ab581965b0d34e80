"""Retention on every store, with a clock the test moves: after a run no raw point older
than its retention remains and newer ones are intact, overrides by pattern apply (the
first match), a legal hold keeps everything, each run audits its counts per project, and
an idempotency key forgotten after its lifetime lets the same batch be stored again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest

from domain.metrics.queries import GetMetricsListQuery
from domain.storage.retention.model import (
    DAY_US,
    LegalHold,
    MetricOverride,
    RetentionDefaults,
    RetentionPolicy,
)
from domain.storage.retention.runtime import PolicyBook, RetentionRunner, RunnerSettings
from domain.system.audit import AuditTrail
from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry
from tests.adjustable_clock import AdjustableClock
from tests.contract.conftest import StoreDatabase
from tests.contract.data import Point, point_batch

HOUR_US = 3_600_000_000
HALF_DAY_US = 12 * HOUR_US


@dataclass
class Rig:
    db: StoreDatabase
    clock: AdjustableClock
    runner: RetentionRunner
    now_us: int

    @property
    def store(self) -> Any:
        return cast(Any, self.db).retention

    async def load(self, project: str, name: str, days: int) -> list[int]:
        """A point every 12 hours over the last `days` days; their timestamps."""
        stamps = [self.now_us - k * HALF_DAY_US for k in range(2 * days)]
        points = [Point(name, {"host": "a"}, ts, float(i)) for i, ts in enumerate(stamps)]
        await self.db.metrics.append(point_batch(project, points))
        return stamps

    async def stamps(self, project: str, name: str) -> list[int]:
        page = await self.db.metrics.list_points(
            GetMetricsListQuery(project, name=name, first=10_000)
        )
        return sorted(m.timestamp_us for m in page.items)

    async def save(self, policy: RetentionPolicy) -> None:
        current = await self.store.get_retention_policy(policy.project)
        version = 0 if current is None else current.version
        saved = RetentionPolicy(
            policy.project, policy.keep_us, policy.overrides, policy.hold, version + 1
        )
        assert await self.store.save_retention_policy(saved, expected_version=version)

    async def runs(self, project: str) -> list[AuditEntry]:
        entries = await self.db.audit.list_entries(
            GetAuditLogQuery(project, action="ApplyRetention")
        )
        return entries


@pytest.fixture
def rig(store_db: StoreDatabase) -> Rig:
    clock = AdjustableClock()
    store = cast(Any, store_db).retention
    book = PolicyBook(store, RetentionDefaults(raw_ceiling_us=60 * DAY_US), clock)
    runner = RetentionRunner(
        book,
        store,
        AuditTrail(store_db.audit, clock),
        cast(Any, store_db).leases,
        clock,
        settings=RunnerSettings(owner="test", every_us=HOUR_US),
    )
    # On a whole hour, so the points' ages are exact multiples of 12 hours.
    now = clock.now_us() // HOUR_US * HOUR_US
    return Rig(store_db, clock, runner, now)


def kept(stamps: list[int], now: int, keep_us: int) -> list[int]:
    return sorted(ts for ts in stamps if ts >= now - keep_us)


async def test_a_run_deletes_raw_points_past_the_default_and_keeps_newer_ones(rig: Rig) -> None:
    stamps = await rig.load("alpha", "cpu", days=20)
    await rig.load("beta", "cpu", days=3)

    runs = await rig.runner.run(rig.now_us)

    assert runs is not None
    assert await rig.stamps("alpha", "cpu") == kept(stamps, rig.now_us, 15 * DAY_US)
    assert len(await rig.stamps("beta", "cpu")) == 6  # all within 15 days
    (entry,) = await rig.runs("alpha")
    gone = len(stamps) - len(kept(stamps, rig.now_us, 15 * DAY_US))
    assert gone == 9  # the 15.5- to 19.5-day-old points (15 days exactly is kept)
    assert entry.actor == "vigil:retention" and entry.outcome == "ok"
    assert entry.detail["deleted"] == {"raw": gone, "1m": None, "1h": None}
    assert entry.detail["legal_hold"] is False
    (other,) = await rig.runs("beta")
    assert other.detail["deleted"]["raw"] == 0


async def test_moving_the_clock_expires_what_became_too_old(rig: Rig) -> None:
    stamps = await rig.load("alpha", "cpu", days=20)
    await rig.runner.run(rig.now_us)

    rig.clock.advance(5 * 86_400)
    later = rig.now_us + 5 * DAY_US
    await rig.runner.run(later)

    assert await rig.stamps("alpha", "cpu") == kept(stamps, later, 15 * DAY_US)
    first, second = sorted(await rig.runs("alpha"), key=lambda e: e.timestamp_us)
    assert (first.detail["deleted"]["raw"], second.detail["deleted"]["raw"]) == (9, 10)


async def test_overrides_by_pattern_apply_the_first_match(rig: Rig) -> None:
    disk = await rig.load("alpha", "disk.used", days=40)
    io = await rig.load("alpha", "disk.io", days=40)
    cpu = await rig.load("alpha", "cpu", days=40)
    policy = RetentionPolicy(
        "alpha",
        {"raw": 7 * DAY_US, "1m": 90 * DAY_US, "1h": 730 * DAY_US},
        (
            MetricOverride("disk.*", {"raw": 30 * DAY_US}),
            MetricOverride("disk.io", {"raw": 2 * DAY_US}),  # never applies: disk.* first
        ),
    )
    await rig.save(policy)

    await rig.runner.run(rig.now_us)

    assert await rig.stamps("alpha", "disk.used") == kept(disk, rig.now_us, 30 * DAY_US)
    assert await rig.stamps("alpha", "disk.io") == kept(io, rig.now_us, 30 * DAY_US)
    assert await rig.stamps("alpha", "cpu") == kept(cpu, rig.now_us, 7 * DAY_US)
    (entry,) = await rig.runs("alpha")
    gone = 2 * (len(disk) - len(kept(disk, rig.now_us, 30 * DAY_US)))
    gone += len(cpu) - len(kept(cpu, rig.now_us, 7 * DAY_US))
    assert entry.detail["deleted"]["raw"] == gone


async def test_a_legal_hold_keeps_everything_and_says_so(rig: Rig) -> None:
    stamps = await rig.load("alpha", "cpu", days=20)
    hold = LegalHold("litigation 42", "carol", rig.now_us)
    await rig.save(RetentionDefaults(raw_ceiling_us=60 * DAY_US).policy("alpha").with_hold(hold))

    await rig.runner.run(rig.now_us)

    assert await rig.stamps("alpha", "cpu") == sorted(stamps)
    (entry,) = await rig.runs("alpha")
    assert entry.outcome == "held"
    assert entry.detail["deleted"] == {"raw": 0, "1m": 0, "1h": 0}
    assert entry.detail["note"] == "legal hold: nothing deleted"
    assert entry.detail["hold"]["reason"] == "litigation 42"


async def test_one_run_per_period_across_instances(rig: Rig, store_db: StoreDatabase) -> None:
    other = RetentionRunner(
        rig.runner.book,
        rig.store,
        AuditTrail(store_db.audit, rig.clock),
        cast(Any, store_db).leases,
        rig.clock,
        settings=RunnerSettings(owner="other", every_us=HOUR_US),
    )
    await rig.load("alpha", "cpu", days=1)
    now = rig.clock.now_us()

    assert await rig.runner.run(now) is not None
    assert await other.run(now + 1) is None  # the period is taken
    assert await other.run(now + HOUR_US) is not None  # the next one is free
    assert len(await rig.runs("alpha")) == 2


async def test_an_idempotency_key_expires_and_the_batch_is_stored_again(rig: Rig) -> None:
    batch = point_batch("alpha", [Point("cpu", {"host": "a"}, rig.now_us, 1.0)])
    first = await rig.db.metrics.append(batch, idempotency_key="k1")
    again = await rig.db.metrics.append(batch, idempotency_key="k1")
    assert (first.replayed, again.replayed) == (False, True)

    await rig.runner.run(rig.clock.now_us())  # within its 24 hours: kept
    assert (await rig.db.metrics.append(batch, idempotency_key="k1")).replayed

    rig.clock.advance(25 * 3600)
    await rig.runner.run(rig.clock.now_us())
    after = await rig.db.metrics.append(batch, idempotency_key="k1")
    assert (after.accepted, after.replayed) == (1, False)


async def test_a_policy_is_saved_by_compare_and_set_on_its_version(rig: Rig) -> None:
    keep = {"raw": 7 * DAY_US, "1m": 90 * DAY_US, "1h": 730 * DAY_US}
    first = RetentionPolicy("alpha", keep, (MetricOverride("a.*", {"raw": DAY_US}),), version=1)
    assert await rig.store.save_retention_policy(first, expected_version=0)
    assert not await rig.store.save_retention_policy(first, expected_version=0)  # one exists

    held = first.with_hold(LegalHold("case", "carol", 5))
    second = RetentionPolicy("alpha", keep, held.overrides, held.hold, version=2)
    assert not await rig.store.save_retention_policy(second, expected_version=2)
    assert await rig.store.save_retention_policy(second, expected_version=1)

    assert await rig.store.get_retention_policy("alpha") == second
    assert await rig.store.get_retention_policy("beta") is None
    assert await rig.store.retention_policies() == [second]
