"""The DuckDB writer's memory of committed dirty spans: a late append inside known spans
writes nothing; one past them widens the span in the table (AHEAD_US past its newest
bucket, never past the watermark); forgetting marks again."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from domain.storage.tiers import HOUR, MINUTE
from infra.stores.duckdb.dirty_spans import AHEAD_US, KnownSpans, SpanPlan, late_spans
from infra.stores.duckdb.overlap import Columns
from infra.stores.duckdb.rollup_sql import DIRTY_SPANS

M, H = MINUTE.resolution_us, HOUR.resolution_us
A = AHEAD_US  # 15 minutes: in the 1h tier, one bucket
BASE = 1_000 * H
WATERMARKS = {"1m": BASE + 2 * H, "1h": BASE + 2 * H}


@pytest.fixture
def cur() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(DIRTY_SPANS)
    return con


def columns(points: list[tuple[int, int]]) -> Columns:
    """(series id, timestamp) pairs."""
    ids = sorted({sid for sid, _ in points})
    slot = {sid: n for n, sid in enumerate(ids)}
    return Columns(
        series_ids=ids,
        slot=np.array([slot[sid] for sid, _ in points], dtype=np.int64),
        ts=np.array([ts for _, ts in points], dtype=np.int64),
        value=np.zeros(len(points)),
    )


def spans(cur: duckdb.DuckDBPyConnection, tier: str) -> dict[int, tuple[int, int]]:
    rows = cur.execute(
        "SELECT series_id, lo_us, hi_us FROM rollup_dirty_spans WHERE tier = $t", {"t": tier}
    ).fetchall()
    return {sid: (lo, hi) for sid, lo, hi in rows}


def test_a_late_append_inside_committed_spans_writes_nothing(
    cur: duckdb.DuckDBPyConnection,
) -> None:
    known = KnownSpans()
    plan, touched = late_spans(
        cur, WATERMARKS, known, columns([(1, BASE + 5 * M), (1, BASE + 50 * M), (2, BASE + M)])
    )
    assert touched == {"1m": 2, "1h": 2}
    assert spans(cur, "1m") == {1: (BASE + 5 * M, BASE + 50 * M + A), 2: (BASE + M, BASE + M + A)}
    assert plan.written["1h"] == {1: (BASE, BASE + H), 2: (BASE, BASE + H)}

    # Not committed yet: the same buckets are marked again (a rollback would lose them).
    assert late_spans(cur, WATERMARKS, known, columns([(1, BASE + 9 * M)]))[1]["1m"] == 1
    known.commit(plan)
    again, touched = late_spans(cur, WATERMARKS, known, columns([(1, BASE + 9 * M + 7)]))
    assert touched == {} and again.written == {}

    # Past the known span: that series' span widens in the table, the other is left alone
    # (and the 1h tier's span already reached that bucket ahead of its points).
    _, touched = late_spans(
        cur, WATERMARKS, known, columns([(1, BASE + 80 * M), (2, BASE + M + 3)])
    )
    assert touched == {"1m": 1}
    assert spans(cur, "1m")[1] == (BASE + 5 * M, BASE + 80 * M + A)
    assert spans(cur, "1h")[1] == (BASE, BASE + H)


def test_forgotten_spans_are_marked_again(cur: duckdb.DuckDBPyConnection) -> None:
    known = KnownSpans()
    plan, _ = late_spans(cur, WATERMARKS, known, columns([(1, BASE + 5 * M)]))
    known.commit(plan)
    assert len(known) == 2
    cur.execute("DELETE FROM rollup_dirty_spans")  # what a refresh does once recomputed
    known.forget()
    assert len(known) == 0
    _, touched = late_spans(cur, WATERMARKS, known, columns([(1, BASE + 5 * M)]))
    assert touched == {"1m": 1, "1h": 1}
    assert spans(cur, "1m") == {1: (BASE + 5 * M, BASE + 5 * M + A)}


def test_points_after_every_watermark_cost_no_statement(cur: duckdb.DuckDBPyConnection) -> None:
    plan, touched = late_spans(cur, WATERMARKS, KnownSpans(), columns([(1, BASE + 3 * H)]))
    assert touched == {} and plan.written == {} and spans(cur, "1m") == {}


def test_a_backfill_moving_forward_marks_once_per_stretch_ahead(
    cur: duckdb.DuckDBPyConnection,
) -> None:
    """One point a minute for 90 minutes, each appended and committed alone."""
    known = KnownSpans()
    statements = {"1m": 0, "1h": 0}
    for minute in range(90):
        plan, touched = late_spans(cur, WATERMARKS, known, columns([(1, BASE + minute * M)]))
        known.commit(plan)
        for tier in touched:
            statements[tier] += 1
    # Marks at minutes 0, 16, 32, 48, 64 and 80, each reaching 15 minutes further.
    assert statements == {"1m": 6, "1h": 1}
    assert spans(cur, "1m") == {1: (BASE, BASE + 80 * M + A)}
    assert spans(cur, "1h") == {1: (BASE, BASE + H)}


def test_marks_ahead_stop_at_the_last_rolled_up_bucket(cur: duckdb.DuckDBPyConnection) -> None:
    watermark = WATERMARKS["1m"]
    late_spans(cur, WATERMARKS, KnownSpans(), columns([(1, watermark - 3 * M)]))
    assert spans(cur, "1m") == {1: (watermark - 3 * M, watermark - M)}
    assert spans(cur, "1h") == {1: (watermark - H, watermark - H)}


def test_sorted_lookup_and_dict_lookup_agree() -> None:
    """`uncovered` reads sorted arrays when an append names many of the known series and
    a dict per series when it names few; both answer the same, before and after changes."""
    rng = np.random.default_rng(7)
    known = KnownSpans()
    ids = rng.choice(2**62, size=400, replace=False).astype(np.int64)
    for round_ in range(3):
        chosen = rng.choice(ids, size=150, replace=False)
        written = {
            int(sid): (int(lo), int(lo) + int(rng.integers(1, 50)))
            for sid, lo in zip(chosen, rng.integers(0, 100, size=150), strict=True)
        }
        known.commit(SpanPlan(written={"1m": written}))
        lo = rng.integers(-5, 110, size=len(ids))
        hi = lo + rng.integers(0, 40, size=len(ids))
        expected = np.array(
            [
                int(sid) not in known._of["1m"]
                or not (known._of["1m"][int(sid)][0] <= a and b <= known._of["1m"][int(sid)][1])
                for sid, a, b in zip(ids, lo, hi, strict=True)
            ]
        )
        assert (known.uncovered("1m", ids, lo, hi) == expected).all(), round_  # sorted arrays
        few = slice(0, 3)  # 3 series against ~150-400 known spans: the dict path
        assert (known.uncovered("1m", ids[few], lo[few], hi[few]) == expected[few]).all()


def test_late_series_wait_for_their_refresh_until_they_go_quiet() -> None:
    known = KnownSpans()
    known.commit(SpanPlan(late={"1m": np.array([1, 2], dtype=np.int64)}))
    known.commit(SpanPlan(late={"1m": np.array([2, 3], dtype=np.int64)}))
    assert sorted(known.still_busy("1m", quiet_s=60, most_s=600).tolist()) == [1, 2, 3]
    assert known.still_busy("1m", quiet_s=0, most_s=600).tolist() == []  # quiet at once
    assert known.still_busy("1m", quiet_s=60, most_s=0).tolist() == []  # waited long enough
    known.refreshed("1m", np.array([2], dtype=np.int64))
    assert sorted(known.still_busy("1m", quiet_s=60, most_s=600).tolist()) == [1, 3]
    assert known.still_busy("1h", quiet_s=60, most_s=600).tolist() == []


def test_per_series_extent_of_late_points_by_slot(cur: duckdb.DuckDBPyConnection) -> None:
    """Only a tier's late points count: the 1h tier's watermark is older than some of
    series 1's points, which the 1m tier still takes as late."""
    marks = {"1m": BASE + 2 * H, "1h": BASE + H}
    plan, _ = late_spans(
        cur,
        marks,
        KnownSpans(),
        columns([(9, BASE + 70 * M), (1, BASE + 3 * M), (1, BASE + 90 * M), (9, BASE + 2 * M)]),
    )
    assert spans(cur, "1m") == {
        1: (BASE + 3 * M, BASE + 90 * M + A),
        9: (BASE + 2 * M, BASE + 70 * M + A),
    }
    assert spans(cur, "1h") == {1: (BASE, BASE), 9: (BASE, BASE)}  # never past its watermark
    assert sorted(plan.late["1h"].tolist()) == [1, 9]


