"""DuckDB compaction (docs/decisions/0026): closed partitions move from `points_hot` to
`points_compacted`; every reader answers as before, and no point is lost or doubled,
also while batches are appended during a compaction."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import duckdb

from domain.matchers import MatchOp, TagMatcher
from domain.metrics.model import Aggregation
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery
from infra.stores.duckdb import DuckDBDatabase
from infra.stores.duckdb.compaction import Compactor, closed_runs, delete_raw_points
from infra.stores.duckdb.migrations import LAYOUT_VERSION, migrate
from infra.stores.duckdb.runner import transaction
from tests.contract.data import MINUTE, NOW_US, SECOND, Point, point_batch, sid_of

HOUR = 60 * MINUTE
CLOSED = NOW_US - 3 * HOUR  # four hours ago on a whole hour: two closed partitions from it
OPEN = NOW_US + HOUR  # the current hour: open, never compacted
HOSTS = ("h0", "h1", "h2")


def _points(start: int, count: int, step: int, *, name: str = "cpu") -> list[Point]:
    # Small integers: sums are exact whatever order a scan meets the points in.
    return [
        Point(name, {"host": host}, start + i * step, float((i * 7 + n) % 97))
        for i in range(count)
        for n, host in enumerate(HOSTS)
    ]


async def _answers(db: DuckDBDatabase) -> list[object]:
    """What every reader of points says: charts, lists, single points, activity."""
    metrics = db.metrics
    one = (TagMatcher("host", MatchOp.EQ, "h1"),)
    answers: list[object] = []
    for aggregation in Aggregation:
        for matchers, group_by in ((one, None), ((), ()), ((), None)):
            query = GetMetricSeriesQuery(
                "alpha", "cpu", CLOSED, OPEN + HOUR, aggregation, 10 * MINUTE, matchers, group_by
            )
            answers.append(await metrics.aggregate(query))
    for matchers in (one, ()):
        page = await metrics.list_points(GetMetricsListQuery("alpha", "cpu", matchers, first=50))
        answers.append(page)
        old = GetMetricsListQuery("alpha", "cpu", matchers, end_us=CLOSED + HOUR, first=20)
        answers.append(await metrics.list_points(old))
    sid = sid_of("alpha", "cpu", {"host": "h2"})
    for ts in (CLOSED, CLOSED + 17 * SECOND * 10, CLOSED + HOUR + 50 * SECOND, OPEN + SECOND):
        answers.append(await metrics.get_point("alpha", sid, ts))
    answers.append(await metrics.series_activity(CLOSED - HOUR, CLOSED - HOUR))
    return answers


def _compactor(db: DuckDBDatabase, now_us: int = OPEN + 5 * MINUTE) -> Compactor:
    """The store's compactor with a clock of its own (default: the open partition's first
    slice not closed yet)."""
    return Compactor(db._runner, now_us=lambda: now_us)


def _tables(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in ("points_hot", "points_compacted")
        }


async def test_small_closed_partitions_move_together_up_to_a_budget(tmp_path: Path) -> None:
    db = await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb"))
    closed = _points(CLOSED, 720, 10 * SECOND)  # two hours, 1,080 points each
    await db.metrics.append(point_batch("alpha", closed))
    runs = await db._runner.read(closed_runs, HOUR, OPEN)
    first = CLOSED - CLOSED % HOUR
    assert runs == [(first, first + 2 * HOUR)]
    assert await db._runner.read(closed_runs, HOUR, OPEN, 1_080) == [
        (first, first + HOUR),
        (first + HOUR, first + 2 * HOUR),
    ]
    await db.close()


async def test_every_reader_answers_the_same_after_compaction(tmp_path: Path) -> None:
    path = tmp_path / "vigil.duckdb"
    db = await DuckDBDatabase.open(str(path))
    closed = _points(CLOSED, 720, 10 * SECOND)  # two hours: two partitions
    recent = _points(OPEN, 5, SECOND)
    for chunk in range(0, len(closed), 600):  # time-major batches, as collectors send
        await db.metrics.append(point_batch("alpha", closed[chunk : chunk + 600]))
    await db.metrics.append(point_batch("alpha", recent))
    before = await _answers(db)

    run = await _compactor(db).compact()
    # Two partitions of 2,160 points: one move (compaction.RUN_POINTS).
    assert (run.partitions, run.slices, run.points) == (1, 0, len(closed))
    assert await _answers(db) == before
    assert (await _compactor(db).compact()).partitions == 0  # nothing left to move
    await db.close()

    assert _tables(path) == {"points_hot": len(recent), "points_compacted": len(closed)}
    with duckdb.connect(str(path), read_only=True) as con:
        stored = con.execute("SELECT series_id, epoch_us(ts) FROM points_compacted").fetchall()
    # Each partition is one run sorted by (series, time).
    for start in (CLOSED, CLOSED + HOUR):
        run_rows = [row for row in stored if start <= row[1] < start + HOUR]
        assert run_rows == sorted(run_rows) and len(run_rows) == len(closed) // 2
    db = await DuckDBDatabase.open(str(path))
    try:
        assert await _answers(db) == before
    finally:
        await db.close()


async def test_the_open_partition_is_compacted_by_slices_then_merged_once_closed(
    tmp_path: Path,
) -> None:
    """Closed slices of the open partition move as short runs; once the partition has
    closed, its rest moves and its runs become one, sorted by (series, time)."""
    path = tmp_path / "vigil.duckdb"
    db = await DuckDBDatabase.open(str(path))
    opened = _points(OPEN, 120, 30 * SECOND)  # the whole hour, every 30 s
    try:
        await db.metrics.append(point_batch("alpha", opened))
        before = await _answers(db)
        run = await _compactor(db, OPEN + 25 * MINUTE).compact()
        first_20_minutes = 40 * len(HOSTS)
        assert (run.partitions, run.slices, run.merged) == (0, 2, 0)
        assert run.points == first_20_minutes
        assert await _answers(db) == before
        run = await _compactor(db, OPEN + HOUR + 3 * MINUTE).compact()
        assert (run.partitions, run.slices, run.merged) == (1, 0, 1)
        assert run.points == len(opened) - first_20_minutes
        assert await _answers(db) == before
        assert (await _compactor(db, OPEN + 2 * HOUR).compact()).moves == 0
    finally:
        await db.close()
    assert _tables(path) == {"points_hot": 0, "points_compacted": len(opened)}
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("SELECT series_id, epoch_us(ts) FROM points_compacted").fetchall()
        assert rows == sorted(rows)  # one run
        assert con.execute("SELECT count(*) FROM compaction_slices").fetchall() == [(0,)]


async def test_a_point_stored_again_replaces_the_compacted_one(tmp_path: Path) -> None:
    """Late points of a compacted partition go to the hot table; one at a stored
    (series, timestamp) replaces the compacted point, wherever it is."""
    path = tmp_path / "vigil.duckdb"
    db = await DuckDBDatabase.open(str(path))
    try:
        await db.metrics.append(point_batch("alpha", _points(CLOSED, 100, SECOND)))
        await _compactor(db).compact()
        again = [Point("cpu", {"host": "h0"}, CLOSED + 5 * SECOND, 1000.0)]
        late = [Point("cpu", {"host": "h0"}, CLOSED + 30 * MINUTE, 2000.0)]
        await db.metrics.append(point_batch("alpha", again + late))
        sid = sid_of("alpha", "cpu", {"host": "h0"})
        point = await db.metrics.get_point("alpha", sid, CLOSED + 5 * SECOND)
        assert point is not None and point.value == 1000.0
        count = GetMetricSeriesQuery("alpha", "cpu", CLOSED, OPEN, Aggregation.COUNT, group_by=())
        assert (await db.metrics.aggregate(count)).series[0].values == [301.0]
        assert (await _compactor(db).compact()).points == 2  # the late run moves too
        assert (await db.metrics.aggregate(count)).series[0].values == [301.0]
        point = await db.metrics.get_point("alpha", sid, CLOSED + 5 * SECOND)
        assert point is not None and point.value == 1000.0
    finally:
        await db.close()
    assert _tables(path) == {"points_hot": 0, "points_compacted": 301}


async def test_appends_go_on_during_a_compaction_and_nothing_is_lost_or_doubled(
    tmp_path: Path,
) -> None:
    """A partition of 2M points is compacted while batches are appended, some of them
    into that very partition: appends complete before the compaction does, and every
    point is stored exactly once (the ones that arrived late move at the next run)."""
    path = tmp_path / "vigil.duckdb"
    big = 2_000_000
    sid = sid_of("alpha", "big", {})
    with duckdb.connect(str(path)) as con:
        migrate(con)
        con.execute(
            "INSERT INTO series VALUES ('alpha', $sid, 'big', MAP {}, 'gauge', '', '', now())",
            {"sid": sid},
        )
        con.execute(
            "INSERT INTO points_hot SELECT $sid, make_timestamp($first + i), i % 1000"
            " FROM range($n) t(i)",
            {"sid": sid, "first": CLOSED, "n": big},
        )
    db = await DuckDBDatabase.open(str(path))
    try:
        compaction = asyncio.create_task(_compactor(db).compact())
        appended_meanwhile, batches = 0, 0
        while not compaction.done() or batches < 5:
            # Half into the partition being compacted (late), half into the open one.
            start = (CLOSED + 20 * MINUTE if batches % 2 else OPEN) + batches * 2 * SECOND
            await db.metrics.append(point_batch("alpha", _points(start, 100, 10_000, name="x")))
            batches += 1
            appended_meanwhile += not compaction.done()
        first = await compaction
        print(f"\n{appended_meanwhile} of {batches} batches appended while compacting {big}")
        assert appended_meanwhile >= 1 and first.points >= big
        await _compactor(db).compact()  # the late points that arrived meanwhile
        count = GetMetricSeriesQuery("alpha", "x", CLOSED, OPEN + HOUR, Aggregation.COUNT)
        counted = await db.metrics.aggregate(count)
        assert [line.values for line in counted.series] == [[100.0 * batches]] * len(HOSTS)
        big_count = GetMetricSeriesQuery("alpha", "big", CLOSED, OPEN, Aggregation.COUNT)
        assert (await db.metrics.aggregate(big_count)).series[0].values == [float(big)]
    finally:
        await db.close()
    tables = _tables(path)
    assert tables["points_hot"] == len(HOSTS) * 100 * (batches // 2 + batches % 2)  # open only
    assert sum(tables.values()) == big + len(HOSTS) * 100 * batches


async def test_retention_deletes_old_raw_points_of_some_series_from_both_tables(
    tmp_path: Path,
) -> None:
    path = tmp_path / "vigil.duckdb"
    db = await DuckDBDatabase.open(str(path))
    try:
        await db.metrics.append(point_batch("alpha", _points(CLOSED, 360, 10 * SECOND)))
        await _compactor(db).compact()
        late = _points(CLOSED + 30 * MINUTE + 1000, 10, SECOND // 2)
        await db.metrics.append(point_batch("alpha", late))
        doomed = [sid_of("alpha", "cpu", {"host": h}) for h in ("h0", "h1")]
        # 181 compacted points of each before the cut, and the 10 late ones still hot.
        cut = CLOSED + 30 * MINUTE + 10 * SECOND
        deleted = await db._runner.write(transaction(delete_raw_points), doomed, 0, cut)
        assert deleted == 2 * (181 + 10)
        assert await db._runner.write(transaction(delete_raw_points), [], 0, cut) == 0
        count = GetMetricSeriesQuery("alpha", "cpu", CLOSED, OPEN, Aggregation.COUNT)
        counted = {
            line.tags["host"]: line.values for line in (await db.metrics.aggregate(count)).series
        }
        assert counted == {"h0": [179.0], "h1": [179.0], "h2": [370.0]}
    finally:
        await db.close()


def test_a_layout_8_file_keeps_its_points_in_the_hot_table(tmp_path: Path) -> None:
    """Layout 9 renames `points` to `points_hot` and reads both tables through the view."""
    path = tmp_path / "vigil.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE points (series_id BIGINT NOT NULL, ts TIMESTAMP NOT NULL,"
            " value DOUBLE NOT NULL)"
        )
        con.execute(
            "INSERT INTO points SELECT 7, make_timestamp($t + i), i FROM range(10) t(i)",
            {"t": CLOSED},
        )
        con.execute(
            "CREATE TABLE vigil_layout (version INTEGER PRIMARY KEY,"
            " name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        con.execute("INSERT INTO vigil_layout VALUES (8, 'old', now())")
        assert [m.version for m in migrate(con)] == list(range(9, LAYOUT_VERSION + 1))
        assert con.execute("SELECT count(*), sum(value) FROM points").fetchall() == [(10, 45.0)]
        assert con.execute("SELECT count(*) FROM points_hot").fetchall() == [(10,)]
        assert con.execute("SELECT count(*) FROM points_compacted").fetchall() == [(0,)]


async def test_a_point_replaced_during_a_compaction_keeps_its_new_value(tmp_path: Path) -> None:
    """The replacement commits first; the compaction then meets a row deleted since its
    snapshot and rolls back (a write-write conflict), and the next run moves the partition.
    Whatever the interleaving, the point has its new value and is stored once."""
    path = tmp_path / "vigil.duckdb"
    big = 2_000_000
    sid = sid_of("alpha", "big", {})
    with duckdb.connect(str(path)) as con:
        migrate(con)
        con.execute(
            "INSERT INTO series VALUES ('alpha', $sid, 'big', MAP {}, 'gauge', '', '', now())",
            {"sid": sid},
        )
        con.execute(
            "INSERT INTO points_hot SELECT $sid, make_timestamp($first + i), i FROM range($n) t(i)",
            {"sid": sid, "first": CLOSED, "n": big},
        )
    db = await DuckDBDatabase.open(str(path))
    try:
        compaction = asyncio.create_task(_compactor(db).compact())
        await asyncio.sleep(0.05)  # inside the compaction, most likely
        await db.metrics.append(point_batch("alpha", [Point("big", {}, CLOSED + 5, -1.0)]))
        with contextlib.suppress(duckdb.TransactionException):
            await compaction
        await _compactor(db).compact()
        point = await db.metrics.get_point("alpha", sid, CLOSED + 5)
        assert point is not None and point.value == -1.0
        count = GetMetricSeriesQuery("alpha", "big", CLOSED, OPEN, Aggregation.COUNT)
        assert (await db.metrics.aggregate(count)).series[0].values == [float(big)]
    finally:
        await db.close()
    assert _tables(path) == {"points_hot": 0, "points_compacted": big}


async def test_self_monitoring_counts_the_points_compacted(tmp_path: Path) -> None:
    db = await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb"))
    try:
        await db.metrics.append(point_batch("alpha", _points(CLOSED, 100, SECOND)))
        await db.compactor.compact()
        counters = {p["name"]: p["value"] for p in db.metric_points()}
        assert counters["vigil.store.compacted_points_total"] == 100.0 * len(HOSTS)
        assert counters["vigil.store.compaction_failures_total"] == 0.0
    finally:
        await db.close()


async def test_a_new_file_takes_the_block_size_and_an_existing_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    small, default = tmp_path / "small.duckdb", tmp_path / "default.duckdb"
    for path, size in ((small, 65_536), (default, None)):
        db = await DuckDBDatabase.open(str(path), block_bytes=size)
        await db.metrics.append(point_batch("alpha", _points(CLOSED, 100, SECOND)))
        await db.close()
    db = await DuckDBDatabase.open(str(default), block_bytes=65_536)  # an existing file
    await db.close()
    sizes = {}
    for path in (small, default):
        with duckdb.connect(str(path), read_only=True) as con:
            sizes[path.name] = con.execute(
                "SELECT block_size FROM pragma_database_size()"
            ).fetchall()
    assert sizes == {"small.duckdb": [(65_536,)], "default.duckdb": [(262_144,)]}
