"""From Prometheus labels and metadata to Vigil's series: `__name__` is the name, the other
labels are tags, and a metric type comes from metadata when the sender gave it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final, TypeVar

from infra.collectors.decoded import DecodedSeries, DecodeError, SeriesType

__all__ = ["FAMILY_SUFFIXES", "METRIC_TYPES", "family_of", "series_from_labels"]

# Metadata type enum, the same numbers in 1.0 (MetricMetadata.MetricType) and 2.0.
# Vigil has no gauge-histogram, info or stateset: they are stored as gauges.
METRIC_TYPES: Final[dict[int, SeriesType]] = {
    1: "counter",
    2: "gauge",
    3: "histogram",
    4: "histogram",
    5: "summary",
}
# The samples of one family carry these suffixes (text format and OpenMetrics).
FAMILY_SUFFIXES: Final = ("_total", "_bucket", "_sum", "_count", "_created", "_info")

T = TypeVar("T")


def family_of(name: str, families: Mapping[str, T]) -> T | None:
    """The family that covers metric `name` (`foo_bucket` is in family `foo`)."""
    family = families.get(name)
    if family is None:
        for suffix in FAMILY_SUFFIXES:
            if name.endswith(suffix):
                family = families.get(name[: -len(suffix)])
                if family is not None:
                    break
    return family


def series_from_labels(
    labels: Iterable[tuple[str, str]],
    *,
    kind: SeriesType | None = None,
    help: str = "",
    unit: str = "",
) -> DecodedSeries:
    """Series of one label set; 400 without `__name__` or with a label name twice."""
    name = ""
    tags: dict[str, str] = {}
    seen: set[str] = set()
    for key, value in labels:
        if key in seen:
            raise DecodeError(400, f"label {key!r} appears twice in one series")
        seen.add(key)
        if key == "__name__":
            name = value
        elif value:  # an empty value is the same as no label (Prometheus data model)
            tags[key] = value
    if not name:
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(tags.items()))
        raise DecodeError(400, f"a series has no __name__ label: {{{shown}}}")
    if kind is None:
        # Without metadata, the naming convention is the only hint (OpenMetrics counters).
        kind = "counter" if name.endswith("_total") else "gauge"
    return DecodedSeries(name=name, tags=tags, type=kind, help=help, unit=unit)
