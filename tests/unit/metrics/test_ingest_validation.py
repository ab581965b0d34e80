"""The ingest validator: what a collector sees when it sends good and bad points."""

from __future__ import annotations

import math
from typing import Any

import pytest

from domain.errors import BadUserInput
from domain.metrics.ingest import (
    BatchRejected,
    IngestLimits,
    PointBatch,
    series_id,
    validate_points,
)
from domain.metrics.model import MetricType, decode_point_id, encode_point_id
from tests.unit.fakes import NOW_US

LIMITS = IngestLimits()
NOW_MS = NOW_US // 1000
DAY_MS = 86_400_000


def validate(points: Any, limits: IngestLimits = LIMITS) -> PointBatch:
    return validate_points("acme", points, now_us=NOW_US, limits=limits)


def point(**fields: Any) -> dict[str, Any]:
    """A good point, with `fields` replacing its keys."""
    raw: dict[str, Any] = {"name": "cpu.load", "value": 0.5, "tags": {"host": "web-1"}}
    raw.update(fields)
    return raw


def without(key: str) -> dict[str, Any]:
    raw = point()
    del raw[key]
    return raw


def rejection(points: list[Any]) -> BatchRejected:
    with pytest.raises(BatchRejected) as caught:
        validate(points)
    return caught.value


BAD_POINTS = [
    pytest.param(without("name"), "name is required", id="name-missing"),
    pytest.param(point(name=""), "name is required", id="name-empty"),
    pytest.param(point(name=7), "name is required", id="name-not-text"),
    pytest.param(point(name="cpu load"), "characters outside", id="name-space"),
    pytest.param(point(name="cpu/load"), "characters outside", id="name-slash"),
    pytest.param(point(name="1cpu"), "characters outside", id="name-leading-digit"),
    pytest.param(point(name="a" * 201), "name longer than 200", id="name-too-long"),
    pytest.param(without("value"), "value is required and must be a number", id="value-missing"),
    pytest.param(point(value=None), "value is required and must be a number", id="value-null"),
    pytest.param(point(value="1.5"), "value is required and must be a number", id="value-text"),
    pytest.param(point(value=True), "value is required and must be a number", id="value-true"),
    pytest.param(point(value=False), "value is required and must be a number", id="value-false"),
    pytest.param(point(value=math.nan), "value must be finite", id="value-nan"),
    pytest.param(point(value=math.inf), "value must be finite", id="value-inf"),
    pytest.param(point(value=-math.inf), "value must be finite", id="value-minus-inf"),
    pytest.param(point(value=10**400), "too large", id="value-int-overflow"),
    pytest.param(
        point(timestamp=NOW_MS + 600_001), "more than 600 s in the future", id="ts-future"
    ),
    pytest.param(
        point(timestamp=NOW_MS - 30 * DAY_MS - 1), "older than the retention", id="ts-too-old"
    ),
    pytest.param(
        point(timestamp="2024-01-01T00:00:00"), "needs a time zone", id="ts-iso-without-zone"
    ),
    pytest.param(point(timestamp="yesterday"), "isoformat", id="ts-not-iso"),
    pytest.param(point(timestamp=math.nan), "timestamp must be finite", id="ts-nan"),
    pytest.param(point(timestamp=True), "ISO-8601 text or epoch milliseconds", id="ts-bool"),
    pytest.param(point(timestamp=[1]), "ISO-8601 text or epoch milliseconds", id="ts-list"),
    pytest.param(
        point(tags={f"k{i}": "v" for i in range(33)}), "more than 32 tags", id="too-many-tags"
    ),
    pytest.param(point(tags={"host": 1}), "tag 'host' must have a text value", id="tag-int"),
    pytest.param(point(tags={"host": None}), "tag 'host' must have a text value", id="tag-null"),
    pytest.param(
        point(tags={"host": ["a"]}),
        "tag 'host' must have a text value",
        id="tag-list",
    ),
    pytest.param(point(tags={"bad key": "v"}), "tag key 'bad key' is invalid", id="tag-key-space"),
    pytest.param(point(tags={"1st": "v"}), "is invalid", id="tag-key-leading-digit"),
    pytest.param(point(tags={"": "v"}), "is invalid", id="tag-key-empty"),
    pytest.param(point(tags={"k" * 101: "v"}), "too long", id="tag-key-too-long"),
    pytest.param(point(tags={"host": "v" * 201}), "value longer than 200", id="tag-value-long"),
    pytest.param(point(tags=["host"]), "tags must be an object", id="tags-not-object"),
    pytest.param(point(type="timer"), "type must be one of gauge, counter", id="unknown-type"),
    pytest.param(point(category=5), "category and source must be text", id="category-int"),
    pytest.param(point(source="s" * 201), "longer than 200", id="source-too-long"),
    pytest.param("cpu.load 0.5", "a point must be an object", id="point-not-object"),
    pytest.param(None, "a point must be an object", id="point-null"),
]


