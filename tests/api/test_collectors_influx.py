"""InfluxDB line protocol through `/api/v2/write` (influxdb-client) and `/write` (the 1.x
client `influxdb`), stored as the documented metrics and read back through GraphQL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from influxdb import InfluxDBClient as InfluxV1Client
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from domain.metrics.events import MetricCollectedEvent
from tests.api.collectors_support import audit, names, points, values
from tests.support import make_settings, serve, token, ws_client

COLLECTOR = token("agent", demo="collector")


def write_v2(url: str, auth: str, records: list[Point], *, gzip: bool = False) -> None:
    with InfluxDBClient(url=url, token=auth, org="acme", enable_gzip=gzip) as client:
        client.write_api(write_options=SYNCHRONOUS).write(bucket="telegraf", record=records)


async def test_influxdb_client_writes_through_the_v2_endpoint(tmp_path: Path) -> None:
    now_ns = time.time_ns()
    records = [
        Point("cpu").tag("host", "web-1").field("usage_user", 12.5).field("usage_idle", 80.0),
        Point("cpu").tag("host", "web-2").field("usage_user", 3).time(now_ns, WritePrecision.NS),
        Point("disk").tag("path", "/var lib").field("value", 7).field("ok", True),
        Point("svc").field("state", "running").field("up", 1),  # a string field is not a number
    ]
    async with serve(make_settings(tmp_path)) as vigil:
        await asyncio.to_thread(write_v2, vigil.url, COLLECTOR, records)
        await asyncio.to_thread(write_v2, vigil.url, COLLECTOR, records[:1], gzip=True)

        assert await names(vigil) == [
            "cpu.usage_idle",
            "cpu.usage_user",
            "disk",
            "disk.ok",
            "svc.up",
        ]
        user = await points(vigil, "cpu.usage_user")
        assert sorted((p["tags"]["host"], p["value"]) for p in user) == [
            ("web-1", 12.5),
            ("web-1", 12.5),  # the gzip body, a second point of the same series
            ("web-2", 3.0),
        ]
        stamped = next(p for p in user if p["tags"]["host"] == "web-2")
        assert stamped["timestamp"].startswith(time.strftime("%Y-%m-%d", time.gmtime()))
        assert {p["source"] for p in user} == {"influx"}
        assert (await points(vigil, "disk"))[0]["tags"] == {"path": "/var lib"}
        assert await values(vigil, "disk.ok") == [1.0]
        entries = await audit(vigil)
        assert [(e["actor"], e["outcome"]) for e in entries] == [("agent", "ok")] * 2


async def test_the_v1_endpoint_takes_the_token_as_password(tmp_path: Path) -> None:
    body = [
        {
            "measurement": "mem",
            "tags": {"host": "db-1"},
            "fields": {"used_percent": 41.5, "free": 1024},
            "time": 1_700_000_000,
        }
    ]

    def write_v1(port: int) -> bool:
        client = InfluxV1Client("127.0.0.1", port, "agent", COLLECTOR, database="telegraf")
        try:
            ok: bool = client.write_points(body, time_precision="s")
            return ok
        finally:
            client.close()

    # 2023 is within the ceiling and the projects' raw retention
    settings = make_settings(tmp_path, retention_days=36_500, retention_raw_days=36_500)
    async with serve(settings) as vigil:
        port = int(vigil.url.rsplit(":", 1)[1])
        assert await asyncio.to_thread(write_v1, port)
        used = await points(vigil, "mem.used_percent")
        assert [(p["value"], p["tags"], p["timestamp"]) for p in used] == [
            (41.5, {"host": "db-1"}, "2023-11-14T22:13:20Z")
        ]
        assert await values(vigil, "mem.free") == [1024.0]


async def test_influxdb_1_8_compatible_tokens_name_user_and_password(tmp_path: Path) -> None:
    """influxdb-client's 1.8 compatibility sends `Token <user>:<password>`."""
    async with serve(make_settings(tmp_path)) as vigil:
        auth = f"agent:{COLLECTOR}"
        await asyncio.to_thread(write_v2, vigil.url, auth, [Point("load").field("value", 0.5)])
        assert await values(vigil, "load") == [0.5]


@pytest.mark.parametrize("path", ["/write?db=x", "/api/v2/write?org=o&bucket=b"])
async def test_a_malformed_line_stores_nothing_of_the_request(tmp_path: Path, path: str) -> None:
    body = b"ok value=1\nbroken,host= value=2\nok value=3\n"
    async with serve(make_settings(tmp_path)) as vigil:
        answer = await vigil.http.post(
            path, content=body, headers={"Authorization": f"Token {COLLECTOR}"}
        )
        assert answer.status_code == 400
        message = answer.json()["message" if "v2" in path else "error"]
        assert message.startswith("line 2:"), message
        assert await names(vigil) == []
        refused = (await audit(vigil))[0]
        assert (refused["actor"], refused["outcome"]) == ("agent", "BAD_USER_INPUT")
        assert refused["detail"]["status"] == 400


async def test_wrong_tokens_and_roles(tmp_path: Path) -> None:
    line = b"m value=1\n"
    async with serve(make_settings(tmp_path)) as vigil:
        http: httpx.AsyncClient = vigil.http
        v2 = "/api/v2/write?org=o&bucket=b"
        assert (await http.post(v2, content=line)).status_code == 401
        bad = await http.post(v2, content=line, headers={"Authorization": "Token nope"})
        assert (bad.status_code, bad.json()["code"]) == (401, "unauthorized")
        viewer = token("eve", demo="viewer")
        denied = await http.post(v2, content=line, headers={"Authorization": f"Token {viewer}"})
        assert (denied.status_code, denied.json()["code"]) == (403, "forbidden")
        editor = token("ed", demo="editor")
        ok = await http.post(v2, content=line, headers={"Authorization": f"Bearer {editor}"})
        assert ok.status_code == 204
        assert await values(vigil, "m") == [1.0]


async def test_collected_points_reach_live_subscribers(tmp_path: Path) -> None:
    """The same ingest path as createMetrics: its MetricCollectedEvent reaches subscribers."""
    subscription = (
        'subscription { metricCollected(project: "demo", name: "cpu.usage_user") '
        "{ name value tags } }"
    )
    viewer = token("eve", demo="viewer")
    async with serve(make_settings(tmp_path)) as vigil, ws_client(vigil.ws_url, viewer) as client:
        live = await client.subscribe(subscription)
        await vigil.listening(MetricCollectedEvent.channel_for("demo"))
        line = b"cpu,host=web-1 usage_user=12.5,usage_idle=80\n"
        answer = await vigil.http.post(
            "/write", content=line, headers={"Authorization": f"Token {COLLECTOR}"}
        )
        assert answer.status_code == 204
        message = await client.next_for(live)
        assert message["payload"]["data"]["metricCollected"] == [
            {"name": "cpu.usage_user", "value": 12.5, "tags": {"host": "web-1"}}
        ]
