"""AlertEngine with rules sharing a window (cohorts) and batched writes, over fakes."""

from __future__ import annotations

from typing import Any

import pytest

from domain.alerting import AlertState, NoDataPolicy
from domain.alerting.runtime import AlertEngine, writes
from domain.matchers import MatchOp, TagMatcher
from domain.metrics.ingest import IngestLimits, validate_points
from tests.unit.alerting.fakes import FakeAlertStore
from tests.unit.alerting.test_engine import Recorder, S, alert, batch, started, state_of
from tests.unit.fakes import NOW_US, FakeClock, FakeMetricStore

WEB_1 = (TagMatcher("host", MatchOp.EQ, "web-1"),)


async def test_rules_over_one_window_share_it_and_each_fires_at_its_own_threshold() -> None:
    store = FakeAlertStore()
    rules = [alert(f"t{n}", threshold=90.0 + n, matchers=WEB_1) for n in range(5)]
    engine, recorder = await started(store, *rules, alert("other-window", window_us=30 * S))

    for t in range(5):
        await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US + t * S, 50)))
    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US + 5 * S, 92.5)))

    states = [state_of(engine, f"t{n}", ("web-1",)) for n in range(5)]
    assert states == [AlertState.FIRING] * 3 + [AlertState.OK] * 2
    assert state_of(engine, "other-window", ("web-1",)) is AlertState.FIRING
    fired = {e.rule_id for e in recorder.events}  # type: ignore[attr-defined]
    assert fired == {"t0", "t1", "t2", "other-window"}
    assert [s.value for s in engine.instances("t4") or []] == [92.5]  # quiet, yet up to date
    await engine.close()


async def test_a_tick_writes_what_every_rule_changed_in_one_store_write() -> None:
    store = FakeAlertStore()
    engine, _ = await started(store, *[alert(f"a{n}", threshold=90.0 + n) for n in range(4)])
    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US, 10)))
    batches = store.batches

    await engine.tick(NOW_US + S)

    assert store.batches == batches + 1
    assert sorted(store.instances) == ["a0", "a1", "a2", "a3"]
    await engine.close()


async def test_many_changes_are_written_in_chunks_and_a_failed_chunk_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writes, "WRITE_CHUNK", 3)
    store = FakeAlertStore()
    rules = [alert(f"a{n}", threshold=50.0 + n) for n in range(8)]
    engine, _ = await started(store, *rules)
    written = store.batches
    # Every rule at or below 54 fires: five transitions and eight new states to write.
    failing = _FailSecond(store)
    monkeypatch.setattr(store, "save_changes", failing)
    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US, 55)))
    await engine.tick(NOW_US + S)

    assert failing.calls == 2  # the first chunk written, the second refused: no third try
    first = set(store.instances)
    assert len(first) == 2  # (a rule's state and transitions stay in one chunk)
    await engine.tick(NOW_US + 2 * S)  # what was not written is written now
    assert sorted(store.instances) == [f"a{n}" for n in range(8)]
    fired = {a for a, ts in store.transitions.items() if ts}
    assert fired == {"a0", "a1", "a2", "a3", "a4"}
    assert all(len(store.transitions[a]) == 1 for a in fired)  # once each
    assert store.batches - written >= 4
    await engine.close()


class _FailSecond:
    """`save_changes` of `store` that refuses its second call."""

    def __init__(self, store: FakeAlertStore) -> None:
        self.store = store
        self.real = store.save_changes
        self.calls = 0

    async def __call__(self, changes: Any) -> None:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("disk full")
        await self.real(changes)


async def test_removing_one_rule_of_a_window_leaves_the_others_evaluating() -> None:
    store = FakeAlertStore()
    first, second = alert("a1", matchers=WEB_1), alert("a2", matchers=WEB_1, threshold=95.0)
    engine, _ = await started(store, first, second)
    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US, 96)))

    moved = await engine.remove(first, by="alice", comment="gone")

    assert [t.to_state for t in moved] == [AlertState.RESOLVED]
    assert engine.instances("a1") is None
    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US + S, 50)))
    assert state_of(engine, "a2", ("web-1",)) is AlertState.RESOLVED
    await engine.close()


async def test_a_refill_gives_every_rule_of_a_window_the_points_it_missed() -> None:
    clock = FakeClock(NOW_US + 10 * S)
    store = FakeAlertStore()
    metrics = FakeMetricStore()
    rules = [alert(f"a{n}", threshold=90.0 + n, aggregation="max") for n in range(2)]
    for r in rules:
        await store.save_alert(r)
    engine = AlertEngine(store, metrics, clock, tick_seconds=0)
    await engine.start(publish=Recorder())
    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US + 8 * S, 10)))
    missed = validate_points(  # stored, but its event never reached the engine
        "acme",
        [
            {
                "name": "cpu",
                "value": 99.0,
                "tags": {"host": "web-1"},
                "timestamp": (NOW_US + 9 * S) // 1000,
            }
        ],
        now_us=clock.now_us(),
        limits=IngestLimits(),
    )
    await metrics.append(missed)

    await engine.refill()
    await engine.tick(NOW_US + 10 * S)

    assert [state_of(engine, r.id, ("web-1",)) for r in rules] == [AlertState.FIRING] * 2
    await engine.close()


async def test_a_rule_with_a_short_no_data_period_keeps_a_window_of_its_own() -> None:
    store = FakeAlertStore()
    shared = alert("shared", matchers=WEB_1)
    short = alert("short", matchers=WEB_1, no_data_after_us=10 * S, no_data_policy=NoDataPolicy.OK)
    engine, _ = await started(store, shared, short)

    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US, 95)))

    assert state_of(engine, "shared", ("web-1",)) is AlertState.FIRING
    assert state_of(engine, "short", ("web-1",)) is AlertState.FIRING
    running = [engine._index.get(i) for i in ("shared", "short")]
    assert running[0] is not None and running[1] is not None
    assert running[0].evaluator.cohort is not running[1].evaluator.cohort
    await engine.close()
