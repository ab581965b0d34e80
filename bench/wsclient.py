"""The fan-out benchmark's client process: `python -m bench.wsclient --url ... --sockets N`.

It opens N `graphql-transport-ws` subscriptions, then obeys commands on stdin (`record`,
`count`, `stop`) and answers on stdout (`subscribed`, `live`, `recording`, `count N`,
`done {...}`, or `failed ...`). What it received goes to .npy files for bench/fanout.py.

A lean websocket client on an asyncio Protocol (RFC 6455: handshake, masked client
frames, ping -> pong, close). The `websockets` library spent 25-65 us of CPU per
message here; with four client processes on the same two cores that CPU was taken from
the server under test. This one parses frames straight from `data_received` and notes
the receipt time once per read, when the bytes reach the process.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import numpy as np
import orjson

from bench.common import PROJECT, raise_nofile

__all__ = ["SUBSCRIPTION", "main"]

SUBSCRIPTION = (
    "subscription { metricCollected(project: " + f'"{PROJECT}"' + ") { name value timestamp } }"
)


def _frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: FIN, masked (RFC 6455 requires clients to mask)."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    keystream = (mask * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(keystream, "big")).to_bytes(n, "big")
    return header + mask + masked


class _Socket(asyncio.Protocol):
    """One graphql-transport-ws subscriber."""

    def __init__(self, index: int, host: str, path: str, sink: _Sink) -> None:
        self.index = index
        self.sink = sink
        self.buffer = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.fragments: list[bytes] = []
        self.close_code: int | None = None
        loop = asyncio.get_running_loop()
        self.opened = loop.create_future()  # the handshake's 101 has arrived
        self.first = loop.create_future()  # the first message (connection_ack)
        key = base64.b64encode(os.urandom(16)).decode()
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        ).encode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.close_code is None:
            self.close_code = 1006
        self.sink.closed(self)
        for waiter in (self.opened, self.first):
            if not waiter.done():
                waiter.set_exception(ConnectionError(f"socket {self.index} lost: {exc!r}"))

    def send_text(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(_frame(0x1, text.encode()))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_frame(0x8, (1000).to_bytes(2, "big")))
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        t = time.time()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[:end]).split(b"\r\n", 1)[0]
            if b" 101 " not in status + b" ":
                self.opened.set_exception(ConnectionError(f"handshake refused: {status!r}"))
                assert self.transport is not None
                self.transport.close()
                return
            del buffer[: end + 4]
            self.upgraded = True
            self.opened.set_result(None)
        pos, size = 0, len(buffer)
        while size - pos >= 2:
            b0, b1 = buffer[pos], buffer[pos + 1]
            length, offset = b1 & 0x7F, pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length, offset = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, offset = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), pos + 10
            if size - offset < length:
                break
            payload = bytes(buffer[offset : offset + length])
            pos = offset + length
            self._frame(b0 & 0x80, b0 & 0x0F, payload, t)
        if pos:
            del buffer[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes, t: float) -> None:
        if opcode in (0x1, 0x2, 0x0):  # text, binary, continuation
            self.fragments.append(payload)
            if fin:
                message = b"".join(self.fragments)
                self.fragments.clear()
                if not self.first.done():
                    self.first.set_result(message)
                else:
                    self.sink.message(self, message, t)
        elif opcode == 0x9:  # ping
            assert self.transport is not None
            self.transport.write(_frame(0xA, payload))
        elif opcode == 0x8:  # close
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.close()


class _Sink:
    """Everything one client process received."""

    def __init__(self, sockets: int, say: Callable[[str], None]) -> None:
        self.sockets = sockets
        self.say = say
        self.live = [False] * sockets
        self.live_count = 0
        self.recording = False
        self.messages = 0
        self.rows_sock: list[int] = []
        self.rows_val: list[float] = []
        self.rows_t: list[float] = []
        self.closes: dict[str, int] = {}
        self.errors: list[str] = []

    def message(self, sock: _Socket, raw: bytes, t: float) -> None:
        message = orjson.loads(raw)
        if message.get("type") != "next":
            self.errors.append(str(message)[:300])
            return
        recording = self.recording
        if recording:
            self.messages += 1
        for point in message["payload"]["data"]["metricCollected"]:
            value = point["value"]
            if value < 0:
                if not self.live[sock.index]:
                    self.live[sock.index] = True
                    self.live_count += 1
                    if self.live_count == self.sockets:
                        self.say("live")
            elif recording:
                self.rows_sock.append(sock.index)
                self.rows_val.append(value)
                self.rows_t.append(t)

    def closed(self, sock: _Socket) -> None:
        key = str(sock.close_code)
        self.closes[key] = self.closes.get(key, 0) + 1


async def _client(url: str, auth: str, sockets: int, out: Path) -> None:
    raise_nofile()
    split = urlsplit(url)
    host, port, path = split.hostname or "127.0.0.1", split.port or 80, split.path or "/"
    loop = asyncio.get_running_loop()

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    sink = _Sink(sockets, say)
    gate = asyncio.Semaphore(50)
    init = orjson.dumps(
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {auth}"}}
    ).decode()
    subscribe = orjson.dumps(
        {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
    ).decode()

    async def one(i: int) -> _Socket:
        async with gate:
            _, sock = await loop.create_connection(
                lambda: _Socket(i, f"{host}:{port}", path, sink), host, port
            )
            await asyncio.wait_for(sock.opened, 60)
            sock.send_text(init)
            ack = orjson.loads(await asyncio.wait_for(sock.first, 60))
            if ack.get("type") != "connection_ack":
                raise ConnectionError(f"socket {i}: no connection_ack but {ack}")
            sock.send_text(subscribe)
            return sock

    try:
        socks = await asyncio.gather(*(one(i) for i in range(sockets)))
    except Exception as exc:
        say(f"failed: {exc!r}"[:500])
        return
    say("subscribed")

    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while True:
        command = (await stdin.readline()).decode().strip()
        if command == "record":
            sink.recording = True
            say("recording")
        elif command == "count":
            say(f"count {len(sink.rows_val)}")
        elif command in ("stop", ""):
            sink.recording = False
            break
    closed_before_stop = dict(sink.closes)  # a close from now on is ours, not a loss
    for sock in socks:
        sock.close()
    np.save(out.with_suffix(".sock.npy"), np.asarray(sink.rows_sock, dtype=np.int32))
    np.save(out.with_suffix(".val.npy"), np.asarray(sink.rows_val, dtype=np.float64))
    np.save(out.with_suffix(".t.npy"), np.asarray(sink.rows_t, dtype=np.float64))
    summary = {
        "messages": sink.messages,
        "points": len(sink.rows_val),
        "closed_before_stop": closed_before_stop,
        "errors": sink.errors[:5],
        "error_count": len(sink.errors),
    }
    await asyncio.sleep(0.2)  # let the close frames go out
    say("done " + orjson.dumps(summary).decode())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.wsclient")
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--sockets", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.run(_client(args.url, args.token, args.sockets, args.out))
    except ImportError:
        asyncio.run(_client(args.url, args.token, args.sockets, args.out))


if __name__ == "__main__":
    main()
