"""Retention query handlers."""

from __future__ import annotations

from domain.storage.retention.model import RetentionPolicy
from domain.storage.retention.queries import GetRetentionPolicyQuery
from domain.storage.retention.runtime import PolicyBook

__all__ = ["retention_policy"]


async def retention_policy(
    query: GetRetentionPolicyQuery, *, retention_book: PolicyBook
) -> RetentionPolicy:
    return await retention_book.stored(query.project)
