"""Relative ranges resolved in a zone: calendar ranges follow local midnights across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import BadUserInput
from domain.reports.timerange import check_range, resolve_range

DAY_US = 86_400_000_000


def us(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1_000_000)


def utc(at_us: int) -> str:
    return datetime.fromtimestamp(at_us / 1e6, UTC).isoformat()


NOW = us("2026-04-01T10:00:00+00:00")  # a Wednesday, after Paris moved to summer time


@pytest.mark.parametrize("text", ["7d", "last 7 days", "Last  7 DAYS", "1w", "last week"])
def test_rolling_ranges_end_now(text: str) -> None:
    assert resolve_range(text, "Europe/Paris", NOW) == (NOW - 7 * DAY_US, NOW)


def test_the_previous_calendar_week_is_monday_to_monday_local_across_dst() -> None:
    start, end = resolve_range("previous calendar week", "Europe/Paris", NOW)
    # Monday 23 March 00:00 CET (+01:00) to Monday 30 March 00:00 CEST (+02:00): 167 hours.
    assert (utc(start), utc(end)) == ("2026-03-22T23:00:00+00:00", "2026-03-29T22:00:00+00:00")
    assert end - start == 7 * DAY_US - 3_600_000_000


def test_the_previous_calendar_month_and_day() -> None:
    start, end = resolve_range("previous calendar month", "Europe/Paris", NOW)
    assert (utc(start), utc(end)) == ("2026-02-28T23:00:00+00:00", "2026-03-31T22:00:00+00:00")
    start, end = resolve_range("yesterday", "America/New_York", NOW)
    assert (utc(start), utc(end)) == ("2026-03-31T04:00:00+00:00", "2026-04-01T04:00:00+00:00")
    january = us("2026-01-15T12:00:00+00:00")
    start, end = resolve_range("previous calendar month", "UTC", january)
    assert (utc(start), utc(end)) == ("2025-12-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00")


def test_this_month_runs_from_its_first_local_midnight_to_now() -> None:
    start, end = resolve_range("this month", "Asia/Tokyo", NOW)
    assert (utc(start), end) == ("2026-03-31T15:00:00+00:00", NOW)


@pytest.mark.parametrize("text", ["since forever", "last 0 days", "0d", "7 days", "400d", ""])
def test_other_texts_are_refused(text: str) -> None:
    with pytest.raises(BadUserInput):
        check_range(text)


def test_zones_must_be_iana_names() -> None:
    with pytest.raises(BadUserInput, match="IANA"):
        resolve_range("7d", "Mars/Olympus", NOW)
