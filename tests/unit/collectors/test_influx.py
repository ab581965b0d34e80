"""Line protocol as influxdb-client writes it, every escape, every field type, bad lines."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from influxdb_client import Point, WritePrecision

from infra.collectors import DecodeError, LineProtocolDecoder, v1_params, v2_params
from infra.collectors.influx.fast import parse_fast

NOW_US = 1_700_000_000_123_456


def decode(body: bytes, **options: Any) -> list[tuple[str, dict[str, str], int, float]]:
    points = LineProtocolDecoder().decode(body, now_us=NOW_US, **options)
    return [(s.name, s.tags, t, v) for s, t, v in points.rows()]


def test_points_serialised_by_influxdb_client_with_escapes_and_every_field_type() -> None:
    point = (
        Point("cpu load,x")
        .tag("host name", "web 1,eu=west")
        .tag("k=v", "a\\b")
        .field("value", 0.5)
        .field("user time", 3)
        .field("ok", True)
        .field("note", 'say "hi" \\ bye')
        .time(1_700_000_000_000_000_001, WritePrecision.NS)
    )
    line = point.to_line_protocol().encode()
    points = LineProtocolDecoder().decode(line, now_us=NOW_US)
    tags = {"host name": "web 1,eu=west", "k=v": "a\\b"}
    got = [(s.name, s.tags, t, v) for s, t, v in points.rows()]
    assert sorted(got) == sorted(
        [
            ("cpu load,x", tags, 1_700_000_000_000_000, 0.5),  # `value` keeps the bare name
            ("cpu load,x.user time", tags, 1_700_000_000_000_000, 3.0),
            ("cpu load,x.ok", tags, 1_700_000_000_000_000, 1.0),
        ]
    )
    assert len(points.rejected) == 1 and "string field 'note'" in points.rejected[0][1]


@pytest.mark.parametrize(
    ("line", "name", "tags"),
    [
        (rb"m\,1,t=v f=1", "m,1.f", {"t": "v"}),
        (rb"m\ 1,t=v f=1", "m 1.f", {"t": "v"}),
        (rb"m=1,t=v f=1", "m=1.f", {"t": "v"}),  # '=' needs no escape in a measurement
        (rb"m,t\,k=v f=1", "m.f", {"t,k": "v"}),
        (rb"m,t\ k=v f=1", "m.f", {"t k": "v"}),
        (rb"m,t\=k=v f=1", "m.f", {"t=k": "v"}),
        (rb"m,t=v\,w f=1", "m.f", {"t": "v,w"}),
        (rb"m,t=v\ w f=1", "m.f", {"t": "v w"}),
        (rb"m,t=v\=w f=1", "m.f", {"t": "v=w"}),
        (rb"m,t=a\b f=1", "m.f", {"t": "a\\b"}),  # a lone backslash is kept
        (rb"m f\,x=1", "m.f,x", {}),
        (rb"m f\ x=1", "m.f x", {}),
        (rb"m f\=x=1", "m.f=x", {}),
        (rb'm s="a \"q\" \\ b",f=1', "m.f", {}),  # quotes, backslash and comma in a string
        (rb'm s="with space = and, comma",f=1', "m.f", {}),
        ("m,lieu=Zürich f=1".encode(), "m.f", {"lieu": "Zürich"}),
    ],
)
def test_every_escape_case(line: bytes, name: str, tags: dict[str, str]) -> None:
    assert decode(line) == [(name, tags, NOW_US, 1.0)]


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"1", 1.0),
        (b"-1.5", -1.5),
        (b"1e3", 1000.0),
        (b".5", 0.5),
        (b"42i", 42.0),
        (b"-42i", -42.0),
        (b"18446744073709551615u", 18446744073709551615.0),
        (b"t", 1.0),
        (b"True", 1.0),
        (b"FALSE", 0.0),
        (b"f", 0.0),
    ],
)
def test_field_types(raw: bytes, value: float) -> None:
    assert decode(b"m x=" + raw + b" 1")[0][3] == value


@pytest.mark.parametrize(
    ("precision", "stamp", "micros"),
    [
        ("ns", 1_700_000_000_123_456_789, 1_700_000_000_123_456),
        ("n", -1_500, -2),  # floored, as numpy and Python floor
        ("us", 1_700_000_000_123_456, 1_700_000_000_123_456),
        ("u", 5, 5),
        ("ms", 1_700_000_000_123, 1_700_000_000_123_000),
        ("s", 1_700_000_000, 1_700_000_000_000_000),
        ("m", 2, 120_000_000),
        ("h", 1, 3_600_000_000),
    ],
)
def test_timestamps_in_every_precision(precision: str, stamp: int, micros: int) -> None:
    assert decode(f"m v=1 {stamp}".encode(), precision=precision)[0][2] == micros


def test_a_line_without_timestamp_gets_the_server_time_and_gzip_bodies_are_read() -> None:
    body = gzip.compress(b"m v=1\nm v=2 1700000000000000000\n")
    got = decode(body, content_encoding="gzip")
    assert [t for _, _, t, _ in got] == [NOW_US, 1_700_000_000_000_000]


def test_the_db_of_a_v1_write_can_become_a_tag_unless_the_line_has_one() -> None:
    got = decode(b"m v=1\nm,db=mine v=2", extra_tags={"db": "telegraf"})
    assert [tags for _, tags, _, _ in got] == [{"db": "telegraf"}, {"db": "mine"}]


@pytest.mark.parametrize(
    "body",
    [
        b"m,host=a,region=eu v=1 1\nm,host=b v=2.5,w=3i 2\ncpu,c=1 user=0.5 3\n",
        b"m v=1\nm v=2\n",
        b"m a=1,b=2,c=3 10\n",
    ],
)
def test_the_fast_path_reads_what_the_general_reader_reads(body: bytes) -> None:
    assert parse_fast(body) is not None
    general = b"# a comment sends the body to the general reader\n" + body
    assert parse_fast(general) is None
    assert decode(body) == decode(general)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"m v=1\nm\n", "line 2: missing fields"),
        (b"m v=1\n\nm v=1.5i\n", "line 3: invalid integer"),
        (b"m v=NaN", "line 1: invalid field value"),
        (b"m v=inf", "line 1: invalid field value"),
        (b"m v=1e999", "line 1: float '1e999' is out of range"),
        (b'm v="open', "line 1: unterminated string"),
        (b"m v=1 12a", "line 1: invalid timestamp"),
        (b"m v=1 99999999999999999999", "line 1: timestamp 99999999999999999999 is out"),
        (b"m v", "line 1: field 'v' is not key=value"),
        (b"m,t v=1", "line 1: tag 't' is not key=value"),
        (b"m,t= v=1", "line 1: tag 't=' is not key=value"),
        (b"ok v=1\nm,a=1,a=2 v=1", "line 2: tag 'a' appears twice"),
        (b"m v=-1u", "line 1: invalid unsigned"),
        (b"m v=9223372036854775808i", "line 1: integer '9223372036854775808i' is out"),
        (b",t=1 v=1", "line 1: missing measurement"),
        (b"m v=1 1\n\xff v=1", "line 2"),
    ],
)
def test_malformed_lines_are_400_and_name_their_line(body: bytes, words: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(body)
    assert caught.value.status == 400
    assert words in caught.value.message


def test_timestamps_that_overflow_their_precision_are_refused() -> None:
    with pytest.raises(DecodeError, match="line 1: the timestamp is out of range"):
        decode(b"m v=1 9223372036854775", precision="h")


def test_v1_and_v2_query_parameters() -> None:
    assert v1_params({"db": "telegraf", "precision": "s"}).precision == "s"
    assert v1_params({}).precision == "ns"
    assert v2_params({"org": "o", "bucket": "b", "precision": "ms"}).database == "b"
    for bad in (lambda: v1_params({"precision": "d"}), lambda: v2_params({"precision": "h"})):
        with pytest.raises(DecodeError):
            bad()
    with pytest.raises(DecodeError, match="bucket"):
        v2_params({"org": "o"})
