"""The rollup pipeline: raw points of a time range to one row per series per tier bucket,
written with an idempotent `$merge` (decision 0004, "Rollup tiers").

Every field is computed in the server, as domain/storage/rollups.rollup_of defines it:

1. `$match` the points (a time range, or the dirty buckets of some series), without the
   points of void batches;
2. one point per (series, timestamp), the last written (as charts do, aggregate.py);
3. the point's bucket (floored, also before 1970) and its sketch key (sketch.py's formula
   with `$ln`, `$divide`, `$ceil` and the same LN_GAMMA double);
4. the previous point of its (series, bucket), by `$setWindowFields` `$shift`, for the
   reset-aware counter increase (`v - prev`, or `v` after a drop; 0 for the first point);
5. a `$group` per (series, bucket, sketch key), then one per (series, bucket): counts,
   sums, min, max, the first and last points as the least and greatest `[us, v]` (arrays
   compare element by element: no reliance on the order documents reach a `$group`), the
   increase, and the bins `[key, count]`, sorted with `$sortArray` into `keys` / `counts`;
6. `$merge` into the tier's collection `on` its unique (p, s, b) index, whenMatched
   `replace`, whenNotMatched `insert`: running it again writes the same rows. Each row
   carries the `run` that wrote it, so the caller then deletes the rows of the same
   buckets that this run did not write (buckets whose points are gone, e.g. void).
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from domain.storage import sketch
from infra.stores.mongo.aggregate import last_write
from infra.stores.mongo.dates import date_of_us

__all__ = ["bucket_of", "points_in", "rollup_pipeline", "sketch_key"]


def sketch_key(value: Any) -> dict[str, Any]:
    """domain/storage/sketch.py's key of `value`, as a long."""

    def magnitude_key(magnitude: Any) -> dict[str, Any]:
        return {"$ceil": {"$divide": [{"$ln": magnitude}, sketch.LN_GAMMA]}}

    return {
        "$toLong": {
            "$switch": {
                "branches": [
                    {
                        "case": {"$gt": [value, 0]},
                        "then": {"$add": [sketch.OFFSET, magnitude_key(value)]},
                    },
                    {
                        "case": {"$lt": [value, 0]},
                        "then": {
                            "$subtract": [
                                -sketch.OFFSET,
                                magnitude_key({"$multiply": [value, -1]}),
                            ]
                        },
                    },
                ],
                "default": 0,
            }
        }
    }


def bucket_of(us: Any, resolution_us: int) -> dict[str, Any]:
    """The start of the bucket holding `us`: floored, so also right before 1970 (`$mod`
    keeps the dividend's sign)."""
    return {
        "$let": {
            "vars": {"r": {"$mod": [us, resolution_us]}},
            "in": {
                "$subtract": [
                    us,
                    {"$cond": [{"$lt": ["$$r", 0]}, {"$add": ["$$r", resolution_us]}, "$$r"]},
                ]
            },
        }
    }


def points_in(start_us: int, end_us: int) -> dict[str, Any]:
    """The filter of points stamped in [start_us, end_us): `t` (milliseconds) lets the
    server skip buckets of the time-series collection, `us` is exact."""
    return {
        "t": {"$gte": date_of_us(start_us), "$lte": date_of_us(end_us - 1)},
        "us": {"$gte": start_us, "$lt": end_us},
    }


def _pair(first: str, second: str) -> dict[str, Any]:
    # A $group accumulator takes one expression, not an array of them.
    return {"$concatArrays": [[first, second]]}


def _element(array: str, index: int) -> dict[str, Any]:
    return {"$arrayElemAt": [array, index]}


def rollup_pipeline(
    match: dict[str, Any], resolution_us: int, into: str, run: ObjectId
) -> list[dict[str, Any]]:
    """The stages rolling the points `match` selects into `into`, stamped with `run`."""
    series_bucket = {"p": "$_id.p", "s": "$_id.s", "b": "$_id.b"}
    return [
        {"$match": match},
        {
            "$group": {
                "_id": {"p": "$m.p", "s": "$m.s", "us": "$us"},
                "w": last_write(),
                "n": {"$first": "$m.n"},
            }
        },
        {
            "$project": {
                "_id": 0,
                "p": "$_id.p",
                "s": "$_id.s",
                "n": 1,
                "us": "$_id.us",
                "v": _element("$w", 2),
            }
        },
        {"$set": {"b": bucket_of("$us", resolution_us), "k": sketch_key("$v")}},
        {
            "$setWindowFields": {
                "partitionBy": {"p": "$p", "s": "$s", "b": "$b"},
                "sortBy": {"us": 1},
                "output": {"prev": {"$shift": {"output": "$v", "by": -1, "default": None}}},
            }
        },
        {
            "$set": {
                "d": {
                    "$cond": [
                        {"$eq": ["$prev", None]},
                        0.0,
                        {
                            "$cond": [
                                {"$gte": ["$v", "$prev"]},
                                {"$subtract": ["$v", "$prev"]},
                                "$v",
                            ]
                        },
                    ]
                }
            }
        },
        {
            "$group": {
                "_id": {"p": "$p", "s": "$s", "b": "$b", "k": "$k"},
                "n": {"$first": "$n"},
                "c": {"$sum": 1},
                "sum": {"$sum": "$v"},
                "min": {"$min": "$v"},
                "max": {"$max": "$v"},
                "first": {"$min": _pair("$us", "$v")},
                "last": {"$max": _pair("$us", "$v")},
                "inc": {"$sum": "$d"},
            }
        },
        {
            "$group": {
                "_id": series_bucket,
                "n": {"$first": "$n"},
                "count": {"$sum": "$c"},
                "sum": {"$sum": "$sum"},
                "min": {"$min": "$min"},
                "max": {"$max": "$max"},
                "first": {"$min": "$first"},
                "last": {"$max": "$last"},
                "inc": {"$sum": "$inc"},
                "bins": {"$push": _pair("$_id.k", "$c")},
            }
        },
        {
            "$project": {
                "_id": 0,
                **series_bucket,
                "n": 1,
                "count": 1,
                "sum": 1,
                "min": 1,
                "max": 1,
                "first": _element("$first", 1),
                "first_us": _element("$first", 0),
                "last": _element("$last", 1),
                "last_us": _element("$last", 0),
                "inc": 1,
                "bins": {"$sortArray": {"input": "$bins", "sortBy": 1}},
                "run": {"$literal": run},
            }
        },
        {
            "$set": {
                "keys": {"$map": {"input": "$bins", "as": "bin", "in": _element("$$bin", 0)}},
                "counts": {"$map": {"input": "$bins", "as": "bin", "in": _element("$$bin", 1)}},
            }
        },
        {"$unset": "bins"},
        {
            "$merge": {
                "into": into,
                "on": ["p", "s", "b"],
                "whenMatched": "replace",
                "whenNotMatched": "insert",
            }
        },
    ]
