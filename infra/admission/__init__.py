"""Admission control: rate limits per caller and project, bounded in-flight ingest, fair
turns at the store (docs/security.md, "Limits and what each answers")."""

from __future__ import annotations

from dataclasses import dataclass

from infra.admission.buckets import BucketRate, RateLimits
from infra.admission.edge import AdmissionEdge, retry_headers
from infra.admission.fair import FairTurns
from infra.admission.gate import AdmissionGate
from infra.admission.inflight import RETRY_AFTER_SECONDS, InflightBudget
from infra.config import Settings

__all__ = [
    "RETRY_AFTER_SECONDS",
    "Admission",
    "AdmissionEdge",
    "AdmissionGate",
    "InflightBudget",
    "RateLimits",
    "retry_headers",
]


@dataclass(frozen=True, slots=True)
class Admission:
    """One per app: shared by the HTTP edge, the collector endpoints and the bus."""

    rates: RateLimits
    inflight: InflightBudget
    gate: AdmissionGate

    @classmethod
    def of(cls, settings: Settings) -> Admission:
        rates = RateLimits(
            caller_operations=BucketRate(
                settings.rate_caller_operations_per_second, settings.rate_caller_operations_burst
            ),
            caller_points=BucketRate(
                settings.rate_caller_points_per_second, settings.rate_caller_points_burst
            ),
            project_operations=BucketRate(
                settings.rate_project_operations_per_second,
                settings.rate_project_operations_burst,
            ),
            project_points=BucketRate(
                settings.rate_project_points_per_second, settings.rate_project_points_burst
            ),
        )
        inflight = InflightBudget(
            max_bytes=settings.ingest_max_inflight_bytes,
            max_requests=settings.ingest_max_inflight_requests,
            max_points=settings.ingest_max_pending_points,
        )
        gate = AdmissionGate(rates, inflight, FairTurns(settings.ingest_commit_slots))
        return cls(rates, inflight, gate)
