"""What a report run costs, in every format this build renders (issue 17).

A week of SERIES points (HOSTS series of `cpu`, one point per STEP_S) in an in-process
Vigil on DuckDB; a report of SECTIONS SERIES sections, each the week at a 10-minute step
grouped by host (100 lines of 1,008 buckets); `runReport` through the message bus ROUNDS
times per format. Reported: the median run (reading every section through the query
handlers, rendering in a thread, storing the files), the render alone on the same
document, and the main file's size. PDF and HTML are measured once their renderers
(infra/reports/render/pdf.py, html.py) are in the build.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from dataclasses import replace
from typing import Any

from bench.common import Context, log, median
from domain.metrics.commands import CreateMetricsCommand
from domain.reports.commands import CreateReportCommand, RunReportCommand
from domain.reports.model import Report, ReportFormat, RunStatus, SectionKind, SectionSpec
from domain.reports.ports import Window
from domain.reports.readers import default_readers
from domain.reports.running import read_document
from infra.bootstrap import Vigil
from infra.config import Settings
from infra.reports.render import render

HOSTS = 100
SECTIONS = 12
STEP_S = 600
WEEK_S = 7 * 86_400
ROUNDS = 3
BATCH = 10_000


def _points(end_s: int) -> list[dict[str, Any]]:
    start = end_s - WEEK_S
    return [
        {
            "name": "cpu",
            "value": float((h * 7 + i) % 97),
            "timestamp": (start + i * STEP_S) * 1000,
            "tags": {"host": f"web-{h:03d}"},
        }
        for i in range(WEEK_S // STEP_S)
        for h in range(HOSTS)
    ]


def _report(fmt: ReportFormat) -> Report:
    section = SectionSpec(
        SectionKind.SERIES, metric="cpu", aggregation="max", step_seconds=STEP_S, group_by=("host",)
    )
    return Report(
        id="",
        project="bench",
        title=f"Bench {fmt.value}",
        time_range="7d",
        timezone="Europe/Paris",
        format=fmt,
        sections=tuple(replace(section, title=f"CPU {n}") for n in range(SECTIONS)),
        created_at_us=0,
        created_by="bench",
    )


async def _run(ctx: Context) -> dict[str, Any]:
    folder = ctx.tmp / "reports"
    folder.mkdir(exist_ok=True)
    settings = Settings(
        store_url=f"duckdb:///{folder}/vigil.duckdb",
        secret="bench-secret-" + "x" * 32,
        secret_file=str(folder / "secret.key"),
        self_monitor_seconds=0,
        rollup_seconds=0,
    )
    vigil = await Vigil.start(settings)
    try:
        end_s = int(time.time()) // STEP_S * STEP_S
        points = _points(end_s)
        log(f"reports: loading {len(points):,} points")
        for at in range(0, len(points), BATCH):
            await vigil.bus.handle(CreateMetricsCommand("bench", points[at : at + BATCH]))
        result: dict[str, Any] = {}
        for fmt in _formats():
            report = await vigil.bus.handle(CreateReportCommand("bench", _report(fmt)))
            runs = []
            for _ in range(ROUNDS):
                run = await vigil.bus.handle(RunReportCommand("bench", report.id))
                assert run.status is RunStatus.OK, run.error
                runs.append(run)
            window = Window(runs[-1].from_us, runs[-1].to_us, report.timezone)
            document = await read_document(
                report, runs[-1], window, default_readers(), vigil.bus.ask, vigil.clock
            )
            renders = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                render(document, fmt.value)
                renders.append((time.perf_counter() - started) * 1_000)
            result[fmt.value.lower()] = {
                "run_ms": round(median([r.duration_ms for r in runs]), 1),
                "render_ms": round(median(renders), 1),
                "main_file_bytes": runs[-1].bytes,
            }
            log(f"reports: {fmt.value} {result[fmt.value.lower()]}")
        return result
    finally:
        await vigil.close()


def _formats() -> list[ReportFormat]:
    present = [ReportFormat.CSV, ReportFormat.JSON]
    for fmt, module in ((ReportFormat.PDF, "pdf"), (ReportFormat.HTML, "html")):
        if importlib.util.find_spec(f"infra.reports.render.{module}") is not None:
            present.append(fmt)
    return present


def run(ctx: Context) -> dict[str, Any]:
    figures = asyncio.run(_run(ctx))
    return {
        "name": "report_files",
        "sections": SECTIONS,
        "series_per_section": HOSTS,
        "buckets_per_series": WEEK_S // STEP_S,
        **figures,
    }
