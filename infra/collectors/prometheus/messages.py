"""Prometheus remote-write 1.0 (`prometheus.WriteRequest`) and 2.0
(`io.prometheus.write.v2.Request`) messages, plus the partial views the fast paths parse.

Declared from the remote-write specifications (prometheus.io/docs/specs/remote_write_spec and
remote_write_spec_2_0); enums are read as their int32 wire value.
"""

from __future__ import annotations

from typing import Any, Final

from infra.collectors.protoschema import Field, build_messages

__all__ = ["V1", "V2"]

_SAMPLE: Final[list[Field]] = [("value", 1, "double", False), ("timestamp", 2, "int64", False)]
_SPAN: Final[list[Field]] = [("offset", 1, "sint32", False), ("length", 2, "uint32", False)]
# Native histogram: identical in 1.0 (prompb.Histogram) and 2.0; the two oneofs read as plain
# fields, since only the non-zero member of each is ever used.
_HISTOGRAM: Final[list[Field]] = [
    ("count_int", 1, "uint64", False),
    ("count_float", 2, "double", False),
    ("sum", 3, "double", False),
    ("schema", 4, "sint32", False),
    ("zero_threshold", 5, "double", False),
    ("zero_count_int", 6, "uint64", False),
    ("zero_count_float", 7, "double", False),
    ("negative_spans", 8, "BucketSpan", True),
    ("negative_deltas", 9, "sint64", True),
    ("negative_counts", 10, "double", True),
    ("positive_spans", 11, "BucketSpan", True),
    ("positive_deltas", 12, "sint64", True),
    ("positive_counts", 13, "double", True),
    ("reset_hint", 14, "int32", False),
    ("timestamp", 15, "int64", False),
    ("custom_values", 16, "double", True),
]

V1: Final[dict[str, Any]] = build_messages(
    "prometheus",
    [
        ("Sample", _SAMPLE),
        ("Label", [("name", 1, "string", False), ("value", 2, "string", False)]),
        ("Labels", [("labels", 1, "Label", True)]),
        (
            "Exemplar",
            [
                ("labels", 1, "Label", True),
                ("value", 2, "double", False),
                ("timestamp", 3, "int64", False),
            ],
        ),
        ("BucketSpan", _SPAN),
        ("Histogram", _HISTOGRAM),
        (
            "TimeSeries",
            [
                ("labels", 1, "Label", True),
                ("samples", 2, "Sample", True),
                ("exemplars", 3, "Exemplar", True),
                ("histograms", 4, "Histogram", True),
            ],
        ),
        (
            "MetricMetadata",
            [
                ("type", 1, "int32", False),
                ("metric_family_name", 2, "string", False),
                ("help", 4, "string", False),
                ("unit", 5, "string", False),
            ],
        ),
        (
            "WriteRequest",
            [("timeseries", 1, "TimeSeries", True), ("metadata", 3, "MetricMetadata", True)],
        ),
        # The fast path's view: each series as its raw bytes, nothing else decoded.
        ("WriteRequestRaw", [("timeseries", 1, "bytes", True), ("metadata", 3, "bytes", True)]),
    ],
)

V2: Final[dict[str, Any]] = build_messages(
    "io.prometheus.write.v2",
    [
        ("Sample", _SAMPLE),
        ("BucketSpan", _SPAN),
        ("Histogram", _HISTOGRAM),
        (
            "Exemplar",
            [
                ("labels_refs", 1, "uint32", True),
                ("value", 2, "double", False),
                ("timestamp", 3, "int64", False),
            ],
        ),
        (
            "Metadata",
            [
                ("type", 1, "int32", False),
                ("help_ref", 3, "uint32", False),
                ("unit_ref", 4, "uint32", False),
            ],
        ),
        (
            "TimeSeries",
            [
                ("labels_refs", 1, "uint32", True),
                ("samples", 2, "Sample", True),
                ("histograms", 3, "Histogram", True),
                ("exemplars", 4, "Exemplar", True),
                ("metadata", 5, "Metadata", False),
                ("created_timestamp", 6, "int64", False),
            ],
        ),
        ("Request", [("symbols", 4, "string", True), ("timeseries", 5, "TimeSeries", True)]),
        ("RequestRaw", [("symbols", 4, "string", True), ("timeseries", 5, "bytes", True)]),
    ],
)
