"""The AnalyticsJobStore contract: every store keeps jobs and results the same way, and
every change a runner makes is a compare-and-set on the job's state and attempt."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

import pytest

from domain.analytics.model import JobState
from domain.analytics.ports import AnalyticsJobStore
from domain.analytics.results import AnalyticsKind
from tests.contract.analytics_data import sample_job, stored
from tests.contract.conftest import StoreDatabase, StoreFactory
from tests.contract.data import NOW_US

DAY_US = 86_400_000_000


@pytest.fixture
def jobs(store_db: StoreDatabase) -> AnalyticsJobStore:
    return cast(AnalyticsJobStore, store_db.analytics)  # type: ignore[attr-defined]


async def test_a_job_reads_back_as_stored_and_only_in_its_project(jobs: AnalyticsJobStore) -> None:
    job = sample_job("j1")
    await jobs.add_job(job)
    assert await jobs.get_job("alpha", "j1", now_us=NOW_US) == job
    assert await jobs.get_job("beta", "j1", now_us=NOW_US) is None
    assert await jobs.get_job("alpha", "nope", now_us=NOW_US) is None


async def test_jobs_are_listed_newest_first_filtered_and_paged(jobs: AnalyticsJobStore) -> None:
    for i in range(5):
        kind = AnalyticsKind.TREND if i % 2 else AnalyticsKind.FORECAST
        await jobs.add_job(sample_job(f"j{i}", created_us=NOW_US + i, kind=kind))
    await jobs.add_job(sample_job("other", project="beta"))
    first = await jobs.list_jobs("alpha", now_us=NOW_US, first=2)
    assert [j.id for j in first.items] == ["j4", "j3"] and first.has_next_page
    last = first.items[-1]
    rest = await jobs.list_jobs("alpha", now_us=NOW_US, first=5, after=(last.created_us, last.id))
    assert [j.id for j in rest.items] == ["j2", "j1", "j0"] and not rest.has_next_page
    trends = await jobs.list_jobs("alpha", now_us=NOW_US, kind=AnalyticsKind.TREND)
    assert [j.id for j in trends.items] == ["j3", "j1"]
    await jobs.start_job("alpha", "j0", attempt=0, owner="a", now_us=NOW_US)
    running = await jobs.list_jobs("alpha", now_us=NOW_US, state=JobState.RUNNING)
    assert [j.id for j in running.items] == ["j0"]


async def test_only_one_of_two_racing_starts_wins_and_the_attempt_fences(
    jobs: AnalyticsJobStore,
) -> None:
    await jobs.add_job(sample_job("j1"))
    a, b = await asyncio.gather(
        jobs.start_job("alpha", "j1", attempt=0, owner="a", now_us=NOW_US),
        jobs.start_job("alpha", "j1", attempt=0, owner="b", now_us=NOW_US),
    )
    assert [x is not None for x in (a, b)].count(True) == 1
    started = a or b
    assert started is not None
    assert (started.state, started.attempt, started.started_us) == (JobState.RUNNING, 1, NOW_US)
    assert [j.id for j in await jobs.runnable_jobs(limit=10)] == ["j1"]

    # Its process died; another one starts it again at the next attempt.
    again = await jobs.start_job("alpha", "j1", attempt=1, owner="c", now_us=NOW_US + 5)
    assert again is not None and (again.attempt, again.owner) == (2, "c")
    # The first run, now stale, can neither report progress, store a result that counts,
    # nor finish the job.
    assert await jobs.update_progress("alpha", "j1", attempt=1, progress=0.5, phase="x") is None
    await jobs.save_results("alpha", "j1", 1, stored([{"kind": "FORECAST", "stale": True}]))
    stale_end = started.ended(JobState.SUCCEEDED, at_us=NOW_US + 6, ttl_us=DAY_US, count=1)
    assert not await jobs.finish_job(stale_end)

    await jobs.save_results("alpha", "j1", 2, stored([{"kind": "FORECAST", "n": 0}, {"n": 1}]))
    end = again.ended(JobState.SUCCEEDED, at_us=NOW_US + 9, ttl_us=DAY_US, count=2)
    assert await jobs.finish_job(end)
    kept = await jobs.get_job("alpha", "j1", now_us=NOW_US)
    assert kept == end
    assert await jobs.get_results("alpha", "j1", 2, offset=0, limit=10) == [
        {"kind": "FORECAST", "n": 0},
        {"n": 1},
    ]
    assert await jobs.get_results("alpha", "j1", 2, offset=1, limit=10) == [{"n": 1}]
    assert await jobs.get_results("alpha", "j1", 1, offset=0, limit=10) == []  # dropped
    assert await jobs.get_results("beta", "j1", 2, offset=0, limit=10) == []
    assert await jobs.runnable_jobs(limit=10) == []
    assert await jobs.start_job("alpha", "j1", attempt=2, owner="d", now_us=NOW_US) is None


async def test_progress_is_stored_and_a_cancel_request_reaches_the_runner(
    jobs: AnalyticsJobStore,
) -> None:
    await jobs.add_job(sample_job("j1"))
    await jobs.start_job("alpha", "j1", attempt=0, owner="a", now_us=NOW_US)
    seen = await jobs.update_progress("alpha", "j1", attempt=1, progress=0.4, phase="computing")
    assert seen is not None and (seen.progress, seen.phase, seen.cancel_requested) == (
        0.4,
        "computing",
        False,
    )
    asked = await jobs.request_cancel("alpha", "j1", now_us=NOW_US, ttl_us=DAY_US)
    assert asked is not None and asked.state is JobState.RUNNING and asked.cancel_requested
    seen = await jobs.update_progress("alpha", "j1", attempt=1, progress=0.5, phase="computing")
    assert seen is not None and seen.cancel_requested
    # A job cancelled while its runner was dead is not started again.
    assert await jobs.start_job("alpha", "j1", attempt=1, owner="b", now_us=NOW_US) is None


async def test_a_queued_job_is_cancelled_at_once(jobs: AnalyticsJobStore) -> None:
    await jobs.add_job(sample_job("j1"))
    done = await jobs.request_cancel("alpha", "j1", now_us=NOW_US + 1, ttl_us=DAY_US)
    assert done is not None
    assert (done.state, done.finished_us, done.expires_us) == (
        JobState.CANCELLED,
        NOW_US + 1,
        NOW_US + 1 + DAY_US,
    )
    assert await jobs.start_job("alpha", "j1", attempt=0, owner="a", now_us=NOW_US) is None
    assert await jobs.request_cancel("beta", "j1", now_us=NOW_US, ttl_us=DAY_US) is None


async def test_finished_jobs_expire_with_their_results(jobs: AnalyticsJobStore) -> None:
    await jobs.add_job(sample_job("old"))
    await jobs.add_job(sample_job("new", created_us=NOW_US + 1))
    started = await jobs.start_job("alpha", "old", attempt=0, owner="a", now_us=NOW_US)
    assert started is not None
    await jobs.save_results("alpha", "old", 1, stored([{"n": 0}]))
    await jobs.finish_job(started.ended(JobState.SUCCEEDED, at_us=NOW_US, ttl_us=DAY_US, count=1))

    later = NOW_US + DAY_US
    assert await jobs.get_job("alpha", "old", now_us=later) is None  # expired reads as missing
    assert [j.id for j in (await jobs.list_jobs("alpha", now_us=later)).items] == ["new"]
    assert await jobs.purge_expired(later) == 1
    assert await jobs.get_job("alpha", "old", now_us=NOW_US) is None
    assert await jobs.get_results("alpha", "old", 1, offset=0, limit=10) == []
    assert await jobs.get_job("alpha", "new", now_us=later) is not None  # unfinished: kept


async def test_jobs_and_results_survive_a_reopen(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    db = await store_factory(tmp_path)
    try:
        jobs = cast(AnalyticsJobStore, db.analytics)  # type: ignore[attr-defined]
        await jobs.add_job(sample_job("j1"))
        await jobs.add_job(sample_job("done", created_us=NOW_US - 1))
        started = await jobs.start_job("alpha", "done", attempt=0, owner="a", now_us=NOW_US)
        assert started is not None
        await jobs.save_results("alpha", "done", 1, stored([{"n": n} for n in range(3)]))
        ended = started.ended(JobState.SUCCEEDED, at_us=NOW_US + 1, ttl_us=DAY_US, count=3)
        assert await jobs.finish_job(ended)
    finally:
        await db.close()
    db = await store_factory(tmp_path)
    try:
        jobs = cast(AnalyticsJobStore, db.analytics)  # type: ignore[attr-defined]
        found = await jobs.runnable_jobs(limit=10)
        assert [j.id for j in found] == ["j1"]
        results = await jobs.get_results("alpha", "done", 1, offset=1, limit=10)
        assert results == [{"n": 1}, {"n": 2}]
    finally:
        await db.close()


async def test_results_larger_than_one_write_come_back_whole_and_in_order(
    jobs: AnalyticsJobStore,
) -> None:
    """A FORECAST job's items are ~130 KB each: a store writes them in several runs, and a
    second save of the same attempt still replaces the first."""
    await jobs.add_job(sample_job("big"))
    started = await jobs.start_job("alpha", "big", attempt=0, owner="a", now_us=NOW_US)
    assert started is not None
    await jobs.save_results("alpha", "big", 1, stored([{"n": -1}] * 50))
    band = [i / 7 for i in range(16_000)]  # ~300 KB of JSON: a few items per write at most
    items = [{"kind": "FORECAST", "n": n, "mean": band} for n in range(12)]
    await jobs.save_results("alpha", "big", 1, stored(items))
    assert await jobs.finish_job(
        started.ended(JobState.SUCCEEDED, at_us=NOW_US + 1, ttl_us=DAY_US, count=len(items))
    )
    kept = await jobs.get_results("alpha", "big", 1, offset=0, limit=100)
    assert [item["n"] for item in kept] == list(range(12))
    assert kept[7]["mean"] == band
    assert [i["n"] for i in await jobs.get_results("alpha", "big", 1, offset=10, limit=5)] == [
        10,
        11,
    ]
