"""AlertEngine over fakes: routing points, writing states, restoring them, reloading rules."""

from __future__ import annotations

from typing import Any

from domain.alerting import Alert, AlertRule, AlertState, InstanceState, NoDataPolicy
from domain.alerting.runtime import AlertEngine
from domain.events import Event
from domain.matchers import MatchOp, TagMatcher
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ingest import IngestLimits, validate_points
from tests.unit.alerting.fakes import FakeAlertStore
from tests.unit.fakes import NOW_US, FakeClock, FakeMetricStore

S = 1_000_000


def alert(alert_id: str = "a1", project: str = "acme", **rule: Any) -> Alert:
    fields: dict[str, Any] = {
        "name": "cpu high",
        "metric": "cpu",
        "threshold": 90.0,
        "aggregation": "last",
        "group_by": ("host",),
    }
    return Alert(alert_id, project, AlertRule(**(fields | rule)), NOW_US, "alice")


def batch(project: str, *points: tuple[str, dict[str, str], int, float]) -> MetricCollectedEvent:
    """Points (name, tags, ts_us, value), one series per distinct (name, tags)."""
    series: list[dict[str, Any]] = []
    index: list[int] = []
    for name, tags, _, _ in points:
        spec = {"id": len(series), "name": name, "tags": tags}
        if spec not in series:
            series.append(spec)
        index.append(series.index(spec))
    return MetricCollectedEvent(
        project, series, index, [p[2] for p in points], [float(p[3]) for p in points]
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)


async def started(store: FakeAlertStore, *alerts: Alert, clock: FakeClock | None = None) -> Any:
    for a in alerts:
        await store.save_alert(a)
    engine = AlertEngine(store, FakeMetricStore(), clock or FakeClock(), tick_seconds=0)
    recorder = Recorder()
    await engine.start(publish=recorder)
    return engine, recorder


def state_of(engine: AlertEngine, alert_id: str, key: tuple[str, ...]) -> AlertState | None:
    found = {s.key: s.state for s in engine.instances(alert_id) or []}
    return found.get(key)


async def test_a_point_reaches_only_the_rules_of_its_project_metric_and_tags() -> None:
    store = FakeAlertStore()
    engine, recorder = await started(
        store,
        alert("cpu-acme"),
        alert("cpu-other", project="other"),
        alert("mem-acme", metric="mem"),
        alert("cpu-web-2", matchers=(TagMatcher("host", MatchOp.EQ, "web-2"),)),
    )

    await engine.on_points(
        batch("acme", ("cpu", {"host": "web-1"}, NOW_US, 95), ("mem", {"host": "web-1"}, NOW_US, 1))
    )

    assert state_of(engine, "cpu-acme", ("web-1",)) is AlertState.FIRING
    assert state_of(engine, "mem-acme", ("web-1",)) is AlertState.OK
    assert engine.instances("cpu-other") == engine.instances("cpu-web-2") == []
    assert {e.rule_id for e in recorder.events} == {"cpu-acme"}  # type: ignore[attr-defined]
    await engine.close()


async def test_a_failed_write_is_kept_and_written_at_the_next_tick() -> None:
    store = FakeAlertStore()
    engine, _ = await started(store, alert())
    store.fail_writes = ConnectionError("store down")

    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US, 95)))
    await engine.tick(NOW_US + S)
    assert store.transitions == {}

    store.fail_writes = None
    await engine.tick(NOW_US + 2 * S)
    assert [t.to_state for t in store.transitions["a1"]] == [AlertState.FIRING]
    assert store.instances["a1"][("web-1",)].state is AlertState.FIRING
    await engine.close()


async def test_only_changed_states_are_written() -> None:
    store = FakeAlertStore()
    engine, _ = await started(store, alert())
    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US, 10)))
    await engine.tick(NOW_US + S)
    writes = store.writes

    await engine.tick(NOW_US + 2 * S)  # nothing changed since

    assert store.writes == writes
    await engine.close()


async def test_a_changed_rule_keeps_its_instances_and_a_regrouped_one_drops_them() -> None:
    store = FakeAlertStore()
    first = alert()
    engine, _ = await started(store, first)
    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US, 95)))

    same = first.changed(enabled=True, at_us=NOW_US, by="bob")
    await engine.reload(same)
    raised = first.changed(
        rule=AlertRule("cpu high", "cpu", 99.0, group_by=("host",)), at_us=NOW_US, by="bob"
    )
    await engine.reload(raised)
    assert state_of(engine, "a1", ("web-1",)) is AlertState.FIRING  # until the next evaluation

    regrouped = first.changed(
        rule=AlertRule("cpu", "cpu", 99.0, group_by=("dc", "host")), at_us=NOW_US, by="bob"
    )
    await engine.reload(regrouped)
    assert engine.instances("a1") == []
    await engine.close()


async def test_a_restart_takes_the_last_point_from_the_store_not_the_checkpoint() -> None:
    """A state written before the last points arrived must not look silent after a restart."""
    clock = FakeClock(NOW_US + 50 * S)
    store = FakeAlertStore()
    rule = alert(no_data_policy=NoDataPolicy.NODATA, window_us=60 * S)
    await store.save_instances("a1", [InstanceState(("web-1",), last_point_us=NOW_US - 30 * S)])
    metrics = FakeMetricStore()
    engine = AlertEngine(store, metrics, clock, tick_seconds=0)
    await store.save_alert(rule)
    # a point stored after the checkpoint, 20 s before the restart
    stored = validate_points(
        "acme",
        [
            {
                "name": "cpu",
                "value": 5.0,
                "tags": {"host": "web-1"},
                "timestamp": (NOW_US + 30 * S) // 1000,
            }
        ],
        now_us=clock.now_us(),
        limits=IngestLimits(),
    )
    await metrics.append(stored)
    await engine.start(publish=Recorder())

    await engine.tick(NOW_US + 50 * S)  # 80 s after the checkpoint's point, 20 s after the newest

    [state] = engine.instances("a1") or []
    assert (state.state, state.last_point_us) == (AlertState.OK, NOW_US + 30 * S)
    await engine.close()


async def test_remove_resolves_what_is_active_and_stops_evaluating() -> None:
    store = FakeAlertStore()
    engine, _ = await started(store, alert())
    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US, 95)))

    moved = await engine.remove(alert(), by="bob", comment="alert disabled")
    await engine.on_points(batch("acme", ("cpu", {"host": "web-2"}, NOW_US, 95)))

    assert [(t.to_state, t.by) for t in moved] == [(AlertState.RESOLVED, "bob")]
    assert (engine.rules, engine.instances("a1")) == (0, None)
    assert store.instances["a1"][("web-1",)].state is AlertState.RESOLVED
    await engine.close()


async def test_a_moving_value_is_written_at_checkpoints_only() -> None:
    store = FakeAlertStore()
    engine, _ = await started(store, alert())
    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US, 10)))
    await engine.tick(NOW_US + S)  # the first tick is a checkpoint
    writes = store.writes

    await engine.on_points(batch("acme", ("cpu", {"host": "web-1"}, NOW_US + 2 * S, 20)))
    await engine.tick(NOW_US + 3 * S)
    assert store.writes == writes  # still OK: nothing a restart needs has changed

    await engine.tick(NOW_US + 61 * S + S // 2)
    assert store.instances["a1"][("web-1",)].value == 20.0
    await engine.close()
