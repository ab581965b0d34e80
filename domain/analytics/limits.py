"""The bounds of analytics, from the settings (infra/config/): sizes, times, concurrency."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AnalyticsLimits"]


@dataclass(frozen=True, slots=True)
class AnalyticsLimits:
    sync_max_points: int = 100_000  # series x buckets a synchronous analysis may read
    sync_timeout_us: int = 2_000_000  # then it is refused with a hint to run a job
    job_max_points: int = 20_000_000
    job_timeout_us: int = 600_000_000  # default; a job may ask for less or more
    job_max_timeout_us: int = 6 * 3_600_000_000
    result_ttl_us: int = 7 * 86_400_000_000  # a finished job and its result, then deleted