def test_queued_late_series_fold_before_they_pile_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Appends only queue their series; past FOLD_PAST queued ids they are folded, so the
    memory stays bounded when no refresh reads them (rollups off)."""
    from infra.stores.duckdb import dirty_spans

    monkeypatch.setattr(dirty_spans._Busy, "FOLD_PAST", 5)
    known = KnownSpans()
    for _ in range(4):
        known.commit(SpanPlan(late={"1m": np.array([1, 2, 3], dtype=np.int64)}))
    busy = known._busy["1m"]
    assert busy._queued_count <= 5 and len(busy._ids) == 3
    assert sorted(known.still_busy("1m", quiet_s=60, most_s=600).tolist()) == [1, 2, 3]


def test_a_refresh_forgets_the_spans_of_the_series_it_worked_on_only(
    cur: duckdb.DuckDBPyConnection,
) -> None:
    """A refresh narrows the spans of the series it recomputed; the writer forgets those
    (a late point there is marked again) and keeps every other series' (a flood of late
    points to series waiting for their refresh marks nothing after each pass)."""
    known = KnownSpans()
    plan, _ = late_spans(cur, WATERMARKS, known, columns([(1, BASE + 5 * M), (2, BASE + 5 * M)]))
    known.commit(plan)
    cur.execute("DELETE FROM rollup_dirty_spans WHERE tier = '1m' AND series_id = 1")

    known.forget_series("1m", np.array([1], dtype=np.int64))

    _, touched = late_spans(cur, WATERMARKS, known, columns([(2, BASE + 5 * M)]))
    assert touched == {}  # series 2's spans are still known
    _, touched = late_spans(cur, WATERMARKS, known, columns([(1, BASE + 5 * M)]))
    assert touched == {"1m": 1}  # series 1's 1m span is marked again; its 1h one is known
    assert spans(cur, "1m")[1] == (BASE + 5 * M, BASE + 5 * M + A)
