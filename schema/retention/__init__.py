"""Retention policies and legal holds as the GraphQL schema shows them."""

from schema.retention.types import (
    LegalHold,
    RetentionOverride,
    RetentionOverrideInput,
    RetentionPolicy,
    RetentionPolicyInput,
    TierRetention,
    TierRetentionInput,
)

__all__ = [
    "LegalHold",
    "RetentionOverride",
    "RetentionOverrideInput",
    "RetentionPolicy",
    "RetentionPolicyInput",
    "TierRetention",
    "TierRetentionInput",
]
