"""Input a hostile or careless caller can send that once answered INTERNAL (issue 12,
item 20): a forged cursor whose numbers overflow a store's integers, a step too long to
bucket, and epoch milliseconds sent as text. Each is refused as BAD_USER_INPUT, says
what is wrong, and changes nothing."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from tests.support import RunningVigil, make_settings, serve, token

ADMIN = token(demo="admin")
CREATE = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
POINTS = """query($after: String) {
  metrics(project: "demo", name: "cpu", after: $after) { items { value } } }"""
JOBS = """query($after: String) {
  analyticsJobs(project: "demo", after: $after) { items { id } } }"""
SERIES = """query($step: String) {
  metricSeries(project: "demo", name: "cpu", step: $step) { timestamps } }"""


def forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def refusal(body: dict[str, Any]) -> str:
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    message: str = error["message"]
    return message


@pytest.fixture
async def vigil(tmp_path: Path) -> Any:
    async with serve(make_settings(tmp_path)) as running:
        await running.ok(CREATE, {"p": "demo", "points": [{"name": "cpu", "value": 1}]}, auth=ADMIN)
        yield running


@pytest.mark.parametrize(
    ("query", "cursor"),
    [
        (POINTS, "99999999999999999999999999:1"),  # a timestamp no store can hold
        (POINTS, f"{2**63 - 1}:1"),  # an integer, but past the year 9999
        (POINTS, "1:99999999999999999999999999"),  # a series id past 64 bits
        (POINTS, "-1e999:1"),
        (JOBS, "99999999999999999999999999:job"),
        (JOBS, f"{-(2**63)}:job"),
    ],
)
async def test_a_forged_cursor_is_refused_not_run(
    vigil: RunningVigil, query: str, cursor: str
) -> None:
    body = await vigil.gql(query, {"after": forged(cursor)}, auth=ADMIN)
    assert refusal(body) == "after is not a cursor this API returned"


async def test_a_cursor_at_the_end_of_the_range_is_answered(vigil: RunningVigil) -> None:
    last = 253_402_300_800_000_000 - 1  # the last microsecond of the year 9999
    body = await vigil.ok(POINTS, {"after": forged(f"{last}:1")}, auth=ADMIN)
    assert body["metrics"]["items"] == [{"value": 1.0}]  # everything is older than that


@pytest.mark.parametrize("step", ["99999999999999999999d", "3661d"])
async def test_a_step_longer_than_ten_years_is_refused(vigil: RunningVigil, step: str) -> None:
    body = await vigil.gql(SERIES, {"step": step}, auth=ADMIN)
    assert refusal(body) == f"step {step!r} is longer than 3660d"
    assert await vigil.ok(SERIES, {"step": "3660d"}, auth=ADMIN)


async def test_epoch_milliseconds_as_text_are_refused_with_the_fix(vigil: RunningVigil) -> None:
    point = {"name": "cpu", "value": 2, "timestamp": "1796508000000"}
    body = await vigil.gql(CREATE, {"p": "demo", "points": [point]}, auth=ADMIN)
    assert "epoch milliseconds must be a number" in refusal(body)
    stored = await vigil.ok(POINTS, {"after": None}, auth=ADMIN)
    assert stored["metrics"]["items"] == [{"value": 1.0}]  # nothing of it was stored
