"""Report schedules: checking an RRULE or a cron expression with its time zone.

A minimal validating version written by h17-core so that reports can store a schedule;
h17-schedule replaces this module with the real one (slots, DST, leases), keeping
`parse_schedule(kind, expression, timezone)`, which raises BadUserInput for a schedule
that cannot run."""

from __future__ import annotations

import re

from domain.errors import BadUserInput
from domain.reports.timerange import check_timezone

__all__ = ["parse_schedule"]

_CRON_FIELD = re.compile(r"[\d*/,\-A-Za-z?LW#]+")
_RRULE_PART = re.compile(r"[A-Z]+=[A-Za-z0-9,:+\-TZ]+")
_FREQS = {"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY"}


def parse_schedule(kind: str, expression: str, timezone: str) -> None:
    """Raise BadUserInput unless `expression` is a cron expression (five fields) or an
    RRULE (FREQ=...;...) and `timezone` an IANA zone."""
    check_timezone(timezone)
    text = expression.strip()
    if kind == "CRON":
        fields = text.split()
        if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
            raise BadUserInput(
                f"cron expression {expression!r} must have five fields such as '0 9 * * 1'"
            )
        return
    if kind == "RRULE":
        body = text.removeprefix("RRULE:")
        parts = [p for p in body.split(";") if p]
        if not parts or not all(_RRULE_PART.fullmatch(p) for p in parts):
            raise BadUserInput(f"RRULE {expression!r} is not of the form FREQ=WEEKLY;BYHOUR=9")
        found = dict(p.split("=", 1) for p in parts)
        if found.get("FREQ") not in _FREQS:
            raise BadUserInput(f"RRULE {expression!r} needs FREQ, one of {sorted(_FREQS)}")
        return
    raise BadUserInput(f"schedule kind {kind!r} is not RRULE or CRON")
