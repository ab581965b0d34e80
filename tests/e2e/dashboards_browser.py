"""Headless Chromium driven over the Chrome DevTools Protocol (plain websockets), for the
dashboard viewer and GraphiQL tests. Debian's `chromium` package; no browser is downloaded."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import subprocess
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
import websockets

__all__ = ["CHROMIUM", "OFFLINE", "Page", "open_page", "open_viewer", "png_has_color"]

CHROMIUM = next(
    (
        p
        for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
        if p and Path(p).exists()
    ),
    None,
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)
# No network but the loopback: every other host fails to resolve, and no proxy is used.
OFFLINE = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--no-proxy-server")


# CDP's answers to an evaluation caught between two documents.
NAVIGATING = (
    "Inspected target navigated or closed",
    "Execution context was destroyed",
    "Cannot find context with specified id",
)


class Page:
    """One tab: evaluate JavaScript in it and wait for conditions."""

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self._connection = connection
        self._ids = itertools.count(1)
        self.errors: list[str] = []  # uncaught exceptions and console errors of the page
        self.requests: list[str] = []  # every URL the page asked for (Network domain)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        request = {"id": call_id, "method": method, "params": params}
        await self._connection.send(orjson.dumps(request).decode())  # CDP takes text frames
        while True:
            message = orjson.loads(await asyncio.wait_for(self._connection.recv(), 10))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            self._note(message)

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = await self.evaluate(expression)
            except RuntimeError as exc:
                # The page is navigating (a link was just clicked): its old context went
                # away before the new one answered. Not yet, rather than a failure.
                if not any(text in str(exc) for text in NAVIGATING):
                    raise
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                status = await self.evaluate("window.vigilViewer && window.vigilViewer.status")
                text = await self.evaluate("document.body.innerText")
                raise AssertionError(
                    f"timed out waiting for {expression}; status {status!r}; errors "
                    f"{self.errors}; page text: {str(text)[:800]}"
                )
            await asyncio.sleep(0.1)

    def _note(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.errors.append(str(params.get("exceptionDetails", {}).get("exception", {})))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(str(params.get("args")))
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Network.webSocketCreated":
            self.requests.append(params["url"])


@contextlib.asynccontextmanager
async def open_page(url: str, profile: Path, flags: tuple[str, ...] = ()) -> AsyncIterator[Page]:
    """Start Chromium with a fresh profile (and `flags`), open `url` in a tab, and stop it
    afterwards."""
    process, log = await asyncio.to_thread(_start, profile, flags)
    try:
        port = await _devtools_port(profile, process)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            tab = (await http.put("/json/new?about:blank")).json()
        async with websockets.connect(tab["webSocketDebuggerUrl"], max_size=2**24) as connection:
            page = Page(connection)
            await page.call("Runtime.enable")
            await page.call("Network.enable")
            await page.call("Page.navigate", url=url)  # with its #fragment, unlike /json/new
            yield page
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


@contextlib.asynccontextmanager
async def open_viewer(
    base_url: str, dashboard_id: str, auth: str, profile: Path
) -> AsyncIterator[Page]:
    """The dashboard viewer of `dashboard_id` (project demo) as `auth` sees it in a
    1400 x 900 window, once its live connection is up."""
    url = f"{base_url}/dashboards/{dashboard_id}?project=demo#token={auth}"
    async with open_page(url, profile) as page:
        metrics = {"height": 900, "deviceScaleFactor": 1, "mobile": False}
        await page.call("Emulation.setDeviceMetricsOverride", width=1400, **metrics)
        await page.wait_for("window.vigilViewer && window.vigilViewer.status === 'live'")
        yield page


def _start(profile: Path, flags: tuple[str, ...]) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    assert CHROMIUM is not None
    profile.mkdir(parents=True, exist_ok=True)
    log = (profile.parent / "chromium.log").open("wb")  # a file: a full pipe would block it
    command = [CHROMIUM, *FLAGS, *flags, f"--user-data-dir={profile}", "about:blank"]
    return subprocess.Popen(command, stdout=log, stderr=log), log


async def _devtools_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    """Chromium writes the port it chose into DevToolsActivePort in the profile."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        if marker.exists():
            first = marker.read_text().splitlines()[:1]
            if first and first[0].isdigit():
                return int(first[0])
        await asyncio.sleep(0.1)
    raise RuntimeError("chromium did not open its DevTools port")


def png_has_color(png: bytes, rgb: tuple[int, int, int]) -> bool:
    """Whether an 8-bit RGB or RGBA PNG (what Chromium's --screenshot writes) holds a pixel
    of exactly `rgb`; a small decoder, so that the test needs no imaging library."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks: dict[bytes, bytes] = {}
    offset = 8
    while offset < len(png):
        length = int.from_bytes(png[offset : offset + 4], "big")
        kind = png[offset + 4 : offset + 8]
        chunks[kind] = chunks.get(kind, b"") + png[offset + 8 : offset + 8 + length]
        offset += 12 + length
    width, height = int.from_bytes(chunks[b"IHDR"][:4]), int.from_bytes(chunks[b"IHDR"][4:8])
    depth, color = chunks[b"IHDR"][8], chunks[b"IHDR"][9]
    assert depth == 8 and color in (2, 6), f"unsupported PNG: depth {depth}, color type {color}"
    step = 3 if color == 2 else 4
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width * step
    previous = bytearray(stride)
    wanted = bytes(rgb)
    for row in range(height):
        kind, line = (
            raw[row * (stride + 1)],
            bytearray(raw[row * (stride + 1) + 1 : (row + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 0xFF
        if any(line[i : i + 3] == wanted for i in range(0, stride, step)):
            return True
        previous = line
    return False
