"""What mongomock-ng lacks or does slowly, supplied for the MongoDB emulator
(mongo_emulator.py says why each is needed): cursors read in one go, a leading `$match`
narrowed by its ranges as an index would, keyword arguments it does not know, the
`$firstN` accumulator and the `$sortArray` expression."""

from __future__ import annotations

import copy
import operator
from datetime import datetime
from typing import Any

from mongomock_ng import aggregate as _mongomock_aggregate
from mongomock_ng.filtering import filter_applies

__all__ = [
    "aggregate",
    "drain",
    "first_n_as_push",
    "install_sort_array",
    "matching",
]


def drain(cursor: Any) -> list[dict[str, Any]]:
    """Every document of a mongomock-ng cursor, in time linear in their number.

    Its `Cursor.__next__` slices the remaining result list at every document (quadratic);
    the list it slices is computed once by `_compute_results`. Other cursors (an
    aggregation's `CommandCursor`, a plain iterator) iterate linearly already."""
    compute = getattr(cursor, "_compute_results", None)
    if compute is None:
        return list(cursor)
    return [dict(doc) for doc in compute(with_limit_and_skip=True)]


def aggregate(collection: Any, stages: list[dict[str, Any]]) -> Any:
    """mongomock-ng's `Collection.aggregate`, with its input read linearly and a leading
    `$match` run first on its own, as a server runs it on an index, not over a copy of
    every document."""
    documents: list[dict[str, Any]]
    if stages and set(stages[0]) == {"$match"}:
        documents, stages = matching(collection, stages[0]["$match"]), stages[1:]
    else:
        documents = drain(collection.find())
    return _mongomock_aggregate.process_pipeline(documents, collection.database, stages, None)


_KINDS: dict[type, tuple[type, ...]] = {
    int: (int, float),
    float: (int, float),
    datetime: (datetime,),
}
_RANGE = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


def matching(collection: Any, where: dict[str, Any]) -> list[dict[str, Any]]:
    """Copies of the documents `where` selects. A server narrows the scan on an index
    before it applies the whole filter; here the ranges `where` sets on top-level numbers
    or dates (Vigil's `us` and `t` of points) skip a document with a few comparisons, and
    mongomock-ng's filter (tens of microseconds a document) sees only the rest. A value of
    another type is left to that filter."""
    ranges = [
        (key, _RANGE[op], bound, _KINDS[type(bound)])
        for key, condition in where.items()
        if not key.startswith("$") and "." not in key and isinstance(condition, dict)
        for op, bound in condition.items()
        if op in _RANGE and type(bound) in _KINDS
    ]
    found = []
    for document in list(collection._store.documents):
        for key, test, bound, kinds in ranges:
            value = document.get(key)
            if type(value) in kinds and not test(value, bound):
                break
        else:
            if filter_applies(where, document):
                found.append(copy.deepcopy(document))
    return found


def first_n_as_push(pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`{$firstN: {input, n}}` in a $group becomes a $push, sliced to n right after."""
    stages: list[dict[str, Any]] = []
    for stage in pipeline:
        group = stage.get("$group")
        sliced = {}
        if group is not None:
            group = dict(group)
            for field, accumulator in group.items():
                if isinstance(accumulator, dict) and "$firstN" in accumulator:
                    spec = accumulator["$firstN"]
                    group[field] = {"$push": spec["input"]}
                    sliced[field] = {"$slice": [f"${field}", spec["n"]]}
            stage = {"$group": group}
        stages.append(stage)
        if sliced:
            stages.append({"$set": sliced})
    return stages


def install_sort_array() -> None:
    """`{$sortArray: {input, sortBy: 1 | -1}}` for arrays of numbers (all Vigil sorts)."""
    parser = _mongomock_aggregate._Parser
    if getattr(parser, "_vigil_sort_array", False):
        return
    handle = parser._handle_array_operator

    def handle_array_operator(self: Any, operator: str, value: Any) -> Any:
        if operator != "$sortArray":
            return handle(self, operator, value)
        values = self.parse(value["input"])
        if values is None:
            return None
        return sorted(values, reverse=value["sortBy"] == -1)

    _mongomock_aggregate.array_operators.append("$sortArray")
    parser._handle_array_operator = handle_array_operator
    parser._vigil_sort_array = True


install_sort_array()
