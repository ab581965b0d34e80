"""What every renderer shares: file names from titles, times printed in the report's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

__all__ = ["iso_time", "slug"]


def slug(title: str, fallback: str = "report") -> str:
    """A file name part: lower-case letters, digits and dashes, at most 60 characters."""
    text = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-")
    return text or fallback


def iso_time(at_us: int, zone: ZoneInfo) -> str:
    """ISO-8601 with the zone's offset at that instant (seconds; microseconds if any)."""
    moment = datetime.fromtimestamp(at_us // 1_000_000, UTC).replace(microsecond=at_us % 1_000_000)
    spec = "seconds" if moment.microsecond == 0 else "microseconds"
    return moment.astimezone(zone).isoformat(timespec=spec)
