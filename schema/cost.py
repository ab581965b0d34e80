"""What an operation may cost, estimated from its document and variables before it runs.

The estimate counts the objects the operation may produce, list sizes multiplied down the
tree (`first:` or `limit:`, or its default, else `UNSIZED_LIST` for a list that takes no
size), plus the points the series fields may return, `POINTS_PER_UNIT` points to one unit:
a point in a dense array is far cheaper to serve than an object (10,000 objects through
Strawberry took ~150-180 ms against ~4 ms as orjson arrays, DESIGN.md). Leaf fields are
free. It is an upper bound of the shape, not of the data: a `versions(first: 1000)` of a
dashboard with three versions still counts 1,000, as the caller asked for them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from domain.buckets import MAX_BUCKETS, bucket_count
from domain.durations import parse_step
from domain.errors import VigilError

__all__ = ["POINT_READS", "Estimate", "estimate"]

UNSIZED_LIST = 10  # a list field without `first`/`limit`: widgets, variables, tags...
POINTS_PER_UNIT = 50
GROUPED_LINES = 100  # lines guessed for a `groupBy` by tags: the catalogue is not asked
DEFAULT_RANGE_US = 3_600_000_000  # metricSeries, anomalyBand: the hour before `to`
DASHBOARD_DATA_POINTS = 20 * 2_000  # `Dashboard.data`: 20 widgets x a 2,000-pixel width
ANALYTICS_POINTS = 100_000  # `analytics`: VIGIL_ANALYTICS_SYNC_MAX_POINTS's default

# The fields that read stored points: an operation with one of them is a heavy read.
POINT_READS = frozenset(
    {
        "Query.metricSeries",
        "Query.metrics",
        "Query.previewAlert",
        "Query.anomalyBand",
        "Query.analytics",
        "Query.costReport",  # every mapped metric over the range (issue 17)
        "Dashboard.data",
    }
)


@dataclass(frozen=True, slots=True)
class Estimate:
    cost: int
    reads_points: bool  # one of POINT_READS is selected


def estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> Estimate | None:
    """The operation's estimate; None when its variables do not coerce (execution answers
    that with the precise error) or the document names no such operation."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments, coerced)
    try:
        cost = walk.selections(root, operation.selection_set, 1, None)
    except (GraphQLError, VigilError):  # an argument execution refuses with its own error
        return None
    return Estimate(cost, walk.reads_points)


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.reads_points = False

    def selections(
        self, parent: GraphQLType, selection_set: SelectionSetNode, times: int, carried: int | None
    ) -> int:
        """The cost of a selection set resolved `times` times; `carried`: the size a
        connection's `first` gives the list beneath it (`items`)."""
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(parent, node, times, carried)
            elif isinstance(node, InlineFragmentNode):
                typed = self._type(node.type_condition.name.value if node.type_condition else None)
                total += self.selections(typed or parent, node.selection_set, times, carried)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:  # validation refuses unknown fragments and cycles
                    typed = self._type(fragment.type_condition.name.value)
                    total += self.selections(
                        typed or parent, fragment.selection_set, times, carried
                    )
        return total

    def field(self, parent: GraphQLType, node: FieldNode, times: int, carried: int | None) -> int:
        fields = getattr(parent, "fields", None) or {}
        definition = fields.get(node.name.value)
        if definition is None:  # __typename, __schema, __type
            return 0
        wrapped = definition.type
        named = get_named_type(wrapped)
        if is_leaf_type(named) or node.selection_set is None:
            return 0
        arguments = get_argument_values(definition, node, self.variables)
        size = _size(arguments)
        if _is_list(wrapped):
            objects, carry = times * (size or carried or UNSIZED_LIST), None
        else:
            objects, carry = times, size
        key = f"{getattr(parent, 'name', '')}.{node.name.value}"
        points = 0
        if key in POINT_READS:
            self.reads_points = True
            points = times * _points(key, arguments)
        own = objects + math.ceil(points / POINTS_PER_UNIT)
        return own + self.selections(named, node.selection_set, objects, carry)

    def _type(self, name: str | None) -> GraphQLType | None:
        return self.schema.get_type(name) if name else None


def _is_list(wrapped: GraphQLType) -> bool:
    while isinstance(wrapped, GraphQLNonNull):
        wrapped = wrapped.of_type
    return isinstance(wrapped, GraphQLList)


def _size(arguments: dict[str, Any]) -> int | None:
    for name in ("first", "limit"):
        value = arguments.get(name)
        if isinstance(value, int) and value > 0:
            return value
    return None


def _points(key: str, arguments: dict[str, Any]) -> int:
    """The points a series field may return: buckets x lines where the range and the step
    say it, a fixed guess where only the stored data would."""
    if key == "Dashboard.data":
        return DASHBOARD_DATA_POINTS
    if key == "Query.analytics":
        return ANALYTICS_POINTS
    if key == "Query.metrics":
        return 0  # its points are the objects of `items`, already counted
    step = arguments.get("step")
    if key == "Query.anomalyBand":
        step = step or "1m"
    buckets = _buckets(arguments.get("from"), arguments.get("to"), step)
    grouped = key == "Query.previewAlert" or bool(arguments.get("groupBy"))
    return buckets * (GROUPED_LINES if grouped else 1)


def _buckets(start: object, end: object, step: object) -> int:
    if not isinstance(step, str):
        return 1
    step_us = parse_step(step)
    end_us = _us(end)
    start_us = _us(start)
    if end_us is None:  # the resolvers' default: now
        end_us = int(time.time() * 1_000_000)
    if start_us is None:
        start_us = end_us - DEFAULT_RANGE_US
    if end_us <= start_us:
        return 1
    return max(1, min(MAX_BUCKETS, bucket_count(start_us, end_us, step_us)))


def _us(value: object) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1_000_000)
    return None