@pytest.mark.parametrize(("raw", "reason"), BAD_POINTS)
def test_a_bad_point_is_rejected_with_its_reason(raw: Any, reason: str) -> None:
    error = rejection([raw])

    assert [e.index for e in error.errors] == [0]
    assert reason in error.errors[0].reason
    assert reason in error.message
    assert error.code == "BAD_USER_INPUT"


def test_bool_is_an_int_in_python_but_not_a_metric_value() -> None:
    assert isinstance(True, int)  # why the validator must check `type(value) is int`
    error = rejection([point(value=True)])
    assert "must be a number" in error.errors[0].reason


GOOD_POINTS = [
    pytest.param(point(), id="plain"),
    pytest.param(point(value=3), id="int-value"),
    pytest.param(point(value=-1e308), id="huge-negative-float"),
    pytest.param(point(name="a" * 200), id="name-at-limit"),
    pytest.param(point(name="ns:http_requests.total-v2"), id="name-all-allowed-characters"),
    pytest.param(point(timestamp=NOW_MS + 600_000), id="ts-exactly-600s-ahead"),
    pytest.param(point(timestamp=NOW_MS - 30 * DAY_MS), id="ts-exactly-at-retention"),
    pytest.param(point(tags={f"k{i}": "v" for i in range(32)}), id="tags-at-limit"),
    pytest.param(point(tags={"k" * 100: "v" * 200}), id="tag-key-and-value-at-limit"),
    pytest.param(point(tags={}), id="no-tags"),
    pytest.param(without("tags"), id="tags-absent"),
    pytest.param(point(type="counter", category="infra", source="node-exporter"), id="typed"),
]


@pytest.mark.parametrize("raw", GOOD_POINTS)
def test_a_good_point_is_accepted(raw: dict[str, Any]) -> None:
    batch = validate([raw])

    assert len(batch) == 1
    assert batch.values == [float(raw["value"])]
    assert type(batch.values[0]) is float


def test_the_series_carries_name_tags_type_category_and_source() -> None:
    batch = validate([point(type="counter", category="infra", source="node-exporter")])

    (spec,) = batch.series
    assert (spec.name, spec.tags, spec.type) == ("cpu.load", {"host": "web-1"}, MetricType.COUNTER)
    assert (spec.category, spec.source) == ("infra", "node-exporter")


def test_type_defaults_to_gauge() -> None:
    assert validate([point()]).series[0].type is MetricType.GAUGE


def test_an_unknown_type_is_rejected_even_after_a_good_point_of_the_same_series() -> None:
    error = rejection([point(), point(type="timer")])
    assert [e.index for e in error.errors] == [1]


# -- whole batches ------------------------------------------------------------------------


def test_a_batch_names_every_bad_point_by_index_and_keeps_nothing() -> None:
    points = [
        point(),
        point(value=math.nan),
        point(),
        without("name"),
        point(timestamp="2024-01-01T00:00:00"),
    ]

    error = rejection(points)

    assert [(e.index, e.reason.split(" ")[0]) for e in error.errors] == [
        (1, "value"),
        (3, "name"),
        (4, "timestamp"),
    ]
    assert error.message.startswith("3 point(s) rejected, nothing stored: #1: value must be")
    assert "#3: name is required" in error.message
    assert "#4: timestamp needs a time zone" in error.message
    assert error.details["errors"] == [{"index": e.index, "reason": e.reason} for e in error.errors]


def test_a_batch_with_many_bad_points_shows_five_and_counts_the_rest() -> None:
    error = rejection([point(value="x")] * 8)

    assert len(error.errors) == 8
    assert len(error.details["errors"]) == 8
    assert "#4:" in error.message
    assert "#5:" not in error.message
    assert error.message.endswith("(and 3 more)")


@pytest.mark.parametrize(
    ("points", "message"),
    [
        pytest.param([], "a batch needs at least one point", id="empty"),
        pytest.param({"name": "cpu", "value": 1}, "points must be a list", id="not-a-list"),
        pytest.param(None, "points must be a list", id="null"),
    ],
)
def test_a_batch_that_is_not_a_list_of_points_is_refused(points: Any, message: str) -> None:
    with pytest.raises(BadUserInput, match=message) as caught:
        validate(points)
    assert not isinstance(caught.value, BatchRejected)


def test_a_batch_over_max_batch_is_refused_whole() -> None:
    limits = IngestLimits(max_batch=3)

    assert len(validate([point()] * 3, limits)) == 3
    with pytest.raises(BadUserInput, match="a batch holds at most 3 points"):
        validate([point()] * 4, limits)


def test_the_default_batch_limit_is_ten_thousand() -> None:
    with pytest.raises(BadUserInput, match="at most 10000 points"):
        validate([point()] * 10_001)


