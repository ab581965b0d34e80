"""TLS end to end: `vigil serve` with a certificate made here serves HTTPS and WSS only, and
its event bus speaks TLS to a redis-server started here with the same certificate."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.conftest import free_port
from tests.support import SECRET, token
from tests.tools import need_tool

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

ADMIN = token(demo="admin")


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigil test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    binary = need_tool("redis-server", install="apt-get install redis-server")
    cert, key = self_signed(tmp_path)
    port = free_port()
    process = subprocess.Popen(
        [
            *(binary, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"),
            *("--tls-cert-file", str(cert), "--tls-key-file", str(key)),
            *("--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no"),
            *("--save", "", "--appendonly", "no", "--dir", str(tmp_path)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port, cert, key
    finally:
        process.kill()
        process.wait(10)


@pytest.fixture
def vigil_tls(tmp_path: Path, tls_redis: tuple[int, Path, Path]) -> Iterator[tuple[str, Path]]:
    redis_port, cert, key = tls_redis
    port = free_port()
    env = {
        **os.environ,
        "VIGIL_STORE_URL": f"duckdb:///{tmp_path}/vigil.duckdb",
        "VIGIL_SECRET": SECRET,
        "VIGIL_SECRET_FILE": f"{tmp_path}/secret.key",
        "VIGIL_SELF_MONITOR_SECONDS": "0",
        "VIGIL_TLS_CERT_FILE": str(cert),
        "VIGIL_TLS_KEY_FILE": str(key),
        "VIGIL_BUS_URL": f"rediss://127.0.0.1:{redis_port}/0?ssl_ca_certs={cert}"
        "&ssl_cert_reqs=required",
    }
    log = tmp_path / "vigil.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
    url = f"https://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, log.read_text()[-2000:]
            try:
                if httpx.get(f"{url}/readyz", verify=trust, timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
        yield url, cert
    finally:
        process.terminate()
        process.wait(10)


async def test_https_and_wss_with_a_tls_event_bus(vigil_tls: tuple[str, Path]) -> None:
    url, cert = vigil_tls
    trust = ssl.create_default_context(cafile=str(cert))
    async with httpx.AsyncClient(base_url=url, verify=trust) as http:
        ready = (await http.get("/readyz")).json()
        assert ready["components"]["event_bus"]["status"] == "ok"  # Redis over TLS
        async with websockets.connect(
            url.replace("https", "wss") + "/graphql",
            subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
            ssl=trust,
        ) as ws:
            await ws.send(orjson.dumps({"type": "connection_init", "payload": {"token": ADMIN}}))
            assert orjson.loads(await ws.recv()) == {"type": "connection_ack"}
            query = 'subscription { metricCollected(project: "demo") { name value } }'
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": query}}
            await ws.send(orjson.dumps(subscribe))
            sent = await http.post(
                "/graphql",
                json={
                    "query": 'mutation { createMetrics(project: "demo", points: [{name: "cpu",'
                    " value: 0.5}]) { accepted } }"
                },
                headers={"Authorization": f"Bearer {ADMIN}"},
            )
            assert sent.json()["data"]["createMetrics"]["accepted"] == 1
            message = orjson.loads(await ws.recv())
            assert message["payload"]["data"]["metricCollected"] == [{"name": "cpu", "value": 0.5}]

    async with httpx.AsyncClient(timeout=2) as plain:
        with pytest.raises(httpx.HTTPError):  # no plain HTTP on the TLS port
            await plain.get(url.replace("https", "http") + "/healthz")
        with pytest.raises(httpx.ConnectError):  # and no certificate that is not trusted
            await plain.get(f"{url}/healthz")


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    cert, _ = self_signed(tmp_path)
    env = {**os.environ, "VIGIL_TLS_CERT_FILE": str(cert), "VIGIL_SECRET": SECRET}
    done = subprocess.run(
        [sys.executable, "-m", "infra.cli", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "VIGIL_TLS_CERT_FILE and VIGIL_TLS_KEY_FILE go together" in done.stderr
