"""Retention queries."""

from __future__ import annotations

from dataclasses import dataclass

from domain.queries import Query

__all__ = ["GetRetentionPolicyQuery"]


@dataclass(frozen=True, slots=True)
class GetRetentionPolicyQuery(Query):
    """The project's policy; the instance's defaults when it has none of its own."""

    project: str
