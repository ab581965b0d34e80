"""The storage bench's chart queries, written once for Vigil (`metricSeries`) and once for
VictoriaMetrics (MetricsQL), and the comparison of their answers value by value.

Vigil cuts [from, to) into buckets [b, b + step) starting at multiples of the step since the
epoch. A MetricsQL rollup at time t reads the window (t - window, t]; with millisecond
timestamps, t = b + step - 1 ms and window = step read exactly [b, b + step). So the peer is
asked at those instants (`nocache=1`, or it would round `start` to the step) and its
timestamps are moved back by step - 1 ms before comparing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "SERIES_QUERY",
    "Answer",
    "Case",
    "compare",
    "from_victoria",
    "from_vigil",
]

SERIES_QUERY = """
query Series($project: String!, $name: String!, $from: DateTime!, $to: DateTime,
             $step: String, $aggregation: Aggregation, $matchers: [TagMatcherInput!],
             $groupBy: [String!]) {
  metricSeries(project: $project, name: $name, from: $from, to: $to, step: $step,
               aggregation: $aggregation, matchers: $matchers, groupBy: $groupBy) {
    timestamps
    series { tags values }%s
  }
}
"""

# Vigil's aggregation -> (MetricsQL rollup over a window, MetricsQL aggregate across series)
_FUNCTIONS = {
    "AVG": ("avg_over_time", "avg"),
    "MAX": ("max_over_time", "max"),
    "MIN": ("min_over_time", "min"),
    "SUM": ("sum_over_time", "sum"),
    "COUNT": ("count_over_time", "sum"),
    "LAST": ("last_over_time", "last"),
}

# (line key, bucket start in ms) -> value; the line key is the `series` tag ("" for one
# line over every series)
Answer = dict[tuple[str, int], float]


@dataclass(frozen=True, slots=True)
class Case:
    """One chart query over [start_ms, end_ms).

    `lines`: "one" (the series `series_tag`), "all" (every series in one line) or "each"
    (one line per `series` tag, its own aggregate across that tag's series).
    """

    key: str
    label: str
    metric: str
    aggregation: str
    start_ms: int
    end_ms: int
    step_ms: int | None = None
    lines: str = "each"
    series_tag: str = "s0"
    # The target: absolute (ms) or a ratio to the peer's time; None: reported only.
    target_ms: float | None = None
    target_ratio: float | None = None

    @property
    def first_ms(self) -> int:
        """The first bucket's start: `start_ms` rounded down to the step."""
        step = self.step_ms
        return self.start_ms if step is None else self.start_ms - self.start_ms % step

    @property
    def buckets(self) -> int:
        if self.step_ms is None:
            return 1
        return -(-(self.end_ms - self.first_ms) // self.step_ms)

    # -- Vigil ---------------------------------------------------------------------------

    def vigil_variables(self, project: str) -> dict[str, Any]:
        variables: dict[str, Any] = {
            "project": project,
            "name": self.metric,
            "from": _iso(self.start_ms),
            "to": _iso(self.end_ms),
            "aggregation": self.aggregation,
        }
        if self.step_ms is not None:
            variables["step"] = _step_text(self.step_ms)
        if self.lines == "one":
            variables["matchers"] = [{"key": "series", "op": "EQ", "value": self.series_tag}]
        elif self.lines == "all":
            variables["groupBy"] = []
        elif self.aggregation != "LAST":  # LAST keeps one line per series by default
            variables["groupBy"] = ["series"]
        return variables

    # -- VictoriaMetrics -----------------------------------------------------------------

    def metricsql(self) -> str:
        rollup, across = _FUNCTIONS[self.aggregation]
        labels = f'__name__="{self.metric}"'
        if self.lines == "one":
            labels += f',series="{self.series_tag}"'
        window = self.step_ms if self.step_ms is not None else self.end_ms - self.start_ms
        inner = f"{rollup}({{{labels}}}[{window}ms])"
        if self.lines == "all":
            return f"{across}({inner})"
        if self.lines == "each" and self.aggregation != "LAST":
            return f"{across} by (series) ({inner})"
        return inner

    def victoria_request(self) -> tuple[str, dict[str, str]]:
        """The path and parameters of the equivalent MetricsQL request."""
        params = {"query": self.metricsql(), "nocache": "1"}
        if self.step_ms is None:
            params["time"] = _seconds(self.end_ms - 1)
            return "/api/v1/query", params
        last = self.first_ms + self.buckets * self.step_ms - 1
        params |= {
            "start": _seconds(self.first_ms + self.step_ms - 1),
            "end": _seconds(last),
            "step": f"{self.step_ms}ms",
        }
        return "/api/v1/query_range", params

    def shift_ms(self) -> int:
        """What to take from the peer's timestamps to get the buckets' starts."""
        return 0 if self.step_ms is None else self.step_ms - 1


def from_vigil(case: Case, data: dict[str, Any]) -> Answer:
    """`metricSeries`'s answer as {(line, bucket start ms): value}; empty buckets left out."""
    stamps = [int(t) for t in data["timestamps"]]
    out: Answer = {}
    for line in data["series"]:
        key = _line_key(case, line.get("tags") or {})
        for i, value in enumerate(line["values"]):
            if value is not None:
                out[key, 0 if case.step_ms is None else stamps[i]] = float(value)
    return out


def from_victoria(case: Case, data: dict[str, Any]) -> Answer:
    """A Prometheus API answer (`matrix` or `vector`) in the same form."""
    out: Answer = {}
    shift = case.shift_ms()
    for line in data["data"]["result"]:
        key = _line_key(case, line.get("metric") or {})
        pairs = line["values"] if "values" in line else [line["value"]]
        for stamp, text in pairs:
            value = float(text)
            if math.isnan(value):
                continue
            out[key, 0 if case.step_ms is None else round(float(stamp) * 1000) - shift] = value
    return out


def compare(ours: Answer, theirs: Answer, rel: float = 1e-9) -> dict[str, int]:
    """Value by value: how many agree, differ, or are on one side only."""
    differ = sum(
        1
        for k, v in ours.items()
        if k in theirs and not math.isclose(v, theirs[k], rel_tol=rel, abs_tol=1e-9)
    )
    only_ours = sum(1 for k in ours if k not in theirs)
    only_theirs = sum(1 for k in theirs if k not in ours)
    return {
        "values": len(ours),
        "peer_values": len(theirs),
        "differ": differ,
        "only_vigil": only_ours,
        "only_peer": only_theirs,
        "mismatches": differ + only_ours + only_theirs,
    }


def _line_key(case: Case, tags: dict[str, Any]) -> str:
    return "" if case.lines == "all" else str(tags.get("series", ""))


def _step_text(step_ms: int) -> str:
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if step_ms % size == 0:
            return f"{step_ms // size}{unit}"
    raise ValueError(f"a step of {step_ms} ms is not a whole number of seconds")


def _seconds(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")
