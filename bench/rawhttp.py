"""A minimal HTTP/1.1 client for the load generators."""

from __future__ import annotations

import asyncio

import httpx

__all__ = ["RawHTTP", "post_all"]


class RawHTTP:
    """A minimal HTTP/1.1 client on asyncio streams: keep-alive connections, one request
    at a time on each, `Content-Length` bodies only (every answer here is one).

    httpx spends about a millisecond of CPU per request in this process; this costs tens
    of microseconds, so the load generator stays far from being the bottleneck.
    """

    _Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]

    def __init__(self, url: str, headers: dict[str, str], connections: int) -> None:
        split = httpx.URL(url)
        self.host, self.port = split.host, split.port or 80
        fields = {"host": f"{self.host}:{self.port}", "content-type": "application/json"}
        fields |= headers
        self._head = (
            f"POST {split.raw_path.decode()} HTTP/1.1\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        ).encode()
        # None: a connection to open on first use (or again, after an error).
        self._idle: asyncio.Queue[RawHTTP._Conn | None] = asyncio.Queue()
        for _ in range(connections):
            self._idle.put_nowait(None)
        self._open: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        """Open every connection now, so that no connect is timed."""
        conns = [await self._idle.get() for _ in range(self._idle.qsize())]
        for conn in conns:
            self._idle.put_nowait(conn or await self._connect())

    async def _connect(self) -> RawHTTP._Conn:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self._open.add(writer)
        return reader, writer

    async def post(self, body: bytes) -> tuple[int, bytes]:
        """POST `body`; the status and the response body."""
        conn = await self._idle.get()
        try:
            reader, writer = conn or await self._connect()
            conn = reader, writer
            writer.write(self._head + b"content-length: %d\r\n\r\n" % len(body))
            writer.write(body)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            answer = await reader.readexactly(length) if length else b""
            return int(head[9:12]), answer
        except BaseException:
            if conn is not None:
                conn[1].close()
                self._open.discard(conn[1])
            conn = None
            raise
        finally:
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        for writer in self._open:
            writer.close()
        self._open.clear()


async def post_all(
    url: str, bodies: list[bytes], headers: dict[str, str], connections: int
) -> list[str]:
    """POST every body, in order, over `connections` keep-alive connections; the refusals
    (a status other than 200 or 204, or a GraphQL `errors` in the answer)."""
    queue = list(reversed(bodies))
    client = RawHTTP(url, headers, connections)
    await client.open()
    refused: list[str] = []

    async def worker() -> None:
        while queue:
            status, content = await client.post(queue.pop())
            if status not in (200, 204) or b'"errors"' in content:
                refused.append(f"{status} {content[:200]!r}")

    try:
        await asyncio.gather(*(worker() for _ in range(connections)))
    finally:
        await client.close()
    return refused
