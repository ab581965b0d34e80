"""Chart queries pushed down to MongoDB: $match on meta and time, one $group per bucket."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from domain.errors import BadUserInput
from domain.metrics.ingest import SeriesSpec
from domain.metrics.model import Aggregation
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesData, SeriesResult
from infra.stores.mongo.dates import date_of_us
from infra.stores.mongo.options import MongoOptions, ServerFeatures

__all__ = ["MAX_BUCKETS", "Chart", "plan_chart"]

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
    Aggregation.LAST: {"$max": {"$concatArrays": [["$us", "$m.s", "$v"]]}},
}


class Chart:
    """One chart query: the pipeline to run, and how to turn its rows into dense arrays."""

    def __init__(
        self,
        query: GetMetricSeriesQuery,
        specs: Sequence[SeriesSpec],
        timestamps: list[int],
        first: int,
        features: ServerFeatures,
        options: MongoOptions,
    ) -> None:
        self.query = query
        self.specs = specs
        self.timestamps = timestamps
        self._first = first
        self._features = features
        self._options = options
        self._in_python = False  # percentiles interpolated here (servers without $sortArray)

    def pipeline(self) -> list[dict[str, Any]]:
        q, ids = self.query, [s.id for s in self.specs]
        match = {
            "m.p": q.project,
            "m.s": ids[0] if len(ids) == 1 else {"$in": ids},
            # `t` (milliseconds) lets the server skip buckets; `us` is the exact bound.
            "t": {"$gte": date_of_us(q.start_us), "$lte": date_of_us(q.end_us - 1)},
            "us": {"$gte": q.start_us, "$lt": q.end_us},
        }
        group: dict[str, Any] = {"_id": {"g": self._group_key(), "b": self._bucket()}}
        stages: list[dict[str, Any]] = [{"$match": match}, {"$group": group}]
        quantile = q.aggregation.quantile
        if quantile is None:
            group["v"] = _PLAIN[q.aggregation]
        elif self._options.percentiles == "approximate" and self._features.percentile:
            group["v"] = {"$percentile": {"input": "$v", "p": [quantile], "method": "approximate"}}
        else:
            group["vs"] = {"$push": "$v"}
            if self._features.sort_array:
                stages.append({"$project": {"v": _interpolate("$vs", quantile)}})
            else:
                self._in_python = True
        return stages

    def result(self, rows: list[dict[str, Any]]) -> SeriesResult:
        """Dense arrays, None where a bucket is empty; groups without data are left out."""
        step = self.query.step_us
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
        group_by = self.query.group_by
        if group_by is None:
            return "$m.s"
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
        offset = {"$subtract": ["$us", self._first]}
        return {
            "$let": {"vars": {"d": offset}, "in": {"$subtract": ["$$d", {"$mod": ["$$d", step]}]}}
        }

    def _value(self, row: dict[str, Any]) -> float:
        if self._in_python:
            quantile = self.query.aggregation.quantile
            assert quantile is not None
            return float(np.quantile(np.asarray(row["vs"], dtype=np.float64), quantile))
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
    query: GetMetricSeriesQuery,
    specs: Sequence[SeriesSpec],
    features: ServerFeatures,
    options: MongoOptions,
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
    return Chart(query, specs, timestamps, first, features, options)


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
