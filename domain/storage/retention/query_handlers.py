"""Retention query handlers."""

from __future__ import annotations

from domain.storage.retention.queries import GetRetentionPolicyQuery
from domain.storage.retention.read_models import RetentionPolicyDto
from domain.storage.retention.runtime import PolicyBook

__all__ = ["retention_policy"]


async def retention_policy(
    query: GetRetentionPolicyQuery, *, retention_book: PolicyBook
) -> RetentionPolicyDto:
    policy = await retention_book.stored(query.project)
    return RetentionPolicyDto(policy, retention_book.defaults.raw_ceiling_us)
