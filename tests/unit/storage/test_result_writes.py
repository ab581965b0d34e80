"""Analytics results on the embedded store: in files beside the database, so a job's
132 MB of forecasts neither hold the single writer nor make its checkpoints slow."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from domain.analytics.model import JobState
from infra.stores.duckdb.database import DuckDBDatabase
from tests.contract.analytics_data import sample_job, stored
from tests.contract.data import NOW_US

DAY_US = 86_400_000_000
BAND = [i / 7 for i in range(16_000)]  # ~300 KB of JSON per item


async def test_the_store_writes_while_a_large_result_is_being_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The result's file is held in its fsync; a write (any write stands for an ingest
    batch: the store's writer runs one at a time) must not wait for it to end."""
    synced = threading.Event()
    release = threading.Event()
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        synced.set()
        release.wait(10)
        real_fsync(fd)

    async with await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb")) as db:
        jobs = db.analytics
        await jobs.add_job(sample_job("big"))
        started = await jobs.start_job("alpha", "big", attempt=0, owner="a", now_us=NOW_US)
        assert started is not None
        items = [{"kind": "FORECAST", "n": n, "mean": BAND} for n in range(100)]  # ~30 MB
        monkeypatch.setattr(os, "fsync", slow_fsync)
        saving = asyncio.create_task(jobs.save_results("alpha", "big", 1, stored(items)))
        assert await asyncio.to_thread(synced.wait, 10)  # the save is in its fsync
        try:
            async with asyncio.timeout(5):
                assert await jobs.update_progress(
                    "alpha", "big", attempt=1, progress=0.9, phase="x"
                )
            assert not saving.done()
        finally:
            release.set()
        await saving
        assert await jobs.finish_job(
            started.ended(JobState.SUCCEEDED, at_us=NOW_US + 1, ttl_us=DAY_US, count=100)
        )
        kept = await jobs.get_results("alpha", "big", 1, offset=95, limit=10)
        assert [item["n"] for item in kept] == [95, 96, 97, 98, 99]


async def test_a_run_cut_short_leaves_no_result_and_files_go_with_their_job(
    tmp_path: Path,
) -> None:
    path = tmp_path / "vigil.duckdb"
    folder = Path(f"{path}.results")
    async with await DuckDBDatabase.open(str(path)) as db:
        jobs = db.analytics
        await jobs.add_job(sample_job("j1"))
        first = await jobs.start_job("alpha", "j1", attempt=0, owner="a", now_us=NOW_US)
        assert first is not None
        # The process died while writing attempt 1: its lines are there, its index is not.
        _half_written(folder, "j1-1")
        assert await jobs.get_results("alpha", "j1", 1, offset=0, limit=10) == []

        again = await jobs.start_job("alpha", "j1", attempt=1, owner="b", now_us=NOW_US + 1)
        assert again is not None
        await jobs.save_results("alpha", "j1", 2, stored([{"n": 7}]))
        ended = again.ended(JobState.SUCCEEDED, at_us=NOW_US + 2, ttl_us=DAY_US, count=1)
        assert await jobs.finish_job(ended)
        assert _names(folder) == ["j1-2.idx", "j1-2.jsonl"]
        assert await jobs.get_results("alpha", "j1", 2, offset=0, limit=10) == [{"n": 7}]
        assert await jobs.get_results("beta", "j1", 2, offset=0, limit=10) == []

        assert await jobs.purge_expired(NOW_US + 2 + DAY_US) == 1
        assert _names(folder) == []


def _names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def _half_written(folder: Path, run: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{run}.jsonl").write_bytes(b'{"n": 0}\n{"n": 1}\n')
    (folder / f"{run}.idx.part").write_bytes(b"\0" * 8)
