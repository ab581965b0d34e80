"""A line protocol body with every escape case and field type, written to Vigil and to
Debian VictoriaMetrics: both must store the same series, timestamps and values.

Two differences are known and left out of the body or the comparison: VictoriaMetrics
stores a string field as 0 (Vigil stores no point for it), and reads a float written
without its leading zero (`.75`) as 0 (InfluxDB and Vigil read 0.75).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.collectors_support import names, points
from tests.e2e.conftest import free_port
from tests.e2e.senders import require, running
from tests.support import make_settings, serve, token

pytestmark = pytest.mark.e2e

# Names and tag keys stay within Vigil's characters; the escapes are where users meet them:
# tag values, string fields (skipped by both), and every numeric and boolean form.
BODY = rb"""
# a comment, then a blank line

weather,city=New\ York,station=a\,b\=c temp=21.5,rh=40i,ok=t,note="say \"hi\", x=1" 1700000000
weather,city=Oslo,station=x\ y temp=-3.25e1,ok=FALSE,rh=7u 1700000001
weather,station=tab\ in temp=1E+3 1700000002
disk,path=/var\ lib,dev=sda1 used=17u,free=1.5,ro=false,label="a=b,c d" 1700000003
cpu,host=web-1 usage=0.5,idle=99i,up=True 1700000004
cpu,host=web-1,core=0 usage=0.75,idle=-0i 1700000005
cpu,host=web-1 usage=1 1700000006
"""


# A raw tab in a tag value: VictoriaMetrics keeps it, Vigil refuses control characters in
# names and tags (issue 12, item 11: they make look-alike series) and says which point.
TAB = b"weather,station=tab\tin temp=1E+3 1700000002\n"

Row = tuple[str, tuple[tuple[str, str], ...], int, float]


async def victoria_series(url: str) -> set[Row]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        await http.get("/internal/force_flush")
        answer = await http.post("/api/v1/export", data={"match[]": '{__name__=~".+"}'})
    found = set()
    for line in answer.text.splitlines():
        row: dict[str, Any] = json.loads(line)
        labels = dict(row["metric"])
        name = labels.pop("__name__")
        for stamp, value in zip(row["timestamps"], row["values"], strict=True):
            found.add((name, tuple(sorted(labels.items())), stamp * 1000, float(value)))
    return found


async def test_escapes_are_parsed_as_victoriametrics_parses_them(tmp_path: Path) -> None:
    binary = require("victoria-metrics", "victoria-metrics")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        binary,
        f"-httpListenAddr=127.0.0.1:{port}",
        f"-storageDataPath={tmp_path / 'vm'}",
        "-retentionPeriod=100y",
        "-influxMeasurementFieldSeparator=.",  # Vigil's m.f
    ]
    with running(args, tmp_path / "vm.log", ready=f"{url}/health"):
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            sent = await http.post("/write?precision=s", content=BODY)
            assert sent.status_code == 204, sent.text
            kept = await http.post("/write?precision=s", content=TAB.replace(b"tab", b"raw"))
        assert kept.status_code == 204, kept.text
        expected = await victoria_series(url)

        settings = make_settings(tmp_path, retention_days=36_500, retention_raw_days=36_500)
        async with serve(settings) as vigil:
            auth = {"Authorization": f"Token {token('agent', demo='collector')}"}
            answer = await vigil.http.post("/write?precision=s", content=BODY, headers=auth)
            assert answer.status_code == 204, answer.text
            refused = await vigil.http.post("/write?precision=s", content=TAB, headers=auth)
            assert refused.status_code == 400
            assert "control or bidi character (U+0009)" in refused.text
            stored = set()
            for name in await names(vigil):
                for p in await points(vigil, name):
                    stamp_us = round(_epoch(p["timestamp"]) * 1_000_000)
                    stored.add((name, tuple(sorted(p["tags"].items())), stamp_us, p["value"]))

    # VictoriaMetrics stores a string field as 0; Vigil does not store it (not a number).
    strings = {"weather.note", "disk.label"}
    assert {row for row in expected if row[0] in strings} == {
        ("weather.note", (("city", "New York"), ("station", "a,b=c")), 1700000000000000, 0.0),
        ("disk.label", (("dev", "sda1"), ("path", "/var lib")), 1700000003000000, 0.0),
    }
    assert ("weather.temp", (("station", "raw\tin"),), 1700000002000000, 1000.0) in expected
    expected = {
        row for row in expected if row[0] not in strings and all("\t" not in v for _, v in row[1])
    }
    assert len(expected) == 16  # every numeric and boolean field
    assert stored == expected


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()
