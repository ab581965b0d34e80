"""Who may open a websocket: the page's Origin (checked before the handshake is accepted, so
another site's page in a user's browser cannot drive Vigil with that user's token), and how
many sockets one token subject and one client address may hold open in this process."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["OriginPolicy", "SocketCounts", "normalise_origin"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def normalise_origin(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) origin such as `https://app.example.com:8443`, or
    None if `origin` is not one (a path, a query, another scheme, `null`)."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    return parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


def _host_header(host: str) -> tuple[str, int | None] | None:
    """The name and the port (None: not given) of a Host header."""
    try:
        parts = urlsplit(f"//{host.strip().lower()}")
        return (parts.hostname, parts.port) if parts.hostname else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    """Which browser origins may open a websocket.

    Allowed: no Origin header (non-browser clients send none, and a browser always sends
    one), the server's own origin (the Origin's host, and its port when the Host header names
    one, equal the Host header's: Vigil's own pages), every origin of `allowed` (`*` allows
    any), and with `local_any_port` (development mode) http(s) pages on localhost, 127.0.0.1
    or [::1] on any port.
    """

    allowed: frozenset[tuple[str, str, int]] = frozenset()
    any_origin: bool = False
    local_any_port: bool = False

    @classmethod
    def parse(cls, allowed: Iterable[str], *, local_any_port: bool) -> OriginPolicy:
        """From `VIGIL_ALLOWED_ORIGINS`' items; raises ValueError naming one that is not an
        origin."""
        origins: set[tuple[str, str, int]] = set()
        any_origin = False
        for item in (a.strip() for a in allowed):
            if item == "*":
                any_origin = True
            elif item:
                origin = normalise_origin(item)
                if origin is None:
                    raise ValueError(item)
                origins.add(origin)
        return cls(frozenset(origins), any_origin, local_any_port)

    def allows(self, origin: str | None, host: str | None) -> bool:
        if origin is None:
            return True
        if self.any_origin:
            return True
        parsed = normalise_origin(origin)
        if parsed is None:  # "null" (a sandboxed frame, a file: page) or garbage
            return False
        if parsed in self.allowed:
            return True
        _, name, port = parsed
        if self.local_any_port and name in _LOCAL_HOSTS:
            return True
        own = _host_header(host) if host else None
        if own is None:
            return False
        own_name, own_port = own
        return own_name == name and (own_port is None or own_port == port)


@dataclass(slots=True)
class SocketCounts:
    """Open websockets per token subject and per client address, in this process.

    `admit_*` counts a socket in and returns None, or returns why it is refused (the
    close reason) and counts nothing; every admitted socket is `release_*`d once it closes.
    """

    per_subject: int
    per_client: int
    subjects: Counter[str] = field(default_factory=Counter)
    clients: Counter[str] = field(default_factory=Counter)

    def admit_client(self, client: str) -> str | None:
        if self.clients[client] >= self.per_client:
            return f"too many websockets from {client}: at most {self.per_client} per address"
        self.clients[client] += 1
        return None

    def release_client(self, client: str) -> None:
        _release(self.clients, client)

    def admit_subject(self, subject: str) -> str | None:
        if self.subjects[subject] >= self.per_subject:
            return (
                f"too many websockets for {subject[:40]}: at most {self.per_subject} per user; "
                "close one first"
            )
        self.subjects[subject] += 1
        return None

    def release_subject(self, subject: str) -> None:
        _release(self.subjects, subject)


def _release(counts: Counter[str], key: str) -> None:
    counts[key] -= 1
    if counts[key] <= 0:
        del counts[key]
