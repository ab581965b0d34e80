"""The compiled scanners (decision 0041) against the Python readers they stand in for:
on thousands of seeded bodies, well-formed, odd and broken, a decoder with them answers
exactly what one without them answers (the same points, or the same error)."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator
from typing import Any

import cramjam
import pytest

from infra.collectors import DecodeError, LineProtocolDecoder, RemoteWriteDecoder, scan
from infra.collectors.decoded import DecodedPoints
from infra.collectors.prometheus.messages import V1

NOW_US = 1_700_000_000_123_456
T0 = 1_700_000_000_000  # ms
STALE = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]


def test_the_scanners_are_built() -> None:
    """`make test` installs Vigil with setup.py, which compiles them (gcc and the Python
    headers); without them the collectors work at several times the CPU per point."""
    assert scan.COMPILED, "infra/collectors/_scan.pyx was not compiled: see setup.py"


def outcome(decode: Callable[[], DecodedPoints], messages: bool) -> object:
    try:
        points = decode()
    except DecodeError as exc:
        # Remote-write's message may name the part that failed (a series' labels when the
        # body was read column-wise, the whole request when message by message).
        assert exc.message
        return ("error", exc.status, exc.message if messages else "")
    return (
        [(s.name, s.tags, s.type, t, v) for s, t, v in points.rows()],
        points.rejected,
        [(f.name, f.type, f.help) for f in points.families],
    )


def both_ways(
    monkeypatch: pytest.MonkeyPatch, decode: Callable[[], DecodedPoints], *, messages: bool
) -> object:
    compiled = outcome(decode, messages)
    with monkeypatch.context() as patched:
        patched.setattr(scan, "compiled", None)
        python = outcome(decode, messages)
    assert compiled == python
    return compiled


# -- remote-write 1.0 -------------------------------------------------------------------------


def _series(rng: random.Random, odd: bool) -> tuple[dict[str, str], list[tuple[int, float]]]:
    labels = {"__name__": rng.choice(["up", "node_load1", "http_requests_total"])}
    for _ in range(rng.randrange(0, 4)):
        labels[rng.choice(["job", "instance", "le", "path"])] = rng.choice(
            ["a", "node", "x" * rng.randrange(1, 300), "é✓", ""]
        )
    samples = []
    for _ in range(rng.choice([1, 1, 1, 1, 0, 2]) if odd else 1):
        stamp = rng.choice([T0 + rng.randrange(10**6), 0, -5, 2**62, T0])
        value = rng.choice([0.0, -0.0, 1.5, -2.25e300, float("nan"), STALE, float("inf"), 7.0])
        samples.append((stamp, value))
    return labels, samples


def _v1_body(rng: random.Random) -> bytes:
    request = V1["WriteRequest"]()
    odd = rng.random() < 0.3  # series without a sample or with two: the generic path's
    for _ in range(rng.choice([1, 3, 40, 200])):
        labels, samples = _series(rng, odd)
        ts = request.timeseries.add()
        for name, value in sorted(labels.items()):
            ts.labels.add(name=name, value=value)
        for stamp, value in samples:
            ts.samples.add(timestamp=stamp, value=value)
    if rng.random() < 0.05:
        request.metadata.add(metric_family_name="up", type=1, help="Up?")
    data: bytes = request.SerializeToString()
    damage = rng.random()
    if damage < 0.1 and data:
        data = data[: rng.randrange(len(data))]  # truncated
    elif damage < 0.2 and data:
        at = rng.randrange(len(data))
        data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]  # one byte changed
    elif damage < 0.25:
        data += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))  # junk after
    return data


def _seeds(count: int) -> Iterator[random.Random]:
    for seed in range(count):
        yield random.Random(seed)


def test_remote_write_bodies_decode_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    kinds: dict[str, int] = {}
    for rng in _seeds(600):
        raw = _v1_body(rng)
        assert scan.compiled is not None
        kinds["scanned"] = kinds.get("scanned", 0) + (
            scan.compiled.remote_write_v1(raw) is not None
        )
        body = cramjam.snappy.compress_raw(raw)
        got = both_ways(
            monkeypatch,
            lambda body=body: RemoteWriteDecoder().decode(bytes(body), content_type=None).points,
            messages=False,
        )
        kind = "error" if isinstance(got, tuple) and got[0] == "error" else "points"
        kinds[kind] = kinds.get(kind, 0) + 1
    # Both outcomes were exercised, and the scanner read over half the bodies itself.
    assert kinds["points"] > 300 and kinds["error"] > 20 and kinds["scanned"] > 300


def test_the_scanner_reads_what_prometheus_sends_and_refuses_other_shapes() -> None:
    assert scan.compiled is not None
    label = b"\x0a\x12\x0a\x08__name__\x12\x06node_x"
    sample = b"\x12\x10\x09" + struct.pack("<d", 2.5) + b"\x10" + bytes([0x80] * 5 + [0x01])
    record = label + sample
    body = b"\x0a" + bytes([len(record)]) + record
    keys, stamps, values = scan.compiled.remote_write_v1(body)  # type: ignore[misc]
    assert keys == [label] and stamps.tolist() == [2**35] and values.tolist() == [2.5]
    assert scan.compiled.remote_write_v1(b"") is None
    assert scan.compiled.remote_write_v1(body + b"\x1a\x00") is None  # metadata: generic path
    two = label + sample + sample
    assert scan.compiled.remote_write_v1(b"\x0a" + bytes([len(two)]) + two) is None
    assert scan.compiled.remote_write_v1(body[:-1]) is None


# -- line protocol ----------------------------------------------------------------------------

_NUMBERS = ["1", "-2.5", "1e3", "1E-3", ".5", "5.", "-0", "0.1", "12345678901234567890",
            "1e999", "-", "1.2.3", "e5", "1e", "+1", "1_0", "nan", "inf", "0x10", "1" * 80,
            "3i", "-3i", "-0i", "9223372036854775807i", "9223372036854775808i",
            "-9223372036854775808i", "-9223372036854775809i", "18446744073709551615u",
            "18446744073709551616u", "-1u", "7u", "i", "u", "1.5i", "--1i", "t", "true", "F",
            '"text"', "1i5"]  # fmt: skip
_STAMPS = ["1", "-1", "0", "1700000000000000000", "9223372036854775807", "9223372036854775808",
           "-9223372036854775808", "-9223372036854775809", "12a", "", "1.5", "007"]  # fmt: skip


def _line(rng: random.Random, odd: float, stamped: bool) -> str:
    key = rng.choice(["m", "cpu", "disk_io", "m,host=a", "m,host=a,region=eu-1", "m=x,t=y"])
    if rng.random() < odd / 8:
        key = rng.choice([r"m\ x", "m,t=a b", "", "m,", ",t=v", "m,t"])
    fields = ",".join(
        f"{rng.choice(['value', 'f', 'user', 'x'])}="
        + (rng.choice(_NUMBERS) if rng.random() < odd else str(rng.uniform(-1e6, 1e6)))
        for _ in range(rng.choice([1, 1, 2, 3]))
    )
    if rng.random() < odd / 10:
        fields = rng.choice(["", "f", "=1", "f=", "f=1,", "f==1", "f=1,,g=2", "f=1=2"])
    line = f"{key} {fields}"
    if stamped != (rng.random() < odd):  # now and then a line unlike the others
        line += " " + (rng.choice(_STAMPS) if rng.random() < odd else str(T0 * 10**6))
    return line


def _lp_body(rng: random.Random) -> bytes:
    odd = rng.choice([0.0, 0.01, 0.3])  # how many odd tokens: none in a third of the bodies
    stamped = rng.random() < 0.6  # senders stamp every line or none
    lines = [_line(rng, odd, stamped) for _ in range(rng.choice([1, 2, 10, 100]))]
    body = "\n".join(lines)
    extra = rng.random()
    if extra < 0.05:
        body += "\n\n"
    elif extra < 0.1:
        body = "\n" + body
    elif extra < 0.5:
        body += "\n"
    elif extra < 0.53:
        body = body.replace(" ", "  ", 1)
    elif extra < 0.56:
        body = body.replace("\n", "\r\n")
    return body.encode()


@pytest.mark.parametrize(
    ("precision", "extra"), [("ns", None), ("s", None), ("ms", {"db": "telegraf", "host": "a"})]
)
def test_line_protocol_bodies_decode_alike(
    monkeypatch: pytest.MonkeyPatch, precision: str, extra: dict[str, str] | None
) -> None:
    """One decoder for all the bodies, as a server keeps one: its caches see every shape."""
    decoder = LineProtocolDecoder()
    kinds: dict[str, int] = {}
    for rng in _seeds(1500):
        body = _lp_body(rng)
        assert scan.compiled is not None
        kinds["scanned"] = kinds.get("scanned", 0) + (
            scan.compiled.line_protocol(body, b"") is not None
        )
        got = both_ways(
            monkeypatch,
            lambda body=body: decoder.decode(
                body, now_us=NOW_US, precision=precision, extra_tags=extra
            ),
            messages=True,  # the same line named
        )
        kind = "error" if isinstance(got, tuple) and got[0] == "error" else "points"
        kinds[kind] = kinds.get(kind, 0) + 1
    # With precision "s" many stamps overflow: errors, read by both alike.
    assert kinds["points"] > 300 and kinds["error"] > 200 and kinds["scanned"] > 700


def test_the_scanner_takes_ragged_lines_and_leaves_the_rest_to_the_general_reader() -> None:
    assert scan.compiled is not None
    parsed: Any = scan.compiled.line_protocol(b"m,h=a v=1,w=-2i 10\ncpu u=3u 20\n", b"\n0")
    keys, values, stamps = parsed
    assert keys == [b"m,h=a v\n0", b"m,h=a w\n0", b"cpu u\n0"]
    assert values.tolist() == [1.0, -2.0, 3.0] and stamps.tolist() == [10, 10, 20]
    assert scan.compiled.line_protocol(b"m v=1\ncpu u=2\n", b"")[2] is None  # type: ignore[index]
    for other in (b"m v=1 1\nm v=2", b"m v=t", b'm v="s"', b"m\\ x v=1", b"# c\nm v=1", b""):
        assert scan.compiled.line_protocol(other, b"") is None, other


def _mutated(rng: random.Random, body: bytes) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(data) + 1)
        kind = rng.random()
        if kind < 0.4 and at < len(data):
            data[at] ^= 1 << rng.randrange(8)  # a flipped bit
        elif kind < 0.7:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4)))
        else:
            del data[at : at + rng.randrange(1, 8)]
    return bytes(data)


def test_the_scanners_survive_random_damage(monkeypatch: pytest.MonkeyPatch) -> None:
    """They read untrusted bytes in C: thousands of bodies with flipped bits, inserted and
    deleted bytes, and pure noise never crash them, and a decoder answers with them what
    it answers without them."""
    assert scan.compiled is not None
    rng = random.Random(2026)
    remote = [_v1_body(random.Random(seed)) for seed in range(40)]
    lines = [_lp_body(random.Random(seed)) for seed in range(40)]
    decoder = LineProtocolDecoder()
    for n in range(3000):
        noise = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))
        for body in (_mutated(rng, rng.choice(remote)), noise):
            scan.compiled.remote_write_v1(body)
            if n % 10 == 0:
                both_ways(
                    monkeypatch,
                    lambda body=body: (
                        RemoteWriteDecoder()
                        .decode(bytes(cramjam.snappy.compress_raw(body)), content_type=None)
                        .points
                    ),
                    messages=False,
                )
        for body in (_mutated(rng, rng.choice(lines)), noise):
            scan.compiled.line_protocol(body, b"\n1")
            if n % 10 == 0:
                both_ways(
                    monkeypatch,
                    lambda body=body: decoder.decode(body, now_us=NOW_US),
                    messages=True,
                )
