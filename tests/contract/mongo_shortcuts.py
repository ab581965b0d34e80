"""What mongomock-ng lacks or does slowly, supplied for the MongoDB emulator
(mongo_emulator.py says why each is needed): cursors read in one go, a leading `$match`
narrowed by its ranges as an index would, keyword arguments it does not know, the
`$firstN` accumulator, the `$sortArray` expression, a `$merge` stage with the server's
rules and in linear time, and bulk upserts on a unique index in linear time."""

from __future__ import annotations

import copy
from typing import Any

from bson import ObjectId
from mongomock_ng import aggregate as _mongomock_aggregate
from mongomock_ng import helpers as _helpers
from pymongo import UpdateOne
from pymongo.errors import OperationFailure
from pymongo.results import BulkWriteResult
from sentinels import NOTHING  # type: ignore[import-untyped]

from tests.contract.mongo_filters import copy_document, kind_of, matching

# Untyped in mongomock-ng.
_get_value_by_dot: Any = _helpers.get_value_by_dot
_patch_dates: Any = _helpers.patch_datetime_awareness_in_document

__all__ = [
    "aggregate",
    "drain",
    "first_n_as_push",
    "install_fast_group",
    "install_sort_array",
    "matching",
    "merge",
    "split_merge",
    "upserts",
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


def split_merge(
    pipeline: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The stages before a final `$merge`, and the `$merge`'s specification (None if the
    pipeline has none). A `$merge` anywhere else is refused, as the server refuses it."""
    for position, stage in enumerate(pipeline):
        if "$merge" in stage and position != len(pipeline) - 1:
            raise OperationFailure("$merge can only be the final stage in the pipeline", 40601)
    if pipeline and "$merge" in pipeline[-1]:
        spec = pipeline[-1]["$merge"]
        return pipeline[:-1], {"into": spec} if isinstance(spec, str) else dict(spec)
    return pipeline, None


_MERGE_MODES = {"replace", "merge", "keepExisting", "fail"}
_NOT_MATCHED_MODES = {"insert", "discard", "fail"}


def merge(
    documents: list[dict[str, Any]],
    database: Any,
    spec: dict[str, Any],
    time_series: set[str],
) -> None:
    """A `$merge` of an aggregation's output `documents` into a collection of `database`,
    with the server's rules (MongoDB manual, "$merge"), in time linear in the documents:

    - `into` names a collection of the same database, never a time-series one (the server
      refuses: a time-series collection is a view over its buckets);
    - `on` (default `_id`) must be the exact fields of a unique index of the target, and
      each document must hold every `on` field, neither null nor an array;
    - `whenMatched`: `replace` (the document replaces the match, keeping its `_id`),
      `merge` (its fields are set on the match), `keepExisting` or `fail`; `pipeline` is
      not supplied. `whenNotMatched`: `insert` (an `_id` is made if missing), `discard`
      or `fail`. A document whose `_id` differs from its match's fails (immutable `_id`);
    - the aggregation then answers no documents.

    mongomock-ng's own `$merge` looks every document up with a scan of the target and
    checks unique indexes by another scan per write (quadratic: a tier of 60k buckets
    took hours), and skips the unique-index and time-series checks. Here the target's
    documents are indexed once by their `on` values; writes go straight to its store,
    whose uniqueness on `on` the index guarantees (other unique indexes of the target
    are not checked). Like the server's, a `$merge` that fails midway keeps what it wrote.
    """
    into = spec.get("into")
    if isinstance(into, dict):
        if into.get("db") not in (None, database.name):
            raise OperationFailure("$merge into another database is not supplied")
        into = into.get("coll")
    if not isinstance(into, str):
        raise OperationFailure("$merge 'into' must name a collection", 51178)
    if into in time_series:
        raise OperationFailure(f"$merge cannot write to the time-series collection {into}", 166)
    on = spec.get("on", "_id")
    fields = [on] if isinstance(on, str) else list(on)
    matched = spec.get("whenMatched", "merge")
    not_matched = spec.get("whenNotMatched", "insert")
    if matched not in _MERGE_MODES or not_matched not in _NOT_MATCHED_MODES:
        raise OperationFailure(f"$merge modes not supplied: {matched}, {not_matched}")
    target = database[into]
    if fields != ["_id"] and not _has_unique_index(target, fields):
        raise OperationFailure("Cannot find index to verify that join fields will be unique", 51183)
    store = target._store
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for existing in store.documents:
        found[_merge_key(existing, fields, strict=False)] = existing
    for document in documents:
        key = _merge_key(document, fields, strict=True)
        existing = found.get(key)
        if existing is None:
            if not_matched == "fail":
                raise OperationFailure("$merge found no document to match", 13113)
            if not_matched == "discard":
                continue
            new = _patch_dates(copy.deepcopy(document))
            new.setdefault("_id", ObjectId())
            if new["_id"] in store:
                raise OperationFailure("E11000 duplicate key error on _id", 11000)
            store[new["_id"]] = new
            found[key] = new
            continue
        if matched == "keepExisting":
            continue
        if matched == "fail":
            raise OperationFailure("$merge found a document already matching", 11000)
        if "_id" in document and document["_id"] != existing["_id"]:
            raise OperationFailure("$merge would change the immutable field '_id'", 66)
        base = {} if matched == "replace" else copy.deepcopy(existing)
        new = _patch_dates(base | copy.deepcopy(document))
        new["_id"] = existing["_id"]
        store[new["_id"]] = new
        found[key] = new


def upserts(collection: Any, requests: list[Any]) -> Any:
    """A `bulk_write` of `UpdateOne(filter, {$inc, $set}, upsert=True)` requests whose
    filters name exactly the fields of a unique index of plain values (the rollup dirty
    marks of a backfill: thousands at once), in time linear in the requests and the
    documents, or None when the requests are of another kind (mongomock-ng then runs
    them: its upsert scans the collection, and again for unique indexes, per request)."""
    if not requests or not all(
        type(r) is UpdateOne
        and r._upsert
        and set(r._doc) <= {"$inc", "$set"}
        and all(isinstance(v, dict) for v in r._doc.values())
        and all(kind_of(v) is not None for v in r._filter.values())
        for r in requests
    ):
        return None
    fields = sorted(requests[0]._filter)
    if any(sorted(r._filter) != fields for r in requests) or not _has_unique_index(
        collection, fields
    ):
        return None
    store = collection._store
    found = {_merge_key(doc, fields, strict=False): doc for doc in store.documents}
    matched = upserted = 0
    for request in requests:
        key = _merge_key(request._filter, fields, strict=True)
        doc = found.get(key)
        if doc is None:
            doc = found[key] = {"_id": ObjectId(), **request._filter}
            upserted += 1
        else:
            doc = found[key] = copy_document(doc)
            matched += 1
        for field, step in request._doc.get("$inc", {}).items():
            doc[field] = doc.get(field, 0) + step
        doc.update(request._doc.get("$set", {}))
        store[doc["_id"]] = doc
    return BulkWriteResult(
        {"nMatched": matched, "nModified": matched, "nUpserted": upserted, "upserted": []},
        acknowledged=True,
    )


def _has_unique_index(collection: Any, fields: list[str]) -> bool:
    for index in collection.index_information().values():
        keys = [name for name, _direction in index["key"]]
        if index.get("unique") and sorted(keys) == sorted(fields):
            return True
    return False


def _merge_key(document: dict[str, Any], fields: list[str], *, strict: bool) -> tuple[Any, ...]:
    values = []
    for field in fields:
        value = _get_value_by_dot(document, field)
        if strict and (value is NOTHING or value is None or isinstance(value, list)):
            raise OperationFailure(
                f"$merge write error: 'on' field '{field}' cannot be missing, null or an array",
                51132,
            )
        values.append(_comparable(value))
    return tuple(values)


def _comparable(value: Any) -> Any:
    """A hashable stand-in equal for values the server finds equal: numbers by value
    (1 == 1.0 == Int64(1)), anything else (documents, ObjectIds) by its text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ("number", float(value)) if value != int(value) else ("number", int(value))
    return (type(value).__name__, repr(value))


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


def install_fast_group() -> None:
    """mongomock-ng's `$group` evaluates its `_id` expression twice per document (a sort,
    then `itertools.groupby`), through its generic parser: most of a chart's time. When
    `_id` is a document (all of Vigil's groups), each of its fields is evaluated once per
    document (a field path directly, an expression by mongomock-ng's parser) and
    documents are grouped by a dict on those values (the order of groups is unspecified,
    as a server's); the accumulators still run through mongomock-ng. Anything else (a
    scalar key, a missing field, a value that is itself a document) takes mongomock-ng's
    way."""
    handlers = _mongomock_aggregate._PIPELINE_HANDLERS
    slow = handlers["$group"]
    if getattr(slow, "_vigil_fast", False):
        return
    accumulate = _mongomock_aggregate._accumulate_group

    parse = _mongomock_aggregate._parse_expression

    def group(collection: Any, database: Any, options: Any, user_vars: Any) -> Any:
        key_spec = options.get("_id")
        if not isinstance(key_spec, dict) or not key_spec:
            return slow(collection, database, options, user_vars)
        parts = [
            (name, spec[1:].split("."), None)
            if isinstance(spec, str) and spec.startswith("$") and not spec.startswith("$$")
            else (name, None, spec)
            for name, spec in key_spec.items()
        ]
        groups: dict[tuple[Any, ...], tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        for document in collection:
            key: dict[str, Any] = {}
            for name, path, expression in parts:
                value: Any = document
                if path is None:
                    value = parse(expression, document, user_vars=user_vars)
                    if value is NOTHING:
                        return slow(collection, database, options, user_vars)
                else:
                    for part in path:
                        if not isinstance(value, dict) or part not in value:
                            return slow(collection, database, options, user_vars)
                        value = value[part]
                if isinstance(value, dict):
                    return slow(collection, database, options, user_vars)
                key[name] = value
            hashable = tuple(_comparable(v) for v in key.values())
            found = groups.get(hashable)
            if found is None:
                groups[hashable] = (key, [document])
            else:
                found[1].append(document)
        out = []
        for key, members in groups.values():
            row = accumulate(options, members, user_vars=user_vars)
            row["_id"] = key
            out.append(row)
        return out

    group._vigil_fast = True  # type: ignore[attr-defined]
    handlers["$group"] = group


install_sort_array()
install_fast_group()
