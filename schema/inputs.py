"""GraphQL inputs, and their conversion to domain values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.errors import BadUserInput
from domain.matchers import MatchOp as DomainMatchOp
from domain.matchers import TagMatcher
from schema.scalars import Tags
from schema.types import MatchOp, MetricType

__all__ = ["MAX_MATCHERS", "PointInput", "TagMatcherInput", "matchers_of"]


@strawberry.input(description="One point; createMetrics takes many as a PointBatch.")
class PointInput:
    name: str
    value: float
    timestamp: datetime | None = None
    tags: Tags | None = None
    type: MetricType | None = None  # type: ignore[valid-type]
    category: str | None = None
    source: str | None = None

    def as_raw(self) -> dict[str, Any]:
        """The same JSON shape a PointBatch element has, so one validator serves both."""
        raw: dict[str, Any] = {"name": self.name, "value": self.value, "tags": self.tags}
        if self.timestamp is not None:
            raw["timestamp"] = self.timestamp.isoformat()
        if self.type is not None:
            raw["type"] = self.type.value
        raw["category"] = self.category
        raw["source"] = self.source
        return raw


@strawberry.input(description='A tag matcher, e.g. {key: "host", op: REGEX, value: "web-.*"}.')
class TagMatcherInput:
    key: str
    value: str
    op: MatchOp = MatchOp.EQ


MAX_MATCHERS = 32  # variables are not counted by the document's token limit


def matchers_of(inputs: list[TagMatcherInput] | None) -> tuple[TagMatcher, ...]:
    if inputs and len(inputs) > MAX_MATCHERS:
        raise BadUserInput(f"at most {MAX_MATCHERS} tag matchers")
    return tuple(TagMatcher(m.key, DomainMatchOp(m.op.value), m.value) for m in inputs or ())
