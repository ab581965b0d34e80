"""AnomalyStore contract: detections, detector states, anomalies and bands, on every store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from domain.anomaly.detection import AnomalyDetection
from domain.anomaly.detector import AnomalyDetector
from domain.anomaly.model import DetectorConfig, Direction, ModelState, Seasonality
from domain.anomaly.ports import AnomalyStore
from domain.anomaly.records import AnomalyRecord, BandRow
from tests.contract.conftest import StoreFactory
from tests.contract.data import NOW_US

DETECTION = AnomalyDetection(
    "d1", "alpha", "cpu", (), DetectorConfig(70.0, Direction.UP), True, NOW_US, "alice"
)


def record(ts_us: int, series: int = 1, score: float = 60.0, metric: str = "cpu") -> AnomalyRecord:
    return AnomalyRecord(
        "alpha", metric, series, {"host": f"h{series}"}, ts_us, 93.0, 47.5, 40.0, 55.0, score,
        10 ** (-score / 10), 6.1, Direction.UP, Seasonality.DAILY, ModelState.SEASONAL, 5000,
        86_400.0 * 3, True, "93.0 is 6.1 deviations above the usual 40.0-55.0 at 14:00",
    )  # fmt: skip


async def test_detections_are_saved_listed_and_compared_and_set(anomalies: AnomalyStore) -> None:
    assert await anomalies.save_detection(DETECTION)
    assert await anomalies.get_detection("alpha", "d1") == DETECTION
    assert await anomalies.get_detection("beta", "d1") is None  # a foreign id: missing
    changed = replace(DETECTION, enabled=False, version=2, updated_by="bob")
    assert await anomalies.save_detection(changed, expected_version=1)
    assert not await anomalies.save_detection(replace(changed, version=3), expected_version=1)
    assert await anomalies.list_detections("alpha") == [changed]
    assert await anomalies.enabled_detections() == []
    foreign = replace(DETECTION, project="beta")
    assert not await anomalies.save_detection(foreign)  # another project's id is not taken
    assert await anomalies.get_detection("alpha", "d1") == changed


async def test_detector_states_round_trip_exactly(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    detector = AnomalyDetector()
    for i in range(500):
        detector.observe(NOW_US + i * 60_000_000, 50.0 + (i % 7) * 0.5)
    state = detector.to_state()
    db = await store_factory(tmp_path)
    try:
        store: AnomalyStore = db.anomalies  # type: ignore[attr-defined]
        await store.save_detector_states({"k1": ("p1", state), "k2": ("p2", {"n": 1})})
        await store.save_detector_states({"k2": ("p2", {"n": 2})})  # replaced
    finally:
        await db.close()
    db = await store_factory(tmp_path)  # after a restart
    try:
        store = db.anomalies  # type: ignore[attr-defined]
        found = await store.load_detector_states(["p1", "p2"])
        assert found == {"k1": state, "k2": {"n": 2}}
        assert await store.load_detector_states(["p3"]) == {}
        restored = AnomalyDetector.from_state(found["k1"])
        assert restored.to_state() == state
        t = NOW_US + 500 * 60_000_000
        assert restored.observe(t, 52.0) == AnomalyDetector.from_state(state).observe(t, 52.0)
    finally:
        await db.close()


async def test_anomalies_are_listed_newest_first_paged_and_filtered(
    anomalies: AnomalyStore,
) -> None:
    await anomalies.add_anomalies(
        [record(NOW_US + i, series=i % 2, score=40.0 + i) for i in range(6)]
        + [record(NOW_US, metric="mem")]
    )
    await anomalies.add_anomalies([record(NOW_US + 5, series=1, score=45.0)])  # again: kept once
    listed = await anomalies.list_anomalies(
        "alpha", "cpu", start_us=NOW_US, end_us=NOW_US + 10, min_score=42.0, before=None, first=3
    )
    assert [(r.timestamp_us - NOW_US, r.series_id) for r in listed] == [(5, 1), (4, 0), (3, 1)]
    assert listed[0] == record(NOW_US + 5, series=1, score=45.0)
    after = await anomalies.list_anomalies(
        "alpha", "cpu", start_us=NOW_US, end_us=NOW_US + 10, min_score=42.0,
        before=(listed[-1].timestamp_us, listed[-1].series_id), first=3,
    )  # fmt: skip
    assert [r.timestamp_us - NOW_US for r in after] == [2]
    await anomalies.prune(NOW_US + 3)
    left = await anomalies.list_anomalies(
        "alpha", "cpu", start_us=0, end_us=NOW_US + 10, min_score=0.0, before=None, first=100
    )
    assert [r.timestamp_us - NOW_US for r in left] == [5, 4, 3]


async def test_band_rows_are_read_back_by_range(anomalies: AnomalyStore) -> None:
    rows = [
        BandRow("alpha", "cpu", s, {"host": f"h{s}"}, NOW_US + m * 60_000_000, 1.0, 0.5, 1.5, 6)
        for m in range(3)
        for s in (1, 2)
    ]
    await anomalies.add_band_rows(rows)
    await anomalies.add_band_rows([replace(rows[0], metric="mem")])
    found = await anomalies.band_rows(
        "alpha", "cpu", start_us=NOW_US + 60_000_000, end_us=NOW_US + 180_000_000
    )
    assert found == rows[2:]
    await anomalies.prune(NOW_US + 120_000_000)
    assert await anomalies.band_rows("alpha", "cpu", start_us=0, end_us=NOW_US * 2) == rows[4:]
