"""Chart queries served from the rollup tiers on MongoDB, stitched with raw points.

domain/storage/tier_choice.py says which tier and which segments. Each segment is read by
one pipeline that answers partial aggregates per (series, chart bucket): count, sum, min,
max and the last point `[us, v]` (or sketch bins `(key, count)` for percentiles). A raw
segment reads points (one per (series, timestamp), void batches left out, as aggregate.py
does); a tier segment reads rows, leaving out the buckets marked dirty, whose raw points
are read instead. The tier's buckets nest in the chart's (its resolution divides the
step), so combining the partials here gives raw's answer: exactly for count, sum, min, max,
avg and last (up to the order of a float sum). Percentiles come here only for ranges whose
raw points retention has deleted (tier_choice.percentile_plan): then within the sketch's
bound (domain/storage/sketch.py, from the merged bins, clamped to the bucket's min and max).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from bson import ObjectId

from domain.metrics.ingest import SeriesSpec
from domain.metrics.model import Aggregation
from domain.metrics.read_models import SeriesData, SeriesResult
from domain.storage import sketch
from domain.storage.tier_choice import Segment
from infra.stores.mongo.aggregate import last_write
from infra.stores.mongo.rollups.pipeline import points_in, sketch_key

__all__ = ["Cells", "TierChart"]

Stages = list[dict[str, Any]]


class TierChart:
    """The pipelines of one tiered chart, and how to combine what they answer."""

    def __init__(
        self,
        project: str,
        specs: Sequence[SeriesSpec],
        aggregation: Aggregation,
        group_by: tuple[str, ...] | None,
        timestamps: list[int],
        step_us: int | None,
    ) -> None:
        self.project = project
        self.specs = specs
        self.aggregation = aggregation
        self.group_by = group_by
        self.timestamps = timestamps
        self.first = timestamps[0]
        self.step = step_us

    @property
    def ids(self) -> list[int]:
        return [s.id for s in self.specs]

    def _cell(self, at: str) -> dict[str, Any]:
        """The chart bucket's offset from the first one, of a stamp field (`$us`, `$b`)."""
        if self.step is None:
            return {"$literal": 0}
        offset = {"$subtract": [at, self.first]}
        return {
            "$let": {
                "vars": {"d": offset},
                "in": {"$subtract": ["$$d", {"$mod": ["$$d", self.step]}]},
            }
        }

    def raw(self, start_us: int, end_us: int, voids: Sequence[ObjectId], bins: bool) -> Stages:
        """Points of every selected series in [start_us, end_us)."""
        return self.raw_where(
            {"m.s": {"$in": self.ids}, **points_in(start_us, end_us)}, voids, bins=bins
        )

    def raw_where(self, where: dict[str, Any], voids: Sequence[ObjectId], bins: bool) -> Stages:
        match: dict[str, Any] = {"m.p": self.project, **where}
        if voids:
            match["b"] = {"$nin": list(voids)}
        stages: Stages = [
            {"$match": match},
            {"$group": {"_id": {"s": "$m.s", "us": "$us"}, "w": last_write()}},
            {
                "$project": {
                    "_id": 0,
                    "s": "$_id.s",
                    "at": "$_id.us",
                    "v": {"$arrayElemAt": ["$w", 2]},
                }
            },
        ]
        if bins:
            stages.append({"$set": {"k": sketch_key("$v"), "c": {"$literal": 1}}})
            return [*stages, self._bins()]
        fields = {"n": {"$literal": 1}, "sm": "$v", "lo": "$v", "hi": "$v", "lv": "$v", "lt": "$at"}
        return [*stages, {"$set": fields}, self._stats()]

    def tier(self, segment: Segment, dirty: set[tuple[int, int]], bins: bool) -> Stages:
        """Rows of the segment's tier, without the dirty (series, bucket) ones."""
        match: dict[str, Any] = {
            "p": self.project,
            "s": {"$in": self.ids},
            "b": {"$gte": segment.start_us, "$lt": segment.end_us},
        }
        if dirty:
            match["$nor"] = [{"s": s, "b": b} for s, b in sorted(dirty)]
        stages: Stages = [{"$match": match}]
        if bins:
            return [
                *stages,
                {"$project": {"_id": 0, "s": 1, "at": "$b", "keys": 1, "counts": 1}},
                {"$unwind": {"path": "$keys", "includeArrayIndex": "i"}},
                {
                    "$project": {
                        "s": 1,
                        "at": 1,
                        "k": "$keys",
                        "c": {"$arrayElemAt": ["$counts", "$i"]},
                    }
                },
                self._bins(),
            ]
        fields = {
            "_id": 0,
            "s": 1,
            "at": "$b",
            "n": "$count",
            "sm": "$sum",
            "lo": "$min",
            "hi": "$max",
            "lv": "$last",
            "lt": "$last_us",
        }
        return [*stages, {"$project": fields}, self._stats()]

    def dirty_raw(
        self,
        segment: Segment,
        dirty: set[tuple[int, int]],
        voids: Sequence[ObjectId],
        bins: bool,
    ) -> Stages:
        """The raw points of the dirty buckets (one clause per bucket)."""
        resolution = segment.tier.resolution_us
        by_bucket: dict[int, list[int]] = {}
        for sid, bucket in dirty:
            by_bucket.setdefault(bucket, []).append(sid)
        clauses = [
            {"m.s": {"$in": sorted(ids)}, **points_in(b, b + resolution)}
            for b, ids in sorted(by_bucket.items())
        ]
        return self.raw_where({"$or": clauses}, voids, bins=bins)

    def _stats(self) -> dict[str, Any]:
        return {
            "$group": {
                "_id": {"s": "$s", "c": self._cell("$at")},
                "n": {"$sum": "$n"},
                "sm": {"$sum": "$sm"},
                "lo": {"$min": "$lo"},
                "hi": {"$max": "$hi"},
                "last": {"$max": {"$concatArrays": [["$lt", "$lv"]]}},
            }
        }

    def _bins(self) -> dict[str, Any]:
        return {
            "$group": {
                "_id": {"s": "$s", "c": self._cell("$at"), "k": "$k"},
                "c": {"$sum": "$c"},
            }
        }

    def result(
        self, stats: list[dict[str, Any]], bins: list[dict[str, Any]], resolution: str
    ) -> SeriesResult:
        """Combine the partials of every segment into the chart's dense arrays."""
        cells = Cells(self, stats)
        values = cells.values(self.aggregation, bins)
        lines = []
        for gid, tags in enumerate(cells.tags):
            row = values[gid]
            if np.isnan(row).all():
                continue
            lines.append(SeriesData(tags, [None if np.isnan(v) else float(v) for v in row]))
        return SeriesResult(self.timestamps, cells.ordered(lines), resolution)


