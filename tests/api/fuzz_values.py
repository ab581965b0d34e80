"""Well-formed and malformed values for every GraphQL input type, read from the schema the
server publishes (introspection), for the argument fuzz of `test_errors_fuzz.py`.

A well-formed value lets a call reach deep code; a malformed one is what a hostile or
careless caller sends instead: empty, huge, out of range, of another JSON type, nested
deeper than a parser's stack. Each is valid JSON, so it reaches the server's own checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)

__all__ = ["Case", "cases", "encode", "holds_deep", "well_formed"]

Case = tuple[str, Any]  # (where the malformed value goes, the variables to send)


class Deep:
    """An object nested `levels` deep, deeper than a JSON encoder's stack: `encode` writes
    it out as text."""

    def __init__(self, levels: int) -> None:
        self.levels = levels

    def text(self) -> str:
        return '{"a":' * self.levels + '"bottom"' + "}" * self.levels


def _deep(levels: int) -> Deep:
    return Deep(levels)


def holds_deep(value: Any) -> bool:
    if isinstance(value, Deep):
        return True
    if isinstance(value, dict):
        return any(holds_deep(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_deep(v) for v in value[:2])
    return False


def encode(body: Any) -> bytes:
    """`body` as JSON, `Deep` values included."""
    deep: list[Deep] = []

    def placeholder(value: Any) -> str:
        if not isinstance(value, Deep):
            raise TypeError(type(value))
        deep.append(value)
        return f"__deep_{len(deep) - 1}__"

    text = json.dumps(body, default=placeholder)
    for index, value in enumerate(deep):
        text = text.replace(f'"__deep_{index}__"', value.text())
    return text.encode()


_TEXT = [
    "",
    " ",
    "x" * 70_000,
    "\x00",
    "\u202e",
    "\U0001f4a5",
    "9" * 40,
    "-1",
    "' OR '1'='1",
    "../../etc/passwd",
    "{{7*7}}",
    "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ==",  # base64 of an overflowing cursor
    "!!!",
]
_NUMBERS = [0, -1, 1e308, -1e308, 2**63, -(2**63), 99_999_999_999_999_999_999, 5e-324]
_SHAPES = [None, True, [], {}, [None], _deep(2_000)]

_SCALARS_WELL_FORMED: dict[str, Any] = {
    "String": "fuzz",
    "ID": "fuzz",
    "Int": 10,
    "Float": 1.0,
    "Boolean": False,
    "DateTime": "2026-12-01T00:00:00Z",
    "Duration": "5m",
    "PointBatch": [{"name": "cpu", "value": 1}],
    "Tags": {"host": "a"},
    "JSONObject": {},
    "JSONValue": "x",
    "FloatArray": [1.0],
}

_SCALARS_MALFORMED: dict[str, list[Any]] = {
    "String": _TEXT,
    "ID": _TEXT,
    "Int": [0, -1, 2**31 - 1, -(2**31)],
    "Float": [0.0, -1.0, 1.7976931348623157e308, -1.7976931348623157e308, 5e-324],
    "Boolean": [True],
    "DateTime": [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2026-13-01T00:00:00Z",
        "2026-12-01T00:00:00",
        "1796508000000",
        "now",
        "",
    ],
    "Duration": ["99999999999999999999d", "", "5x", "-5m", "0s", "1e309s", *_NUMBERS, *_SHAPES],
    "PointBatch": [
        [],
        "x",
        [{}],
        [{"name": "cpu", "value": "x"}],
        [{"name": "cpu", "value": 1e308, "timestamp": 1e308}],
        [{"name": "cpu", "value": 1, "timestamp": -1e20}],
        [{"name": "cpu", "value": 1, "timestamp": 99_999_999_999_999_999_999}],
        [{"name": "", "value": 1}],
        [{"name": "cpu", "value": 1, "tags": {"a": {"b": 1}}}],
        [{"name": "cpu", "value": 1, "type": "nonsense"}],
        [{"name": "cpu", "value": 1, "tags": _deep(2_000)}],
        [1] * 10,
        *_SHAPES,
    ],
    "Tags": [
        {"a": 1},
        {"": ""},
        {"a": None},
        {"a": "x" * 100_000},
        {f"k{i}": "v" for i in range(5_000)},
        "x",
        *_SHAPES,
    ],
    "JSONObject": ["x", 1e308, *_SHAPES, {"a": _deep(2_000)}],
    "JSONValue": ["x" * 100_000, *_NUMBERS, *_SHAPES],
    "FloatArray": ["x", [None], [1e308], *_SHAPES],
}


def well_formed(kind: GraphQLInputType, name: str = "") -> Any:
    """A value of `kind` that passes its type; `project` arguments name the test's project."""
    if isinstance(kind, GraphQLNonNull):
        return well_formed(kind.of_type, name)
    if isinstance(kind, GraphQLList):
        return [well_formed(kind.of_type, name)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            field_name: well_formed(field.type, field_name)
            for field_name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
    assert isinstance(kind, GraphQLScalarType)
    if name == "project" and kind.name == "String":
        return "demo"
    return _SCALARS_WELL_FORMED.get(kind.name, "fuzz")


def _malformed(kind: GraphQLInputType, depth: int) -> Iterator[tuple[str, Any]]:
    """(a label, a value) for each malformed value of `kind`; input objects are fuzzed one
    field at a time, `depth` levels down."""
    nullable = not isinstance(kind, GraphQLNonNull)
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if nullable:
        yield "null", None
    if isinstance(inner, GraphQLList):
        element = well_formed(inner.of_type)
        yield "[]", []
        yield "1,001 elements", [element] * 1_001
        for label, value in _malformed(inner.of_type, depth):
            yield f"[{label}]", [value]
    elif isinstance(inner, GraphQLEnumType):
        for value in inner.values:
            yield value, value
    elif isinstance(inner, GraphQLInputObjectType):
        base = well_formed(inner)
        if depth == 0:
            return
        for field_name, field in inner.fields.items():
            for label, value in _malformed(field.type, depth - 1):
                yield f"{field_name}={label}", {**base, field_name: value}
    else:
        assert isinstance(inner, GraphQLScalarType)
        for index, value in enumerate(_SCALARS_MALFORMED.get(inner.name, _TEXT)):
            yield f"{inner.name}#{index}", value


def cases(arguments: dict[str, GraphQLInputType]) -> Iterator[Case]:
    """Variables for a call: every argument well-formed but one, which is malformed."""
    base = {name: well_formed(kind, name) for name, kind in arguments.items()}
    for name, kind in arguments.items():
        for label, value in _malformed(kind, depth=2):
            yield f"{name}: {label}", {**base, name: value}
