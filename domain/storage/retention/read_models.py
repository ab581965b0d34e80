"""What retention operations answer: the policy and the ceiling it is enforced under."""

from __future__ import annotations

from dataclasses import dataclass

from domain.storage.retention.model import RetentionPolicy

__all__ = ["RetentionPolicyDto"]


@dataclass(frozen=True, slots=True)
class RetentionPolicyDto:
    policy: RetentionPolicy
    raw_ceiling_us: int  # VIGIL_RETENTION_DAYS (MongoDB: its stored retention)
