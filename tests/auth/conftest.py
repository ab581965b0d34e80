"""Fixtures for the auth tests: signing keys and a real JWKS server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from joserfc.jwk import ECKey, RSAKey


class JWKSServer:
    """A minimal HTTP/1.1 server whose JWKS document, status and speed a test can change."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.status = 200
        self.stall = False
        self.drip = False
        self.requests = 0
        self.url = ""
        self._server: asyncio.Server | None = None
        self._release = asyncio.Event()
        self._handlers: set[asyncio.Task[Any]] = set()

    def publish(self, *keys: RSAKey | ECKey) -> None:
        self.document = {"keys": [key.as_dict(private=False) for key in keys]}

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}/.well-known/jwks.json"

    async def stop(self) -> None:
        self._release.set()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # the request line and headers: every path serves the document
            self.requests += 1
            if self.stall:
                await self._release.wait()
            body = json.dumps(self.document).encode()
            head = (
                f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            with contextlib.suppress(ConnectionError):
                if self.drip:  # one byte at a time: every read is quick, the whole is slow
                    writer.write(head.encode())
                    for byte in body:
                        if writer.is_closing() or self._release.is_set():
                            break
                        writer.write(bytes([byte]))
                        await writer.drain()
                        await asyncio.sleep(0.05)
                else:
                    writer.write(head.encode() + body)
                    await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self._handlers.discard(task)


@pytest.fixture(scope="session")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})


@pytest.fixture(scope="session")
def rotated_rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})


@pytest.fixture(scope="session")
def ec_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "ec-1"})


@pytest.fixture
async def jwks_server(rsa_key: RSAKey, ec_key: ECKey) -> AsyncIterator[JWKSServer]:
    server = JWKSServer()
    server.publish(rsa_key, ec_key)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
