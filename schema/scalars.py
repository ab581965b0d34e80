"""Custom scalars: fast JSON-shaped values that Strawberry passes through untouched.

Strawberry completes every element of a list one by one; a scalar is completed once.
Batches in (`PointBatch`) and dense chart arrays out (`FloatArray`) are scalars for that
reason (DESIGN.md measured 20k vs 500k points/s on ingest).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NewType

import strawberry
from graphql import ValueNode, value_from_ast_untyped
from strawberry.types.scalar import ScalarDefinition

__all__ = [
    "SCALAR_MAP",
    "Duration",
    "FloatArray",
    "JSONObject",
    "JSONValue",
    "PointBatch",
    "Tags",
]

PointBatch = NewType("PointBatch", list)  # type: ignore[type-arg]
Tags = NewType("Tags", dict)  # type: ignore[type-arg]
FloatArray = NewType("FloatArray", list)  # type: ignore[type-arg]
JSONObject = NewType("JSONObject", dict)  # type: ignore[type-arg]
Duration = NewType("Duration", object)  # seconds (a number) or text such as "5m"
JSONValue = NewType("JSONValue", object)  # any JSON value (an audited field's old or new)


def _identity(value: Any) -> Any:
    return value


def _literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    return value_from_ast_untyped(node, variables)


def _parse_batch(value: Any) -> list[Any]:
    """A batch is a list before anything counts or validates it (admission sizes it)."""
    if not isinstance(value, list):
        raise ValueError("points must be a list of point objects")
    return value


def _literal_batch(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    return _parse_batch(value_from_ast_untyped(node, variables))


def _parse_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("JSONObject must be a JSON object")
    return value


def _literal_object(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    return _parse_object(value_from_ast_untyped(node, variables))


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be ISO-8601 text")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("DateTime needs a time zone, such as Z or +00:00")
    return moment


def _serialize_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _passthrough(name: str, description: str) -> ScalarDefinition:
    return strawberry.scalar(
        name=name,
        description=description,
        serialize=_identity,
        parse_value=_identity,
        parse_literal=_literal,
    )


SCALAR_MAP: dict[object, ScalarDefinition] = {
    datetime: strawberry.scalar(
        name="DateTime",
        description="ISO-8601 date and time with a zone, e.g. 2026-11-28T10:00:00Z.",
        serialize=_serialize_datetime,
        parse_value=_parse_datetime,
    ),
    PointBatch: strawberry.scalar(
        name="PointBatch",
        description=(
            "A JSON array of points, at most 10,000: "
            '[{"name": "cpu.usage", "value": 0.42, "timestamp": "2026-11-28T10:00:00Z", '
            '"tags": {"host": "web-1"}, "type": "gauge", "category": "system", '
            '"source": "node-agent"}]. Only name and value are required; timestamp is ISO-8601 '
            "text with a zone or epoch milliseconds (default: now); type is gauge, counter, "
            "histogram or summary (default gauge). Validated as a whole: a bad point rejects "
            "the batch and the error lists every bad point by index."
        ),
        serialize=_identity,
        parse_value=_parse_batch,
        parse_literal=_literal_batch,
    ),
    Tags: _passthrough("Tags", 'A JSON object of text tags, e.g. {"host": "web-1"}.'),
    FloatArray: _passthrough(
        "FloatArray", "A JSON array of numbers; null where a bucket holds no data."
    ),
    JSONObject: strawberry.scalar(
        name="JSONObject",
        description="An arbitrary JSON object.",
        serialize=_identity,
        parse_value=_parse_object,
        parse_literal=_literal_object,
    ),
    JSONValue: _passthrough("JSONValue", "Any JSON value: text, number, boolean, list, object."),
    Duration: _passthrough(
        "Duration",
        'A duration: seconds as a number (90, 0.5) or text such as "30s", "5m", "1h", "1d". '
        "Answers are always seconds.",
    ),
}
