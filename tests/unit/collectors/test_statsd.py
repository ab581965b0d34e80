"""StatsD lines, the flush aggregation, and the UDP server fed by the `statsd` client."""

from __future__ import annotations

import asyncio

import pytest
import statsd

from infra.collectors import DecodedPoints, StatsdAggregator, StatsdServer
from infra.collectors.statsd import StatsdLineError, parse_line

NOW = 1_700_000_000_000_000


def flushed(points: DecodedPoints) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.tags.items()))): v for s, _, v in points.rows()}


def test_aggregation_of_one_interval() -> None:
    agg = StatsdAggregator()
    agg.feed(b"hits:1|c\nhits:2|c|@0.5\nhits:1|c|#route:/a,canary")
    agg.feed(b"temp:20|g\ntemp:+3|g\ntemp:-1|g")
    agg.feed(b"users:alice|s\nusers:bob|s\nusers:alice|s")
    agg.feed(b"\n".join(f"lat:{v}|ms".encode() for v in range(1, 101)))
    agg.feed(b"_sc|check|0\nbroken line\nx:1|q")
    got = flushed(agg.flush(NOW))
    assert got[("hits", ())] == 5.0  # 1 + 2 / 0.5
    assert got[("hits", (("canary", "true"), ("route", "/a")))] == 1.0
    assert got[("temp", ())] == 22.0
    assert got[("users", ())] == 2.0
    assert got[("lat.count", ())] == 100 and got[("lat.sum", ())] == 5050
    assert (got[("lat.min", ())], got[("lat.max", ())], got[("lat.avg", ())]) == (1, 100, 50.5)
    assert got[("lat.p90", ())] == pytest.approx(90.1)
    assert agg.bad_lines == 2
    # The next interval starts empty; a gauge delta applies to the value kept.
    agg.feed(b"temp:+1|g")
    assert flushed(agg.flush(NOW + 1)) == {("temp", ()): 23.0}


@pytest.mark.parametrize("line", ["nocolon|c", "x:1", "x:abc|c", "x:1|c|@2", "x:nan|g", "x:1|zz"])
def test_bad_lines(line: str) -> None:
    with pytest.raises(StatsdLineError):
        parse_line(line)


async def test_the_udp_server_with_the_statsd_client() -> None:
    received: list[DecodedPoints] = []

    async def on_flush(points: DecodedPoints) -> None:
        received.append(points)

    server = StatsdServer(on_flush, interval=3600)
    await server.start("127.0.0.1", 0)
    try:
        host, port = server.address
        client = statsd.StatsClient(host, port, prefix="app")
        client.incr("requests", 2)
        client.gauge("workers", 4)
        client.timing("render", 12)
        client.set("visitors", "v1")
        for _ in range(200):  # UDP: wait, boundedly, for the four datagrams
            if server.packets >= 4:
                break
            await asyncio.sleep(0.01)
        client.close()
    finally:
        await server.stop()  # hands over the last interval
    got = flushed(received[-1])
    assert got[("app.requests", ())] == 2
    assert got[("app.workers", ())] == 4
    assert got[("app.render.max", ())] == 12
    assert got[("app.visitors", ())] == 1
