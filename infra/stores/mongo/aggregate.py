"""Chart queries pushed down to MongoDB: $match on meta and time, one point per (series,
timestamp), then one $group per bucket."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson import ObjectId

from domain.errors import BadUserInput
from domain.metrics.ingest import SeriesSpec
from domain.metrics.model import Aggregation
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesData, SeriesResult
from infra.stores.mongo.dates import date_of_us
from infra.stores.mongo.options import MongoOptions

__all__ = ["MAX_BUCKETS", "Chart", "last_write", "plan_chart", "too_many_series"]

MAX_BUCKETS = 100_000

_PLAIN = {
    Aggregation.AVG: {"$avg": "$v"},
    Aggregation.MIN: {"$min": "$v"},
    Aggregation.MAX: {"$max": "$v"},
    Aggregation.SUM: {"$sum": "$v"},
    Aggregation.COUNT: {"$sum": 1},
    # The latest point, ties going to the greatest series id: arrays compare element by
    # element (the server's Value::compare, and Python's lists in the emulator). The
    # $concatArrays wrapper is there because a $group accumulator takes one expression,
    # not an array of them.
    Aggregation.LAST: {"$max": {"$concatArrays": [["$us", "$s", "$v"]]}},
}


def last_write() -> dict[str, Any]:
    """The accumulator that keeps, of one (series, timestamp)'s points, the last written:
    the greatest [write stamp, batch id, value] (points stored before write stamps
    existed count as stamp 0, so any later write wins over them)."""
    return {"$max": {"$concatArrays": [[{"$ifNull": ["$w", 0]}, "$b", "$v"]]}}


def too_many_series(count: int, options: MongoOptions) -> BadUserInput | None:
    """The series ids go to the server in one command (16 MiB at most): refuse above."""
    if count <= options.max_series_per_query:
        return None
    return BadUserInput(
        f"the selection matches {count} series; a query on this store takes at most"
        f" {options.max_series_per_query}: narrow it with a metric name or tag matchers"
    )


class Chart:
    """One chart query: the pipeline to run, and how to turn its rows into dense arrays."""

    def __init__(
        self,
        query: GetMetricSeriesQuery,
        specs: Sequence[SeriesSpec],
        timestamps: list[int],
        first: int,
        options: MongoOptions,
    ) -> None:
        self.query = query
        self.specs = specs
        self.timestamps = timestamps
        self._first = first
        self._options = options

    def pipeline(self, voids: Sequence[ObjectId] = ()) -> list[dict[str, Any]]:
        """`voids`: batches whose points are left out (batches.py)."""
        q, ids = self.query, [s.id for s in self.specs]
        match: dict[str, Any] = {
            "m.p": q.project,
            "m.s": ids[0] if len(ids) == 1 else {"$in": ids},
            # `t` (milliseconds) lets the server skip buckets; `us` is the exact bound.
            "t": {"$gte": date_of_us(q.start_us), "$lte": date_of_us(q.end_us - 1)},
            "us": {"$gte": q.start_us, "$lt": q.end_us},
        }
        if voids:
            match["b"] = {"$nin": list(voids)}
        # One point per (series, timestamp): the last written (a retried batch, a point
        # sent twice). The group key rides along so that the second $group needs no tags.
        point: dict[str, Any] = {"s": "$m.s", "us": "$us"}
        if q.group_by is not None:
            point["g"] = self._group_key()
        unique = {"$group": {"_id": point, "w": last_write()}}
        flat = {
            "$project": {
                "_id": 0,
                "s": "$_id.s",
                "us": "$_id.us",
                "g": "$_id.s" if q.group_by is None else "$_id.g",
                "v": {"$arrayElemAt": ["$w", 2]},
            }
        }
        group: dict[str, Any] = {"_id": {"g": "$g", "b": self._bucket()}}
        stages: list[dict[str, Any]] = [{"$match": match}, unique, flat, {"$group": group}]
        quantile = q.aggregation.quantile
        if quantile is None:
            group["v"] = _PLAIN[q.aggregation]
        elif self._options.percentiles == "approximate":
            group["v"] = {"$percentile": {"input": "$v", "p": [quantile], "method": "approximate"}}
        else:
            # At most one value more than the bound is kept per bucket, so the server's
            # 100 MiB per group is never reached: `n` shows a bucket over the bound.
            limit = self._options.percentile_max_values
            group["vs"] = {"$firstN": {"input": "$v", "n": limit + 1}}
            group["n"] = {"$sum": 1}
            stages.append({"$project": {"n": 1, "v": _interpolate("$vs", quantile)}})
        return stages

    def result(self, rows: list[dict[str, Any]]) -> SeriesResult:
        """Dense arrays, None where a bucket is empty; groups without data are left out."""
        step = self.query.step_us
        limit = self._options.percentile_max_values
        if any(row.get("n", 0) > limit for row in rows):
            raise BadUserInput(
                f"an exact percentile takes at most {limit} points per bucket on this store:"
                " choose a smaller step or range, or an approximate percentile (a storage"
                " tier's sketch)"
            )
        cells: dict[Any, dict[int, float]] = {}
        for row in rows:
            key = row["_id"]
            gkey = tuple(key["g"]) if isinstance(key["g"], list) else key["g"]
            index = 0 if step is None else int(key["b"]) // step
            cells.setdefault(gkey, {})[index] = self._value(row)
        series = []
        for gkey, tags in self._groups(cells):
            cell = cells[gkey]
            series.append(SeriesData(tags, [cell.get(i) for i in range(len(self.timestamps))]))
        return SeriesResult(self.timestamps, series)

    def _group_key(self) -> Any:
        group_by = self.query.group_by or ()
        # Tag keys may hold dots (never a leading $), hence $getField; a missing tag is "".
        return [
            {"$ifNull": [{"$getField": {"field": k, "input": "$m.tags"}}, ""]} for k in group_by
        ]

    def _bucket(self) -> Any:
        """The bucket's offset from `first` in microseconds, in exact integer arithmetic.

        Not $dateTrunc: points keep microseconds (BSON dates hold milliseconds), and
        buckets start at multiples of the step since the epoch for any step.
        """
        step = self.query.step_us
        if step is None:
            return 0
        offset = {"$subtract": ["$us", self._first]}  # `us` of the flattened point
        return {
            "$let": {"vars": {"d": offset}, "in": {"$subtract": ["$$d", {"$mod": ["$$d", step]}]}}
        }

    def _value(self, row: dict[str, Any]) -> float:
        value = row["v"]
        if self.query.aggregation is Aggregation.LAST:
            value = value[2]
        elif isinstance(value, list):  # $percentile answers one value per p
            value = value[0]
        return float(value)

    def _groups(self, cells: dict[Any, dict[int, float]]) -> list[tuple[Any, dict[str, str]]]:
        """Each group with data and its tags, in the DuckDB store's order."""
        group_by = self.query.group_by
        if group_by is None:
            by_id = {s.id: s for s in self.specs}
            found = [(sid, dict(by_id[sid].tags)) for sid in cells if sid in by_id]
            return sorted(found, key=lambda item: sorted(item[1].items()))
        return [(key, dict(zip(group_by, key, strict=True))) for key in sorted(cells)]


