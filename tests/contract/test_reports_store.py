"""ReportStore and ArtefactStore contract: definitions with compare-and-set, runs newest
first, files in and out byte for byte (several chunks on MongoDB), on every store."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from gridfs import AsyncGridFSBucket
from pymongo.asynchronous.database import AsyncDatabase

from domain.reports.document import Artefact
from domain.reports.model import (
    MissedSlots,
    Report,
    ReportFormat,
    ReportRun,
    RunStatus,
    RunTrigger,
    Schedule,
    ScheduleKind,
    SectionKind,
    SectionSpec,
)
from domain.reports.ports import ArtefactStore, ReportStore
from infra.bootstrap import StoreDatabase
from infra.stores.mongo import MongoDatabase
from infra.stores.mongo.reports import BUCKET
from tests.contract.data import NOW_US


@pytest.fixture
def reports(store_db: StoreDatabase) -> ReportStore:
    return store_db.reports


@pytest.fixture
def artefacts(store_db: StoreDatabase) -> ArtefactStore:
    return store_db.report_artefacts


def report(n: int, project: str = "alpha") -> Report:
    return Report(
        id=f"r{n}",
        project=project,
        title=f"report {n}",
        time_range="last 7 days",
        timezone="Europe/Paris",
        format=ReportFormat.CSV,
        sections=(
            SectionSpec(
                SectionKind.SERIES,
                "cpu",
                metric="cpu",
                matchers=(("host", "=~", "web-.*"),),
                group_by=("host",),
                step_seconds=600,
            ),
            SectionSpec(SectionKind.DASHBOARD, dashboard_id="d1", variables={"host": "web-1"}),
            SectionSpec(SectionKind.MARKDOWN, markdown="# hello"),
        ),
        created_at_us=NOW_US + n,
        created_by="erin",
        schedule=Schedule(ScheduleKind.CRON, "0 9 * * 1", "Europe/Paris", MissedSlots.SKIP),
        recipients=("c1",),
    )


def run(n: int, report_id: str = "r1", project: str = "alpha") -> ReportRun:
    return ReportRun(
        id=f"run-{project}-{n}",
        project=project,
        report_id=report_id,
        trigger=RunTrigger.MANUAL,
        status=RunStatus.RUNNING,
        started_us=NOW_US + n,
        format=ReportFormat.CSV,
    )


async def test_reports_are_inserted_once_and_changed_by_version(reports: ReportStore) -> None:
    first = report(1)
    assert await reports.save_report(first)
    assert not await reports.save_report(first)  # the id exists
    assert await reports.get_report("alpha", "r1") == first
    assert await reports.get_report("beta", "r1") is None  # a foreign id reads as missing
    changed = first.changed(replace(first, title="renamed"), at_us=NOW_US + 9, by="vic")
    assert await reports.save_report(changed, expected_version=1)
    assert not await reports.save_report(changed, expected_version=1)  # stale
    assert await reports.get_report("alpha", "r1") == changed
    assert changed.version == 2 and changed.created_by == "erin"


async def test_reports_list_oldest_first_by_project_or_all(reports: ReportStore) -> None:
    for n in (3, 1, 2):
        assert await reports.save_report(report(n))
    assert await reports.save_report(report(4, project="beta"))
    assert [r.id for r in await reports.list_reports("alpha")] == ["r1", "r2", "r3"]
    assert [r.id for r in await reports.list_reports(None)] == ["r1", "r2", "r3", "r4"]
    assert await reports.delete_report("alpha", "r2")
    assert not await reports.delete_report("alpha", "r2")
    assert not await reports.delete_report("alpha", "r4")  # beta's
    assert [r.id for r in await reports.list_reports("alpha")] == ["r1", "r3"]


async def test_runs_are_replaced_by_id_and_listed_newest_first(reports: ReportStore) -> None:
    assert await reports.save_report(report(1))
    for n in (1, 3, 2):
        await reports.save_run(run(n))
    await reports.save_run(run(5, project="beta"))
    done = replace(run(3), status=RunStatus.OK, bytes=10, sha256="ab", files=("a.csv", "b.zip"))
    await reports.save_run(done)
    assert [r.id for r in await reports.list_runs("alpha", "r1")] == [
        "run-alpha-3",
        "run-alpha-2",
        "run-alpha-1",
    ]
    assert await reports.get_run("alpha", "run-alpha-3") == done
    assert await reports.get_run("beta", "run-alpha-3") is None
    assert await reports.get_run_by_id("run-beta-5") == run(5, project="beta")
    assert await reports.delete_report("alpha", "r1")  # its runs go with it
    assert await reports.list_runs("alpha", "r1") == []
    assert await reports.get_run_by_id("run-alpha-3") is None


async def test_files_come_back_byte_for_byte_and_go_by_run(artefacts: ArtefactStore) -> None:
    big = os.urandom(600 * 1024)  # three chunks of 255 KiB on MongoDB
    files = [
        Artefact("report.pdf", "application/pdf", big),
        Artefact("empty.csv", "text/csv; charset=utf-8", b""),
    ]
    await artefacts.put_artefacts("alpha", "run-1", files)
    await artefacts.put_artefacts("alpha", "run-2", [Artefact("x.json", "application/json", b"{}")])
    assert await artefacts.get_artefact("alpha", "run-1", "report.pdf") == files[0]
    assert await artefacts.get_artefact("alpha", "run-1", "empty.csv") == files[1]
    assert await artefacts.get_artefact("beta", "run-1", "report.pdf") is None
    assert await artefacts.get_artefact("alpha", "run-1", "other.pdf") is None
    smaller = Artefact("report.pdf", "application/pdf", b"%PDF-1.7 small")
    await artefacts.put_artefacts("alpha", "run-1", [smaller])  # a rewrite replaces it
    assert await artefacts.get_artefact("alpha", "run-1", "report.pdf") == smaller
    assert await artefacts.delete_artefacts("beta", ["run-1"]) == 0
    assert await artefacts.delete_artefacts("alpha", ["run-1"]) == 2
    assert await artefacts.get_artefact("alpha", "run-1", "report.pdf") is None
    assert await artefacts.get_artefact("alpha", "run-2", "x.json") is not None
    assert await artefacts.delete_artefacts("alpha", []) == 0


async def test_files_on_a_mongodb_server_are_a_gridfs_bucket(
    store_db: StoreDatabase, artefacts: ArtefactStore
) -> None:
    """On a real server, PyMongo's own GridFS bucket reads what the adapter wrote (the
    emulator cannot host AsyncGridFSBucket: decision 0031)."""
    if not isinstance(store_db, MongoDatabase) or not isinstance(store_db._db, AsyncDatabase):
        pytest.skip("GridFS's bucket class needs a MongoDB server (VIGIL_TEST_MONGO_URL)")
    content = os.urandom(300 * 1024)
    await artefacts.put_artefacts("alpha", "run-g", [Artefact("r.pdf", "application/pdf", content)])
    bucket = AsyncGridFSBucket(store_db._db, bucket_name=BUCKET)
    [found] = await bucket.find({"filename": "r.pdf", "metadata.run_id": "run-g"}).to_list()
    stream = await bucket.open_download_stream(found._id)
    assert await stream.read() == content
