"""The report journeys on the MongoDB store (the emulator; a real server with
VIGIL_TEST_MONGO_URL): definitions, runs and files stored and read back through MongoDB,
the same tests as on DuckDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api.test_reports_alerts import (
    test_the_alerts_section_sums_what_fired_and_who_acknowledged,
)
from tests.api.test_reports_core import (
    test_a_csv_report_is_a_zip_of_one_csv_per_data_section,
    test_a_json_report_runs_and_its_file_holds_what_the_query_answers,
    test_downloads_refuse_foreign_unknown_and_forged_requests,
)
from tests.api.test_reports_cost import test_a_cost_section_is_the_cost_report_of_the_runs_range
from tests.api.test_reports_definitions import test_updates_need_the_current_version
from tests.api.test_reports_pdf import test_a_pdf_report_reads_back_with_its_title_sections_and_text
from tests.api.test_reports_runs import (
    test_a_dashboard_section_is_what_the_dashboard_shows,
    test_report_generated_reaches_a_subscriber,
    test_runs_past_the_retention_lose_their_files,
)
from tests.contract.mongo_emulator import open_mongo_emulated, open_mongo_real
from tests.support import RunningVigil, make_settings, serve

__all__ = [
    "test_a_cost_section_is_the_cost_report_of_the_runs_range",
    "test_a_csv_report_is_a_zip_of_one_csv_per_data_section",
    "test_a_dashboard_section_is_what_the_dashboard_shows",
    "test_a_json_report_runs_and_its_file_holds_what_the_query_answers",
    "test_a_pdf_report_reads_back_with_its_title_sections_and_text",
    "test_downloads_refuse_foreign_unknown_and_forged_requests",
    "test_report_generated_reaches_a_subscriber",
    "test_runs_past_the_retention_lose_their_files",
    "test_the_alerts_section_sums_what_fired_and_who_acknowledged",
    "test_updates_need_the_current_version",
]


@pytest.fixture(params=[open_mongo_emulated, open_mongo_real], ids=["mongo-emulated", "mongo-real"])
async def vigil(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningVigil]:
    database = await request.param(tmp_path)
    try:
        # Points drive alert evaluation here: a tick could re-fire a resolved instance.
        settings = make_settings(tmp_path, alert_tick_seconds=3600)
        async with serve(settings, database=database) as app:
            yield app
    finally:
        await database.close()
