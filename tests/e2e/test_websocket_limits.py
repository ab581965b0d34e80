"""The websocket message limit through `vigil serve` itself: VIGIL_WS_MAX_MESSAGE_BYTES
reaches the server (uvicorn's ws_max_size, infra/serving.py), the one layer that enforces
it (docs/configuration.md)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.test_metrics_live import _padded
from tests.e2e.conftest import VigilProcess
from tests.support import token, ws_client

pytestmark = pytest.mark.e2e


async def test_the_configured_limit_closes_an_oversized_message_with_1009(
    vigil_process: Callable[..., VigilProcess],
) -> None:
    vigil = vigil_process(VIGIL_WS_MAX_MESSAGE_BYTES="1024")
    async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
        await client.connection.send(_padded("at", 1024))
        assert (await client.next_for("at"))["type"] == "next"
        assert (await client.next_for("at"))["type"] == "complete"
        await client.connection.send(_padded("over", 1025))
        assert await client.close_code() == 1009
        assert "1024 bytes" in (client.connection.close_reason or "")
