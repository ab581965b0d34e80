"""Analytics assembled from the settings: worker processes, the job runner, the limits."""

from __future__ import annotations

import os

from domain.analytics.limits import AnalyticsLimits
from domain.analytics.ports import AnalyticsJobStore
from domain.analytics.runtime import JobRunner, RunnerSettings
from domain.ports import Clock, LeaseStore
from infra.analytics.kinds import build_kinds
from infra.analytics.workers import ProcessComputer
from infra.config import Settings

__all__ = ["Analytics"]


class Analytics:
    """Build with the stores; `start` once the bus exists; `close` before the store."""

    def __init__(
        self, settings: Settings, store: AnalyticsJobStore, leases: LeaseStore, clock: Clock
    ) -> None:
        s = settings
        self.kinds = build_kinds(anomaly_timezone=s.anomaly_timezone)
        self.limits = AnalyticsLimits(
            sync_max_points=s.analytics_sync_max_points,
            sync_timeout_us=round(s.analytics_sync_timeout_seconds * 1e6),
            job_max_points=s.analytics_job_max_points,
            job_timeout_us=round(s.analytics_job_timeout_seconds * 1e6),
            result_ttl_us=round(s.analytics_result_days * 86_400e6),
        )
        self.workers = ProcessComputer(
            s.analytics_workers or os.cpu_count() or 1,
            nice=s.analytics_worker_nice,
            idle=s.analytics_worker_idle,
            lazy=s.analytics_workers_lazy,
        )
        self.runner = JobRunner(
            store,
            leases,
            self.workers,
            self.kinds,
            clock,
            settings=RunnerSettings(
                owner=s.instance_name,
                max_jobs=s.analytics_max_jobs,
                max_jobs_per_project=s.analytics_max_jobs_per_project,
                lease_us=round(s.analytics_lease_seconds * 1e6),
                poll_seconds=min(s.analytics_poll_seconds, s.analytics_lease_seconds / 3),
            ),
            limits=self.limits,
        )
        self.store = store
