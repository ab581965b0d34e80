"""DetectorBank over fakes: which series get detectors, what their scores feed (ANOMALY
rules' 0/1 series, anomalies, bands), warming from history or stored state, checkpoints."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from domain.alerting import Alert, AlertRule
from domain.alerting.model import AnomalySettings, RuleKind
from domain.anomaly.detection import AnomalyDetection
from domain.anomaly.events import AnomalyDetectedEvent
from domain.anomaly.model import DetectorConfig, Direction, ModelState
from domain.anomaly.runtime import DetectorBank
from domain.matchers import MatchOp, TagMatcher
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ingest import IngestLimits, validate_points
from tests.unit.anomaly.fakes import FakeAnomalyStore
from tests.unit.fakes import NOW_US, FakeClock, FakeMetricStore

S = 1_000_000
WEB = [
    {"id": 1, "name": "lat", "tags": {"host": "web-1"}},
    {"id": 2, "name": "lat", "tags": {"host": "web-2"}},
]


def detection(sensitivity: float = 50.0, **fields: Any) -> AnomalyDetection:
    base: dict[str, Any] = {
        "id": "d1",
        "project": "acme",
        "metric": "lat",
        "matchers": (),
        "config": DetectorConfig(sensitivity),
        "enabled": True,
        "created_at_us": NOW_US,
        "created_by": "al",
    }
    return AnomalyDetection(**(base | fields))


def anomaly_alert(alert_id: str = "r1", min_score: float = 50.0, host: str = "web-1") -> Alert:
    rule = AlertRule(
        name="lat anomalous",
        metric="lat",
        threshold=1.0,
        kind=RuleKind.ANOMALY,
        aggregation="max",  # type: ignore[arg-type]
        condition=">=",  # type: ignore[arg-type]
        matchers=(TagMatcher("host", MatchOp.EQ, host),),
        group_by=("host",),
        anomaly=AnomalySettings(min_score=min_score),
    )
    return Alert(alert_id, "acme", rule, NOW_US, "al")


def batch(
    values: list[tuple[int, int, float]], series: list[dict[str, Any]] = WEB
) -> MetricCollectedEvent:
    """(series index, ts_us, value) points."""
    return MetricCollectedEvent(
        "acme", series, [v[0] for v in values], [v[1] for v in values], [v[2] for v in values]
    )


def normal(start: int, n: int, series: int = 0, seed: int = 1) -> list[tuple[int, int, float]]:
    rng = random.Random(seed)
    return [(series, start + i * 10 * S, 100 + rng.gauss(0, 2)) for i in range(n)]


async def store_history(metrics: FakeMetricStore) -> None:
    """300 points of web-1's latency, every 10 s until 1,000 s before NOW_US."""
    rng = random.Random(3)
    raw = [
        {"name": "lat", "value": 100 + rng.gauss(0, 2), "tags": {"host": "web-1"},
         "timestamp": (NOW_US - (3000 - i * 10) * S) // 1000}
        for i in range(300)
    ]  # fmt: skip
    await metrics.append(validate_points("acme", raw, now_us=NOW_US, limits=IngestLimits()))


async def ready_bank(**options: Any) -> tuple[DetectorBank, FakeAnomalyStore]:
    store = FakeAnomalyStore()
    bank = DetectorBank(store, FakeMetricStore(), FakeClock(NOW_US), seed=False, **options)
    return bank, store


async def test_only_covered_series_are_scored_and_a_spike_is_an_anomaly() -> None:
    bank, store = await ready_bank()
    await bank.reload_detection(detection(matchers=(TagMatcher("host", MatchOp.EQ, "web-1"),)))
    assert bank.wants("acme") and not bank.wants("other")
    bank.observe(batch(normal(NOW_US, 1) + normal(NOW_US, 1, series=1)))
    await bank.warmed()
    scored = bank.observe(batch(normal(NOW_US + 10 * S, 300) + normal(NOW_US, 300, series=1)))
    assert scored.events == [] and scored.derived == []  # no rule reads them
    spike = bank.observe(batch([(0, NOW_US + 4000 * S, 160.0), (1, NOW_US + 4000 * S, 160.0)]))
    (event,) = spike.events
    assert isinstance(event, AnomalyDetectedEvent)
    assert (event.tags, event.value, event.direction, event.onset) == (
        {"host": "web-1"},
        160.0,
        "up",
        True,
    )
    assert event.explanation.startswith("160.0 is ")
    (status,) = bank.detectors("d1") or []
    assert (status.tags, status.state, status.model_age_points) == (
        {"host": "web-1"},
        ModelState.BASIC,
        302,
    )
    await bank.flush(NOW_US + 4000 * S, everything=True)
    assert [r.value for r in store.records] == [160.0]
    assert store.bands and all(b.tags == {"host": "web-1"} for b in store.bands)
    assert len(store.states) == 1


async def test_an_anomaly_rule_reads_a_0_1_series_of_its_own_min_score() -> None:
    bank, _ = await ready_bank()
    bank.cover(anomaly_alert("strict", min_score=80.0))
    bank.cover(anomaly_alert("lenient", min_score=30.0))
    bank.observe(batch(normal(NOW_US, 1)))
    await bank.warmed()
    bank.observe(batch(normal(NOW_US + 10 * S, 300)))
    moderate = bank.observe(batch([(0, NOW_US + 4000 * S, 110.0)]))  # 5 sigma: a score near 50
    derived = {d.series[0]["name"].split("\x1f")[-1]: d.values for d in moderate.derived}
    assert derived == {"80.0": [0.0], "30.0": [1.0]}
    assert all(d.series[0]["tags"] == {"host": "web-1"} for d in moderate.derived)
    (status,) = [s for s in bank._by_project["acme"]["lat"].slots.values()]
    assert status.detector.config.sensitivity == 70.0  # the most sensitive owner's


async def test_one_detector_per_series_and_model_whoever_owns_it() -> None:
    bank, _ = await ready_bank()
    await bank.reload_detection(detection())
    bank.cover(anomaly_alert())
    await bank.reload_detection(detection(id="d2", config=DetectorConfig(direction=Direction.UP)))
    bank.observe(batch(normal(NOW_US, 1) + normal(NOW_US, 1, series=1)))
    slots = bank._by_project["acme"]["lat"].slots
    # web-1: one for BOTH (detection and rule), one for UP; web-2: the same two models.
    assert len(slots) == 4


async def test_a_detector_nobody_owns_leaves_its_state_and_is_restored() -> None:
    bank, store = await ready_bank()
    bank.cover(anomaly_alert())
    bank.observe(batch(normal(NOW_US, 1)))
    await bank.warmed()
    bank.observe(batch(normal(NOW_US + 10 * S, 200)))
    bank.uncover("r1")
    assert not bank.wants("acme")
    await bank.flush(NOW_US + 3000 * S, everything=False)
    (key,) = store.states
    learned = store.states[key][1]["scalars"]["n"]
    assert learned == 201

    again = DetectorBank(store, FakeMetricStore(), FakeClock(NOW_US), seed=False)
    again.cover(anomaly_alert())
    again.observe(batch([(0, NOW_US + 2100 * S, 100.0)]))
    await again.warmed()
    (slot,) = again._by_project["acme"]["lat"].slots.values()
    assert slot.detector.describe()[2] == 202  # no re-learning from zero


async def test_points_met_while_warming_flag_nothing_then_are_learned() -> None:
    bank, _ = await ready_bank()
    bank.cover(anomaly_alert())
    first = bank.observe(
        batch([(0, NOW_US, 100.0)] + [(0, NOW_US + i * S, 500.0) for i in range(1, 20)])
    )
    assert first.events == [] and all(v == 0.0 for d in first.derived for v in d.values)
    await bank.warmed()
    (slot,) = bank._by_project["acme"]["lat"].slots.values()
    assert slot.warm is None and slot.detector.describe()[2] == 20


async def test_a_new_detector_learns_the_series_history() -> None:
    metrics = FakeMetricStore()
    await store_history(metrics)
    store = FakeAnomalyStore()
    bank = DetectorBank(store, metrics, FakeClock(NOW_US))
    bank.cover(anomaly_alert())
    sid = next(iter(metrics.series["acme"]))
    series = [{"id": sid, "name": "lat", "tags": {"host": "web-1"}}]
    bank.observe(batch([(0, NOW_US, 100.0)], series))
    await bank.warmed()
    (status,) = [s for s in bank._by_project["acme"]["lat"].slots.values()]
    assert status.detector.describe()[0] is ModelState.BASIC
    assert status.detector.describe()[2] == 301
    spike = bank.observe(batch([(0, NOW_US + 10 * S, 150.0)], series))
    assert [d.values for d in spike.derived] == [[1.0]]  # at once: no learning from zero


async def test_a_batch_is_scored_as_its_points_one_at_a_time() -> None:
    """Several points of one series in a batch are scored in turn (rounds), and a series
    with detectors of two models feeds both."""
    rng = random.Random(5)
    points = [(i % 2, NOW_US + (i // 2) * 10 * S, 100 + rng.gauss(0, 2)) for i in range(400)]
    points += [(0, NOW_US + 2000 * S, 160.0), (1, NOW_US + 2000 * S, 40.0)]
    results = []
    for batched in (True, False):
        bank, _ = await ready_bank()
        bank.cover(anomaly_alert("both", host="web-1"))
        await bank.reload_detection(detection(config=DetectorConfig(direction=Direction.UP)))
        bank.observe(batch([(0, NOW_US - S, 100.0), (1, NOW_US - S, 100.0)]))
        await bank.warmed()
        outputs = [bank.observe(batch(points))] if batched else [
            bank.observe(batch([p])) for p in points
        ]  # fmt: skip
        events = [(e.tags["host"], e.value, round(e.score, 9)) for o in outputs for e in o.events]
        derived = [v for o in outputs for d in o.derived for v in d.values]
        slots = bank._by_project["acme"]["lat"].slots.values()
        states = sorted(str(s.detector.to_state()) for s in slots)
        results.append((events, derived, states))
    assert results[0] == results[1]
    events, derived, states = results[0]
    # web-1 has two models (the rule's BOTH, the detection's UP), web-2 only UP.
    assert len(states) == 3
    assert events == [("web-1", 160.0, events[0][2]), ("web-1", 160.0, events[1][2])]
    assert len(derived) == 201 and derived[-1] == 1.0


async def test_a_value_that_is_not_finite_is_not_scored() -> None:
    bank, _ = await ready_bank()
    bank.cover(anomaly_alert())
    bank.observe(batch(normal(NOW_US, 1)))
    await bank.warmed()
    bank.observe(batch(normal(NOW_US + 10 * S, 50)))
    bank.observe(batch([(0, NOW_US + 600 * S, float("nan")), (0, NOW_US + 610 * S, 100.0)]))
    (slot,) = bank._by_project["acme"]["lat"].slots.values()
    state = slot.detector.to_state()["scalars"]
    assert state["n"] == 52 and all(v == v for v in state.values())


async def test_a_detector_dropped_while_its_history_is_read_leaves_its_row_alone() -> None:
    """Its row may be another detector's by the time the history comes back."""

    class SlowMetrics(FakeMetricStore):
        gate = asyncio.Event()

        async def aggregate(self, *args: Any, **kwargs: Any) -> Any:
            await self.gate.wait()
            return await super().aggregate(*args, **kwargs)

    metrics = SlowMetrics()
    await store_history(metrics)
    sid = next(iter(metrics.series["acme"]))
    series = [
        {"id": sid, "name": "lat", "tags": {"host": "web-1"}},
        {"id": sid + 1, "name": "lat", "tags": {"host": "web-2"}},
    ]
    bank = DetectorBank(FakeAnomalyStore(), metrics, FakeClock(NOW_US))
    bank.cover(anomaly_alert("r1", host="web-1"))
    bank.observe(batch(normal(NOW_US, 1), series))  # web-1's detector: its history pending
    for _ in range(5):
        await asyncio.sleep(0)
    bank.uncover("r1")  # its row is given back...
    bank.cover(anomaly_alert("r2", host="web-2"))
    bank.observe(batch(normal(NOW_US, 1, series=1), series))  # ...and taken by web-2's
    (slot,) = bank._by_project["acme"]["lat"].slots.values()
    SlowMetrics.gate.set()
    await bank.warmed()
    assert slot.tags == {"host": "web-2"} and slot.warm is None
    assert slot.detector.describe()[2] == 1  # its own point, nothing of web-1's history
    assert bank._rows.band_points[slot.row] == 0  # nor web-1's band minutes