# -- timestamps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    [
        pytest.param(1_704_067_200_123, id="epoch-ms-int"),
        pytest.param(1_704_067_200_123.0, id="epoch-ms-float"),
        pytest.param("2024-01-01T00:00:00.123Z", id="iso-z"),
        pytest.param("2024-01-01T00:00:00.123+00:00", id="iso-utc-offset"),
        pytest.param("2024-01-01T02:00:00.123+02:00", id="iso-other-zone"),
        pytest.param("2023-12-31T19:00:00.123-05:00", id="iso-negative-zone"),
    ],
)
def test_epoch_milliseconds_and_iso_text_give_the_same_microseconds(timestamp: Any) -> None:
    assert validate([point(timestamp=timestamp)]).timestamps_us == [1_704_067_200_123_000]


def test_fractional_milliseconds_keep_microseconds() -> None:
    batch = validate(
        [point(timestamp=1_704_067_200_123.456), point(timestamp="2024-01-01T00:00:00.000001Z")]
    )
    assert batch.timestamps_us == [1_704_067_200_123_456, 1_704_067_200_000_001]


def test_a_point_without_timestamp_is_stamped_now() -> None:
    assert validate([point()]).timestamps_us == [NOW_US]


# -- series -------------------------------------------------------------------------------


def test_points_of_one_series_share_one_series_spec() -> None:
    batch = validate(
        [
            point(tags={"host": "a", "region": "eu"}, value=1),
            point(tags={"region": "eu", "host": "a"}, value=2),  # same tags, other order
            point(tags={"host": "b", "region": "eu"}, value=3),
            point(name="mem.used", tags={"host": "a", "region": "eu"}, value=4),
            point(tags={"host": "a", "region": "eu"}, value=5),
        ]
    )

    assert len(batch.series) == 3
    assert batch.series_index == [0, 0, 1, 2, 0]
    assert batch.values == [1.0, 2.0, 3.0, 4.0, 5.0]
    first = batch.series[0]
    assert first.tags == {"host": "a", "region": "eu"}
    assert first.id == series_id("acme", "cpu.load", (("host", "a"), ("region", "eu")))


def test_series_id_is_stable_across_processes_and_releases() -> None:
    # Stored data is keyed by these numbers: changing the hash orphans every stored point.
    assert series_id("acme", "cpu.load", (("host", "web-1"), ("region", "eu"))) == (
        7187684471689710827
    )
    assert series_id("acme", "cpu.load", ()) == 319366300036488189


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(("globex", "cpu.load", (("host", "a"),)), id="project"),
        pytest.param(("acme", "cpu.idle", (("host", "a"),)), id="name"),
        pytest.param(("acme", "cpu.load", (("host", "b"),)), id="tag-value"),
        pytest.param(("acme", "cpu.load", (("node", "a"),)), id="tag-key"),
        pytest.param(("acme", "cpu.load", ()), id="no-tags"),
        pytest.param(("acme", "cpu.load", (("host", "a"), ("zone", "1"))), id="extra-tag"),
        pytest.param(("acme", "cpu.loadhost", (("", "a"),)), id="no-concatenation-clash"),
    ],
)
def test_series_id_differs_by_project_name_and_tags(other: tuple[Any, ...]) -> None:
    base = series_id("acme", "cpu.load", (("host", "a"),))
    assert series_id(*other) != base


def test_series_id_fits_in_a_signed_64_bit_column() -> None:
    ids = [series_id("p", f"m{i}", (("k", str(i)),)) for i in range(2_000)]
    assert all(0 <= sid < 2**63 for sid in ids)
    assert len(set(ids)) == len(ids)


# -- point ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sid", "ts"),
    [
        (0, 0),
        (319366300036488189, NOW_US),
        (2**63 - 1, 4_102_444_800_000_000),  # largest series id, year 2100
    ],
)
def test_point_id_round_trips(sid: int, ts: int) -> None:
    point_id = encode_point_id(sid, ts)

    assert len(point_id) == 30
    assert decode_point_id(point_id) == (sid, ts)


def test_point_ids_of_a_batch_name_series_and_timestamp() -> None:
    batch = validate([point(timestamp=NOW_MS), point(tags={"host": "b"}, timestamp=NOW_MS - 1)])

    ids = batch.point_ids()
    assert [decode_point_id(i) for i in ids] == [
        (batch.series[0].id, NOW_US),
        (batch.series[1].id, NOW_US - 1000),
    ]


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "42",
        "not-a-point-id",
        "z" * 30,
        "0" * 29,
        "0" * 31,
        "046e9df532e7dbfd060dd71021200g",
        "046e9df532e7dbfd060dd7102120000",
    ],
)
def test_decoding_garbage_gives_none(garbage: str) -> None:
    assert decode_point_id(garbage) is None


@pytest.mark.parametrize(
    "alias",
    [
        "0x" + "0" * 13 + "1" + "0" * 14,
        "-" + "0" * 29,
        " " + "0" * 29,
        "0000_00000000001" + "0" * 14,
        "\u0660" * 30,  # ARABIC-INDIC DIGIT ZERO
    ],
)
def test_decoding_a_non_canonical_id_gives_none(alias: str) -> None:
    assert len(alias) == 30
    assert decode_point_id(alias) is None
