"""What one send attempt came to, as the delivery worker needs it."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

__all__ = ["SendResult", "retry_after_seconds"]

MAX_RETRY_AFTER = 3_600.0


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None = None  # HTTP status or SMTP reply code
    error: str = ""  # empty: delivered
    retryable: bool = True
    retry_after: float | None = None  # seconds the receiver asked us to wait

    @property
    def ok(self) -> bool:
        return not self.error


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header: delay-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER)
