"""StatsD over UDP (VIGIL_STATSD_ADDR) with the `statsd` client: each flush interval's
aggregates arrive in the configured project through the ingest command."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
import statsd

from infra.config import ConfigError, Settings
from tests.api.collectors_support import audit, names, values
from tests.support import RunningVigil, make_settings, serve


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_for_names(vigil: RunningVigil, wanted: set[str]) -> list[str]:
    """Flushes run every 0.2 s: poll, boundedly, until they are stored."""
    found: list[str] = []
    for _ in range(100):
        found = await names(vigil)
        if wanted <= set(found):
            break
        await asyncio.sleep(0.1)
    return found


async def test_the_statsd_client_over_udp(tmp_path: Path) -> None:
    port = free_udp_port()
    settings = make_settings(
        tmp_path,
        statsd_addr=f"127.0.0.1:{port}",
        statsd_project="demo",
        statsd_flush_seconds=0.2,
    )
    async with serve(settings) as vigil:
        client = statsd.StatsClient("127.0.0.1", port, prefix="shop")
        client.incr("orders", 2)
        client.incr("orders", 1)
        client.gauge("workers", 4)
        client.timing("render", 12)
        client.set("visitors", "v1")
        client.set("visitors", "v2")
        client.incr("bad name!")  # Vigil does not take this name: dropped, the rest stored
        client.close()

        wanted = {"shop.orders", "shop.workers", "shop.render.max", "shop.visitors"}
        found = await wait_for_names(vigil, wanted)
        assert wanted <= set(found)
        assert not [n for n in found if "bad" in n]
        assert sum(await values(vigil, "shop.orders")) == 3
        assert await values(vigil, "shop.workers") == [4.0]
        assert await values(vigil, "shop.render.max") == [12.0]
        assert await values(vigil, "shop.visitors") == [2.0]
        assert {e["actor"] for e in await audit(vigil)} == {"statsd"}


def test_statsd_is_off_by_default_and_needs_a_project() -> None:
    assert Settings.from_env({}).statsd_addr == ""
    with pytest.raises(ConfigError, match="VIGIL_STATSD_ADDR needs VIGIL_STATSD_PROJECT"):
        Settings.from_env({"VIGIL_STATSD_ADDR": "127.0.0.1:8125"})
    with pytest.raises(ConfigError, match="VIGIL_STATSD_ADDR"):
        Settings.from_env({"VIGIL_STATSD_ADDR": "nowhere:port", "VIGIL_STATSD_PROJECT": "p"})