def plan_chart(
    query: GetMetricSeriesQuery, specs: Sequence[SeriesSpec], options: MongoOptions
) -> Chart | SeriesResult:
    """A Chart to run, or the answer already when nothing needs the server."""
    start, end, step = query.start_us, query.end_us, query.step_us
    if end <= start:
        return SeriesResult([], [])
    if step is None:
        timestamps, first = [start], start
    else:
        if step <= 0:
            raise BadUserInput("step must be a positive number of microseconds")
        first = start - start % step
        if -(-(end - first) // step) > MAX_BUCKETS:
            raise BadUserInput(f"a chart holds at most {MAX_BUCKETS} buckets; use a larger step")
        timestamps = list(range(first, end, step))
    if not specs:
        return SeriesResult(timestamps, [])
    refused = too_many_series(len(specs), options)
    if refused is not None:
        raise refused
    return Chart(query, specs, timestamps, first, options)


def _interpolate(values: str, quantile: float) -> dict[str, Any]:
    """The quantile of an array, interpolated linearly like numpy and DuckDB's quantile_cont."""
    return {
        "$let": {
            "vars": {
                "a": {"$sortArray": {"input": values, "sortBy": 1}},
                "h": {"$multiply": [{"$subtract": [{"$size": values}, 1]}, quantile]},
            },
            "in": {
                "$let": {
                    "vars": {
                        "lo": {"$toInt": {"$floor": "$$h"}},
                        "hi": {"$toInt": {"$ceil": "$$h"}},
                    },
                    "in": {
                        "$let": {
                            "vars": {
                                "x": {"$arrayElemAt": ["$$a", "$$lo"]},
                                "y": {"$arrayElemAt": ["$$a", "$$hi"]},
                            },
                            "in": {
                                "$add": [
                                    "$$x",
                                    {
                                        "$multiply": [
                                            {"$subtract": ["$$h", "$$lo"]},
                                            {"$subtract": ["$$y", "$$x"]},
                                        ]
                                    },
                                ]
                            },
                        }
                    },
                }
            },
        }
    }
