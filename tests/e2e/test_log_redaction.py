"""Issue 12, item 15: a token sent in a query string is refused, and `vigil serve`'s logs
(uvicorn's access and websocket lines) never carry it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

from tests.e2e.conftest import VigilProcess
from tests.support import token

pytestmark = pytest.mark.e2e


async def test_credentials_in_query_strings_are_redacted_in_the_logs(
    vigil_process: Callable[..., VigilProcess],
) -> None:
    vigil = vigil_process()
    secret = token(demo="admin")
    async with httpx.AsyncClient(timeout=10) as http:
        for parameter in ("token", "access_token", "api_key"):
            url = f"{vigil.url}/graphql?query=%7B__typename%7D&{parameter}={secret}&after=1"
            await http.get(url)
    try:
        async with connect(f"{vigil.ws_url}?token={secret}", subprotocols=["graphql-transport-ws"]):  # type: ignore[list-item]
            pass
    except (InvalidStatus, WebSocketException, OSError):
        pass  # refused or accepted: either way the handshake line is logged
    deadline = time.monotonic() + 5  # the log is a file the server flushes per line
    while (log := vigil.log.read_text()).count("<redacted>") < 4:
        assert time.monotonic() < deadline, log[-2000:]
        await asyncio.sleep(0.05)
    assert secret not in log
    assert "access_token=<redacted>&after=1" in log  # the rest of the line is kept
