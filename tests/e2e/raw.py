"""Raw loopback sockets for tests that must see bytes as they arrive: a minimal
`graphql-transport-ws` client and an HTTP/1.1 request, both on plain blocking sockets, so a
test can `select` on several of them and tell which one received data first."""

from __future__ import annotations

import base64
import os
import select
import socket
import struct
from typing import Any

import orjson

__all__ = ["RawHttp", "RawRedisSubscriber", "RawWebSocket", "readable"]


def readable(*sockets: socket.socket, timeout: float) -> list[socket.socket]:
    """The sockets among `sockets` that have bytes to read, waiting up to `timeout` s."""
    ready, _, _ = select.select(list(sockets), [], [], timeout)
    return ready


def _connect(url: str) -> tuple[socket.socket, str]:
    host_port = url.split("://", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10), host_port


class RawWebSocket:
    """A websocket client on a blocking socket that reads only when told to."""

    def __init__(self, url: str, *, protocol: str = "graphql-transport-ws", rcvbuf: int = 0):
        host_port = url.split("://", 1)[1].split("/", 1)[0]
        host, port = host_port.rsplit(":", 1)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connect: the window the server may fill
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
            ).encode()
        )
        self._buffer = b""
        head = self._read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self._buffer += chunk
        head, self._buffer = self._buffer.split(marker, 1)
        return head

    def _read_exactly(self, n: int) -> bytes:
        while len(self._buffer) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def send_text(self, text: str | bytes, *, opcode: int = 0x1) -> None:
        data = text.encode() if isinstance(text, str) else text
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def send(self, message: dict[str, Any]) -> None:
        self.send_text(orjson.dumps(message))

    def frame(self) -> tuple[int, bytes]:
        """The next frame: (opcode, payload)."""
        first, second = self._read_exactly(2)
        n = second & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._read_exactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._read_exactly(8))
        return first & 0x0F, self._read_exactly(n)

    def receive(self) -> dict[str, Any]:
        """The next text message (answering pings); AssertionError on a close."""
        while True:
            opcode, payload = self.frame()
            if opcode == 0x8:
                raise AssertionError(f"closed: {payload!r}")
            if opcode == 0x9:
                self.send_text(payload, opcode=0xA)
                continue
            message: dict[str, Any] = orjson.loads(payload)
            return message

    def close_code(self) -> tuple[int, str]:
        """Read until the close frame; its code and reason."""
        while True:
            opcode, payload = self.frame()
            if opcode == 0x8:
                (code,) = struct.unpack("!H", payload[:2])
                return code, payload[2:].decode()

    def close(self) -> None:
        self.sock.close()


class RawHttp:
    """One HTTP/1.1 POST on a blocking socket: sent now, its answer read when told to."""

    def __init__(self, url: str) -> None:
        self.sock, self.host_port = _connect(url)

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        data = orjson.dumps(body)
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host_port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}", "", ""]
        self.sock.sendall("\r\n".join(lines).encode() + data)

    def answer(self) -> tuple[int, dict[str, Any]]:
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            buffer += chunk
        head, body = buffer.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            body += chunk
        answer: dict[str, Any] = orjson.loads(body[:length])
        return status, answer

    def close(self) -> None:
        self.sock.close()


class RawRedisSubscriber:
    """A Redis pub/sub connection on a blocking socket (RESP by hand), read only when told."""

    def __init__(self, url: str, channel: str) -> None:
        self.sock, _ = _connect(url)
        self._buffer = b""
        name = channel.encode()
        self.sock.sendall(b"*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n" % (len(name), name))
        kind, subscribed, _count = self._reply()
        assert (kind, subscribed) == (b"subscribe", name)  # Redis serves the channel now

    def _line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line

    def _reply(self) -> list[bytes]:
        head = self._line()
        assert head.startswith(b"*"), head
        items = []
        for _ in range(int(head[1:])):
            kind = self._line()
            if kind.startswith(b":"):
                items.append(kind[1:])
                continue
            size = int(kind[1:])
            while len(self._buffer) < size + 2:
                chunk = self.sock.recv(65536)
                assert chunk, "connection closed"
                self._buffer += chunk
            items.append(self._buffer[:size])
            self._buffer = self._buffer[size + 2 :]
        return items

    def message(self) -> dict[str, Any]:
        """The next bus message's JSON, without its signature (infra/bus/codec.py: 64 hex
        characters of HMAC before the text)."""
        kind, _channel, data = self._reply()
        assert kind == b"message", kind
        found: dict[str, Any] = orjson.loads(data[64:])
        return found

    def arrived(self) -> list[dict[str, Any]]:
        """The messages whose bytes have arrived by now, without waiting for more."""
        while readable(self.sock, timeout=0):
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed"
            self._buffer += chunk
        complete, self._buffer = _complete_replies(self._buffer)
        kept, self._buffer = self._buffer, complete
        messages = []
        while self._buffer:
            messages.append(self.message())
        self._buffer = kept
        return messages

    def has_data(self) -> bool:
        return bool(self._buffer) or bool(readable(self.sock, timeout=0))

    def close(self) -> None:
        self.sock.close()


def _complete_replies(buffer: bytes) -> tuple[bytes, bytes]:
    """Split `buffer` into its whole RESP arrays of bulk strings and what follows them."""
    at = 0
    while True:
        start, end = at, buffer.find(b"\r\n", at)
        if end < 0 or buffer[at : at + 1] != b"*":
            return buffer[:start], buffer[start:]
        at = end + 2
        for _ in range(int(buffer[start + 1 : end])):
            end = buffer.find(b"\r\n", at)
            if end < 0:
                return buffer[:start], buffer[start:]
            if buffer[at : at + 1] == b":":
                at = end + 2
                continue
            at = end + 2 + int(buffer[at + 1 : end]) + 2
            if at > len(buffer):
                return buffer[:start], buffer[start:]
