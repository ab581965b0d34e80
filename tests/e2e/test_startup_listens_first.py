"""Issue 12, item 12: `vigil serve` listens before its (slow) start is over.

A real `vigil serve` process on a store holding many series, whose catalogue takes seconds
to load (3.1 s for 300k series in the report; SERIES here, a few seconds on a loaded test
machine). From the moment the port answers until the start is over, a supervisor sees the
process alive (/healthz 200), a load balancer sees it not ready (/readyz 503), and a client
gets a clear 503 UNAVAILABLE with Retry-After (a websocket: close 1013), not a refused
connection; then it becomes ready and serves.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest
import websockets

from infra.stores.duckdb import DuckDBDatabase
from tests.e2e.conftest import free_port
from tests.support import SECRET, token

SERIES = 100_000
# Python's start and the catalogue's load, on a loaded machine, with a generous margin.
START_WITHIN_SECONDS = 120.0
QUERY = {"query": '{ metrics(project: "demo") { items { name } } }'}


async def store_with_many_series(path: Path) -> None:
    database = await DuckDBDatabase.open(str(path))  # the current layout
    await database.close()
    with duckdb.connect(str(path)) as con:
        con.execute(
            "INSERT INTO series SELECT 'demo', i, 'cpu', MAP(['host'], ['h' || i]), 'gauge',"
            f" 'system', 'test', now() FROM range({SERIES}) t(i)"
        )


def vigil_serve(store: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VIGIL_STORE_URL": f"duckdb:///{store}",
        "VIGIL_SECRET": SECRET,
        "VIGIL_DATA_DIR": str(store.parent),
        "VIGIL_SELF_MONITOR_SECONDS": "0",
    }
    with (store.parent / "vigil.log").open("ab") as log:  # a file: a full pipe would block
        return subprocess.Popen(
            [sys.executable, "-m", "infra.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
        )


async def first_answer(http: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> httpx.Response:
    """The first answer of /healthz, polled from the process's start."""
    deadline = time.monotonic() + START_WITHIN_SECONDS
    while True:
        assert process.poll() is None, "vigil serve exited"
        assert time.monotonic() < deadline, "the port never answered"
        try:
            return await http.get("/healthz", timeout=1)
        except httpx.TransportError:  # not listening yet
            await asyncio.sleep(0.01)


async def test_the_port_answers_while_the_start_runs(tmp_path: Path) -> None:
    store = tmp_path / "vigil.duckdb"
    await store_with_many_series(store)
    port = free_port()
    process = vigil_serve(store, port)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            alive = await first_answer(http, process)
            # Before the start is over: alive, not ready, and refusing with a reason.
            assert (alive.status_code, alive.json()) == (200, {"status": "starting"})
            ready = await http.get("/readyz")
            assert (ready.status_code, ready.json()["status"]) == (503, "starting")
            auth = {"Authorization": f"Bearer {token(demo='viewer')}"}
            refused = await http.post("/graphql", json=QUERY, headers=auth)
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            error = refused.json()["errors"][0]
            assert error["extensions"]["code"] == "UNAVAILABLE"
            assert error["message"] == "Vigil is starting: try again in a moment"
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/graphql",
                subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
            ) as socket:
                with pytest.raises(websockets.ConnectionClosed):
                    await socket.recv()
            assert socket.close_code == 1013
            # Each answer above came during the start, not after it.
            assert (await http.get("/healthz")).json() == {"status": "starting"}

            # Then the start ends, and Vigil serves.
            deadline = time.monotonic() + START_WITHIN_SECONDS
            while (await http.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, "never ready"
                await asyncio.sleep(0.05)
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            served = await http.post("/graphql", json=QUERY, headers=auth)
            assert served.status_code == 200 and "errors" not in served.json(), served.text
    finally:
        process.terminate()
        process.wait(30)
