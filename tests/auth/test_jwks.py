"""JWKSTokens against a real JWKS server on 127.0.0.1: keys, rotation, confusion, outages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from domain.access import Role
from domain.errors import Unauthenticated, Unavailable
from infra.auth import JWKSTokens
from infra.auth.jwks import parse_key_set
from tests.auth.conftest import JWKSServer
from tests.auth.forge import forge, forge_hs256

ISSUER = "https://idp.example.test/"
AUDIENCE = "vigil"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "ana@example.test",
        "iat": now,
        "exp": now + 300,
        "projects": {"demo": "editor", "system": "viewer"},
    }
    values.update(overrides)
    return values


def sign(key: RSAKey | ECKey, values: dict[str, Any] | None = None, **header: Any) -> str:
    alg = "RS256" if isinstance(key, RSAKey) else "ES256"
    head = {"alg": alg, "kid": key.kid, **header}
    return jwt.encode(head, values or claims(), key, algorithms=[head["alg"]])


@pytest.fixture
async def verifier(jwks_server: JWKSServer) -> AsyncIterator[JWKSTokens]:
    async with JWKSTokens(jwks_server.url, issuer=ISSUER, audience=AUDIENCE) as tokens:
        yield tokens


async def rejection(verifier: JWKSTokens, token: str) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(token)
    return caught.value


@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key"])
async def test_tokens_signed_by_published_keys_verify(
    verifier: JWKSTokens, key_name: str, request: pytest.FixtureRequest
) -> None:
    principal = await verifier.verify(sign(request.getfixturevalue(key_name)))

    assert principal.subject == "ana@example.test"
    assert dict(principal.roles) == {"demo": Role.EDITOR, "system": Role.VIEWER}


async def test_keys_are_fetched_once_and_cached(
    verifier: JWKSTokens, jwks_server: JWKSServer, rsa_key: RSAKey, ec_key: ECKey
) -> None:
    await asyncio.gather(*(verifier.verify(sign(rsa_key)) for _ in range(10)))
    await verifier.verify(sign(ec_key))
    assert jwks_server.requests == 1


async def test_key_not_in_the_set_is_rejected(verifier: JWKSTokens) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "stranger"})
    error = await rejection(verifier, sign(stranger))
    assert (error.message, error.details["reason"]) == (
        "token signing key is not known",
        "unknown_key",
    )


async def test_unpublished_key_reusing_a_published_kid_is_rejected(verifier: JWKSTokens) -> None:
    impostor = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    assert (await rejection(verifier, sign(impostor))).details["reason"] == "bad_signature"


async def test_unknown_kids_refetch_at_most_once_per_cooldown(
    verifier: JWKSTokens, jwks_server: JWKSServer, rsa_key: RSAKey
) -> None:
    await verifier.verify(sign(rsa_key))
    forged = [sign(RSAKey.generate_key(2048, parameters={"kid": f"x{i}"})) for i in range(3)]
    for token in forged * 3:
        await rejection(verifier, token)
    assert jwks_server.requests == 1


async def test_rotated_key_is_picked_up_and_retired_key_dropped(
    jwks_server: JWKSServer, rsa_key: RSAKey, rotated_rsa_key: RSAKey
) -> None:
    async with JWKSTokens(
        jwks_server.url, issuer=ISSUER, audience=AUDIENCE, cooldown_seconds=0.2
    ) as verifier:
        await verifier.verify(sign(rsa_key))
        jwks_server.publish(rotated_rsa_key)

        # Within the cooldown the new kid is not fetched yet...
        await rejection(verifier, sign(rotated_rsa_key))
        assert jwks_server.requests == 1

        # ...after it, the unknown kid triggers one refetch that finds the new key.
        await asyncio.sleep(0.25)
        principal = await verifier.verify(sign(rotated_rsa_key))
        assert principal.subject == "ana@example.test"
        assert jwks_server.requests == 2

        # The retired key disappeared with the refetch.
        await asyncio.sleep(0.25)
        assert (await rejection(verifier, sign(rsa_key))).details["reason"] == "unknown_key"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "https://evil.example.test/"}, "wrong_issuer"),
        ({"iss": ISSUER.rstrip("/")}, "wrong_issuer"),
        ({"aud": "another-api"}, "wrong_audience"),
        ({"aud": ["another-api", "grafana"]}, "wrong_audience"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"projects": {"demo": "owner"}}, "unknown_role"),
    ],
)
async def test_claims_are_checked_strictly(
    verifier: JWKSTokens, rsa_key: RSAKey, overrides: dict[str, Any], reason: str
) -> None:
    error = await rejection(verifier, sign(rsa_key, claims(**overrides)))
    assert error.details["reason"] == reason


async def test_hs256_signed_with_the_rsa_public_key_is_rejected(
    verifier: JWKSTokens, rsa_key: RSAKey
) -> None:
    pem = rsa_key.as_pem(private=False)
    modulus = str(rsa_key.as_dict(private=False)["n"])
    for secret in (pem, pem.strip(), modulus.encode()):
        token = forge_hs256({"alg": "HS256", "kid": "rsa-1"}, claims(), secret)
        assert (await rejection(verifier, token)).details["reason"] == "bad_algorithm"


@pytest.mark.parametrize("alg", ["none", "None"])
async def test_alg_none_is_rejected(verifier: JWKSTokens, alg: str) -> None:
    error = await rejection(verifier, forge({"alg": alg, "kid": "rsa-1"}, claims()))
    assert error.details["reason"] == "bad_algorithm"


async def test_algorithm_must_match_the_key_type(verifier: JWKSTokens, rsa_key: RSAKey) -> None:
    token = sign(rsa_key)
    header = forge({"alg": "ES256", "kid": "rsa-1"}, {}).split(".")[0]
    confused = ".".join([header, *token.split(".")[1:]])
    assert (await rejection(verifier, confused)).details["reason"] == "bad_algorithm"


async def test_unreachable_jwks_is_unavailable_not_unauthenticated(rsa_key: RSAKey) -> None:
    server = JWKSServer()
    await server.start()
    await server.stop()  # the port is now closed
    async with JWKSTokens(server.url, issuer=ISSUER, audience=AUDIENCE) as verifier:
        with pytest.raises(Unavailable):
            await verifier.verify(sign(rsa_key))


async def test_slow_jwks_times_out(jwks_server: JWKSServer, rsa_key: RSAKey) -> None:
    jwks_server.stall = True
    async with JWKSTokens(
        jwks_server.url, issuer=ISSUER, audience=AUDIENCE, timeout_seconds=0.3
    ) as verifier:
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await verifier.verify(sign(rsa_key))
        assert time.monotonic() - started < 2


async def test_slowly_dripping_jwks_times_out_as_a_whole(
    jwks_server: JWKSServer, rsa_key: RSAKey
) -> None:
    jwks_server.drip = True
    async with JWKSTokens(
        jwks_server.url, issuer=ISSUER, audience=AUDIENCE, timeout_seconds=0.5
    ) as verifier:
        started = time.monotonic()
        with pytest.raises(Unavailable):
            await verifier.verify(sign(rsa_key))
        assert time.monotonic() - started < 2


async def test_concurrent_cold_start_fetches_once_even_without_cooldown(
    jwks_server: JWKSServer, rsa_key: RSAKey
) -> None:
    async with JWKSTokens(
        jwks_server.url, issuer=ISSUER, audience=AUDIENCE, cooldown_seconds=0
    ) as verifier:
        await asyncio.gather(*(verifier.verify(sign(rsa_key)) for _ in range(10)))
    assert jwks_server.requests == 1


async def test_failed_refresh_keeps_the_known_keys(
    jwks_server: JWKSServer, rsa_key: RSAKey
) -> None:
    async with JWKSTokens(
        jwks_server.url, issuer=ISSUER, audience=AUDIENCE, cache_seconds=0, cooldown_seconds=0
    ) as verifier:
        await verifier.verify(sign(rsa_key))
        jwks_server.status = 500
        assert (await verifier.verify(sign(rsa_key))).subject == "ana@example.test"
        assert jwks_server.requests == 2
        with pytest.raises(Unavailable):
            await verifier.refresh()


async def test_error_status_is_unavailable(jwks_server: JWKSServer, rsa_key: RSAKey) -> None:
    jwks_server.status = 404
    async with JWKSTokens(jwks_server.url, issuer=ISSUER, audience=AUDIENCE) as verifier:
        with pytest.raises(Unavailable):
            await verifier.verify(sign(rsa_key))


def test_parse_key_set_skips_keys_unfit_for_signatures(rsa_key: RSAKey, ec_key: ECKey) -> None:
    encryption = {**rsa_key.as_dict(private=False), "use": "enc", "kid": "enc-1"}
    wrong_alg = {**ec_key.as_dict(private=False), "alg": "ES384", "kid": "ec-384"}
    secret = {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA", "kid": "hs"}
    good = rsa_key.as_dict(private=False)
    document = {"keys": [encryption, wrong_alg, secret, "junk", good]}

    keys = parse_key_set(document, algorithms={"RS256", "ES256"})

    assert [key.kid for key in keys] == ["rsa-1"]
    with pytest.raises(ValueError, match="no usable"):
        parse_key_set({"keys": [encryption, secret]}, algorithms={"RS256"})


@pytest.mark.parametrize("algorithms", [("HS256",), ("RS256", "none"), ()])
def test_symmetric_or_no_algorithms_are_refused(algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="accept only"):
        JWKSTokens(
            "https://idp.example.test/jwks", issuer=ISSUER, audience=AUDIENCE, algorithms=algorithms
        )
