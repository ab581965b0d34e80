"""The kinds, and JSON conversion shared by every result."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar, Self

from domain.analytics._codec import from_json, to_json

__all__ = ["AnalyticsKind", "Json"]


class AnalyticsKind(StrEnum):
    TREND = "TREND"
    SEASONALITY = "SEASONALITY"
    CHANGE_POINTS = "CHANGE_POINTS"
    FORECAST = "FORECAST"
    CAPACITY = "CAPACITY"
    CORRELATION = "CORRELATION"
    COMPARISON = "COMPARISON"
    ANOMALIES = "ANOMALIES"


class Json:
    """to_dict/from_dict for a result dataclass; results add their `kind`."""

    __slots__ = ()
    kind: ClassVar[AnalyticsKind | None] = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_json(self)
        if self.kind is not None:
            data = {"kind": self.kind.value, **data}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return from_json(cls, data)
