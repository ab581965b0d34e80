"""Webhook DNS pinning (infra/notifications/http.py): each attempt resolves the target's
name once, checks every address, and connects to the checked address with the original
Host header and TLS server name, the certificate verified against the name.

The name resolves only through the guard's resolver, which the test controls and which
answers differently from one lookup to the next: a connection made after a second lookup
of its own (by the HTTP client, say) could not reach the receiver, or would reach the
other one. The receivers are real TLS servers on two loopback addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from domain.notifications import Channel, ChannelKind, Delivery
from domain.notifications.model import DeliveryReason, Message
from infra.notifications.guard import TargetGuard
from infra.notifications.http import HttpSender

NAME = "hooks.vigil.test"  # .test is reserved: no real resolver answers it


@dataclass
class Answers:
    """The test's resolver: the addresses for NAME, lookup after lookup."""

    plan: list[list[str]]
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int | None) -> list[str]:
        self.asked.append(host)
        assert host == NAME, host
        return self.plan[min(len(self.asked), len(self.plan)) - 1]


@dataclass
class Received:
    server_names: list[str | None] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for NAME only (no IP address) that it signed."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pinning test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@contextlib.asynccontextmanager
async def receivers(tmp_path: Path) -> AsyncIterator[tuple[int, dict[str, Received]]]:
    """TLS HTTP receivers on 127.0.0.1 and 127.0.0.2, one port, each recording the server
    name asked in the handshake and the request head; both answer 204."""
    _ca, cert, key = _certificates(tmp_path)
    received = {"127.0.0.1": Received(), "127.0.0.2": Received()}
    servers: list[asyncio.Server] = []
    port = 0
    for address, log in received.items():
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)

        def sni(_sock: object, name: str | None, _ctx: object, log: Received = log) -> None:
            log.server_names.append(name)

        context.sni_callback = sni  # type: ignore[assignment]

        async def serve(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: Received = log
        ) -> None:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            length = next(
                (
                    int(line.split(":")[1])
                    for line in head.split("\r\n")
                    if line.lower().startswith("content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
            log.heads.append(head)
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, address, port, ssl=context)
        port = server.sockets[0].getsockname()[1]
        servers.append(server)
    try:
        yield port, received
    finally:
        for server in servers:
            server.close()
            await server.wait_closed()


def trust(tmp_path: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=tmp_path / "ca.pem")


def webhook(port: int) -> tuple[Channel, Delivery]:
    channel = Channel(
        id="c1", project="demo", name="hook", kind=ChannelKind.WEBHOOK,
        url=f"https://{NAME}:{port}/hook", secret="s3cr3t",
    )  # fmt: skip
    delivery = Delivery(
        id="d1", project="demo", channel_id="c1", reason=DeliveryReason.TEST,
        message=Message(title="t", body="b", status="test"), created_us=0, next_attempt_us=0,
    )  # fmt: skip
    return channel, delivery


async def test_each_attempt_goes_to_the_address_its_own_lookup_checked(tmp_path: Path) -> None:
    async with receivers(tmp_path) as (port, received):
        answers = Answers([["127.0.0.1"], ["127.0.0.2"], ["10.0.0.7"]])
        guard = TargetGuard(allow_loopback=True, lookup=answers)
        sender = HttpSender(guard, timeout=5, verify=trust(tmp_path))
        channel, delivery = webhook(port)
        try:
            first = await sender.send(channel, delivery)
            second = await sender.send(channel, delivery)
            third = await sender.send(channel, delivery)  # the name now answers a private address
        finally:
            await sender.aclose()

    assert (first.status_code, second.status_code) == (204, 204), (first, second)
    assert answers.asked == [NAME] * 3  # one lookup per attempt, by the guard only
    for address in ("127.0.0.1", "127.0.0.2"):
        log = received[address]
        assert log.server_names == [NAME]  # the TLS server name is the URL's, not the address
        (head,) = log.heads
        assert head.startswith("POST /hook HTTP/1.1\r\n")
        assert f"\r\nHost: {NAME}:{port}\r\n" in head
    assert third.status_code is None and not third.retryable
    assert third.error is not None and "10.0.0.7" in third.error  # refused: nothing was sent


async def test_a_certificate_not_for_the_name_fails_the_attempt(tmp_path: Path) -> None:
    """Verification is against the name: the same receiver, reached under another name
    that resolves to it, is refused (the test's CA is trusted, the name does not match)."""
    async with receivers(tmp_path) as (port, received):

        async def other_name(host: str, port_: int | None) -> list[str]:
            return ["127.0.0.1"]

        guard = TargetGuard(allow_loopback=True, lookup=other_name)
        sender = HttpSender(guard, timeout=5, verify=trust(tmp_path))
        channel, delivery = webhook(port)
        channel = Channel(**{**channel.to_dict(), "url": f"https://other.vigil.test:{port}/hook"})
        try:
            result = await sender.send(channel, delivery)
        finally:
            await sender.aclose()
    assert result.status_code is None and result.error is not None, result
    assert received["127.0.0.1"].heads == []
