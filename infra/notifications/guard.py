"""SSRF guard: which addresses Vigil may send notifications to.

A target is checked when a channel is saved and again before every attempt, after its
name is resolved; the connection then goes to the address that was checked (no second
lookup an attacker's DNS could answer differently). Refused: anything that is not a
global unicast address (private, loopback, link-local and so cloud metadata at
169.254.169.254, carrier-grade NAT, multicast, reserved, unspecified), including IPv4
inside IPv6 (mapped, NAT64, 6to4, and the IPv4-compatible and local-use NAT64 ranges
outright). Integer and hex spellings of IPv4 (2130706433,
0x7f000001) resolve to the address they mean and are judged as it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from domain.errors import BadUserInput

__all__ = ["Address", "Lookup", "TargetGuard", "split_target", "system_lookup"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Never a global destination, though this Python's `is_global` says so: IPv4-compatible
# addresses (deprecated, RFC 4291: `::127.0.0.1`) and local-use NAT64 (RFC 8215).
_REFUSED_V6 = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "instance-data"})


def split_target(target: str) -> tuple[str, int]:
    """(host, port) of a URL (http/https only) or of a bare host name."""
    if "://" not in target:
        if not target or any(c in target for c in "/@ \r\n"):
            raise BadUserInput("a target host is a name or an address")
        return target, 0
    parts = urlsplit(target)
    if parts.scheme.lower() not in ("http", "https"):
        raise BadUserInput("only http:// and https:// targets are allowed")
    if parts.username is not None or parts.password is not None:
        raise BadUserInput("a target URL may not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise BadUserInput("the target URL's port is not valid") from None
    if not parts.hostname:
        raise BadUserInput("the target URL names no host")
    return parts.hostname, port


# A name resolver: (host, port or None) -> the addresses it answers, as text; raises
# socket.gaierror when the name does not resolve. The system's by default; a test may pass
# one it controls (a name that answers differently from one lookup to the next).
Lookup = Callable[[str, int | None], Awaitable[list[str]]]


async def system_lookup(host: str, port: int | None) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if address.sixtofour is not None:
            return address.sixtofour
    return address


class TargetGuard:
    """The TargetGuard port. `allow_loopback` (VIGIL_NOTIFY_ALLOW_LOOPBACK, development
    only) lets 127.0.0.0/8 and ::1 through so tests can use a local receiver."""

    def __init__(self, *, allow_loopback: bool = False, lookup: Lookup = system_lookup) -> None:
        self.allow_loopback = allow_loopback
        self._lookup = lookup

    def allowed(self, address: Address) -> bool:
        inner = _embedded(address)
        if self.allow_loopback and inner.is_loopback:
            return True
        if any(address in network for network in _REFUSED_V6):
            return False
        return inner.is_global and not inner.is_multicast and not address.is_multicast

    async def check(self, host_or_url: str) -> None:
        await self.resolve(host_or_url)

    async def resolve(self, host_or_url: str) -> list[Address]:
        """Every address the target's name resolves to, each allowed; else BadUserInput."""
        host, port = split_target(host_or_url)
        if host.lower().rstrip(".") in _METADATA_NAMES:
            raise BadUserInput("the target is a cloud metadata service")
        try:
            answers = await self._lookup(host, port or None)
        except (socket.gaierror, UnicodeError):
            raise BadUserInput(f"the target host {host!r} does not resolve") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(answer) for answer in answers))
        refused = [a for a in addresses if not self.allowed(a)]
        if refused or not addresses:
            raise BadUserInput(
                f"the target {host!r} resolves to an address Vigil may not reach "
                f"({refused[0] if refused else 'none'}): private, loopback, link-local and "
                "metadata addresses are refused"
            )
        return addresses
