"""Microsecond timestamps and BSON dates, which hold milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["MAX_US", "MIN_US", "date_of_us", "now", "us_of_date"]

# Dates go through Python datetimes on their way to BSON: the years 1 to 9999.
MIN_US = -62_135_596_800_000_000
MAX_US = 253_402_300_799_999_999
_EPOCH = datetime(1970, 1, 1)


def date_of_us(timestamp_us: int) -> datetime:
    """The millisecond holding the timestamp (rounded down), clamped to the years 1-9999."""
    clamped = min(max(timestamp_us, MIN_US), MAX_US)
    return _EPOCH + timedelta(milliseconds=clamped // 1000)


def us_of_date(moment: datetime) -> int:
    """Microseconds since the epoch of a date as the driver hands it back (UTC, naive)."""
    return (moment.replace(tzinfo=None) - _EPOCH) // timedelta(microseconds=1)


def now() -> datetime:
    """UTC without tzinfo, as the driver hands dates back."""
    return datetime.now(UTC).replace(tzinfo=None)
