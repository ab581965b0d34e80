"""Jobs for the analytics store contract."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from domain.analytics.model import AnalyticsInput, AnalyticsJob, SeriesSelector
from domain.analytics.results import AnalyticsKind
from domain.analytics.work import StoredItem
from domain.matchers import MatchOp, TagMatcher
from tests.contract.data import NOW_US

STEP_US = 60_000_000


def sample_job(job_id: str, project: str = "alpha", **changes: Any) -> AnalyticsJob:
    spec = AnalyticsInput(
        series=SeriesSelector(
            "cpu", (TagMatcher("host", MatchOp.REGEX, "web-.*"),), group_by=("host",)
        ),
        start_us=NOW_US - 1_000 * STEP_US,
        end_us=NOW_US,
        step_us=STEP_US,
        horizon_us=60 * STEP_US,
    )
    job = AnalyticsJob(
        id=job_id,
        project=project,
        kind=AnalyticsKind.FORECAST,
        input=spec,
        created_us=NOW_US,
        created_by="alice",
    )
    return replace(job, **changes)


def stored(items: list[dict[str, Any]]) -> list[StoredItem]:
    """Items as a job's worker hands them to the store: encoded."""
    return [StoredItem(str(item.get("kind", "")), orjson.dumps(item)) for item in items]