class Cells:
    """Partials by (group, chart bucket), groups as aggregate.py orders them."""

    def __init__(self, chart: TierChart, stats: list[dict[str, Any]]) -> None:
        self.chart = chart
        group_by = chart.group_by
        keys: dict[Any, int] = {}
        self.group_of: dict[int, int] = {}
        self.tags: list[dict[str, str]] = []
        for spec in chart.specs:
            if group_by is None:
                key: Any = spec.id
                tags = dict(spec.tags)
            else:
                key = tuple(spec.tags.get(k, "") for k in group_by)
                tags = dict(zip(group_by, key, strict=True))
            if key not in keys:
                keys[key] = len(self.tags)
                self.tags.append(tags)
            self.group_of[spec.id] = keys[key]
        self.width = len(chart.timestamps)
        shape = (len(self.tags), self.width)
        self.n = np.zeros(shape)
        self.sum = np.zeros(shape)
        self.lo = np.full(shape, np.inf)
        self.hi = np.full(shape, -np.inf)
        self.last = np.full(shape, np.nan)
        last_key: dict[tuple[int, int], tuple[int, int]] = {}
        for row in stats:
            g, i = self._where(row["_id"])
            self.n[g, i] += row["n"]
            self.sum[g, i] += row["sm"]
            self.lo[g, i] = min(self.lo[g, i], row["lo"])
            self.hi[g, i] = max(self.hi[g, i], row["hi"])
            us, value = row["last"]
            rank = (int(us), int(row["_id"]["s"]))  # ties go to the greatest series id
            if (g, i) not in last_key or rank > last_key[g, i]:
                last_key[g, i] = rank
                self.last[g, i] = value

    def _where(self, key: dict[str, Any]) -> tuple[int, int]:
        step = self.chart.step
        return self.group_of[int(key["s"])], 0 if step is None else int(key["c"]) // step

    def values(self, aggregation: Aggregation, bins: list[dict[str, Any]]) -> np.ndarray:
        empty = self.n == 0
        quantile = aggregation.quantile
        if quantile is not None:
            cell = np.empty(len(bins), np.int64)
            keys = np.empty(len(bins), np.int64)
            counts = np.empty(len(bins), np.int64)
            for j, row in enumerate(bins):
                g, i = self._where(row["_id"])
                cell[j], keys[j], counts[j] = (
                    g * self.width + i,
                    int(row["_id"]["k"]),
                    int(row["c"]),
                )
            found = sketch.quantiles(
                cell,
                keys,
                counts,
                quantile,
                cells=self.n.size,
                minimum=self.lo.ravel(),
                maximum=self.hi.ravel(),
            )
            out = found.reshape(self.n.shape)
        elif aggregation is Aggregation.AVG:
            with np.errstate(invalid="ignore", divide="ignore"):
                out = self.sum / self.n
        else:
            out = {
                Aggregation.MIN: self.lo,
                Aggregation.MAX: self.hi,
                Aggregation.SUM: self.sum,
                Aggregation.COUNT: self.n,
                Aggregation.LAST: self.last,
            }[aggregation].copy()
        out[empty] = np.nan
        return out

    def ordered(self, lines: list[SeriesData]) -> list[SeriesData]:
        """aggregate.py's order: series by their sorted tags, groups by their key."""
        if self.chart.group_by is None:
            return sorted(lines, key=lambda line: sorted(line.tags.items()))
        group_by = self.chart.group_by
        return sorted(lines, key=lambda line: tuple(line.tags[k] for k in group_by))
