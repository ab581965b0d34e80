"""TokenCache: a token verified once is not checked again until it expires, and nothing it
remembers outlives what the verifier would accept (expiry, a withdrawn JWKS key)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from domain.access import Principal
from domain.errors import Unauthenticated
from infra.auth import JWKSTokens, LocalTokens, TokenCache
from tests.auth.conftest import JWKSServer

SECRET = bytes(range(32))
ISSUER = "https://idp.example.test/"


class Counting:
    """A real verifier, counting the tokens it is asked to check."""

    def __init__(self, verifier: LocalTokens | JWKSTokens) -> None:
        self.inner = verifier
        self.calls = 0

    def key_epoch(self) -> int | None:
        if isinstance(self.inner, JWKSTokens):
            return self.inner.key_epoch()
        return 0

    async def verify(self, token: str) -> Principal:
        self.calls += 1
        return await self.inner.verify(token)


class Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


async def test_a_token_is_checked_once_while_it_lasts() -> None:
    clock = Clock()
    tokens = LocalTokens(SECRET, clock=clock)
    counting = Counting(tokens)
    cache = TokenCache(counting, max_entries=10, clock=clock)
    token = tokens.issue(subject="ana", projects={"demo": "admin"}, ttl_seconds=60)

    first = await cache.verify(token)
    again = [await cache.verify(token) for _ in range(5)]

    assert counting.calls == 1 and all(p == first for p in again)
    assert first.subject == "ana"


async def test_a_cached_token_is_refused_once_it_expires() -> None:
    clock = Clock()
    tokens = LocalTokens(SECRET, clock=clock)
    counting = Counting(tokens)
    cache = TokenCache(counting, max_entries=10, clock=clock)
    token = tokens.issue(subject="ana", projects={"demo": "admin"}, ttl_seconds=60)
    await cache.verify(token)

    clock.now += 59.9  # the last second of its life: still the cached answer
    await cache.verify(token)
    assert counting.calls == 1

    clock.now += 0.1  # exp itself: the verifier is asked, and refuses
    with pytest.raises(Unauthenticated) as caught:
        await cache.verify(token)
    assert caught.value.details["reason"] == "expired"
    assert counting.calls == 2 and len(cache) == 0


async def test_the_leeway_is_the_verifiers() -> None:
    clock = Clock()
    tokens = LocalTokens(SECRET, clock=clock, leeway_seconds=30)
    cache = TokenCache(tokens, max_entries=10, leeway_seconds=30, clock=clock)
    token = tokens.issue(subject="ana", projects={}, ttl_seconds=60)
    await cache.verify(token)
    clock.now += 89  # past exp, within the leeway: accepted by both
    assert (await cache.verify(token)).subject == "ana"
    clock.now += 1
    with pytest.raises(Unauthenticated):
        await cache.verify(token)


async def test_refused_tokens_are_not_kept_and_each_is_checked() -> None:
    tokens = LocalTokens(SECRET)
    counting = Counting(tokens)
    cache = TokenCache(counting, max_entries=10)
    good = tokens.issue(subject="ana", projects={}, ttl_seconds=60)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await cache.verify(forged)
    assert counting.calls == 3 and len(cache) == 0


async def test_the_oldest_entry_goes_when_full() -> None:
    tokens = LocalTokens(SECRET)
    counting = Counting(tokens)
    cache = TokenCache(counting, max_entries=2)
    a, b, c = (tokens.issue(subject=s, projects={}, ttl_seconds=60) for s in "abc")
    for token in (a, b, c):
        await cache.verify(token)
    assert len(cache) == 2
    await cache.verify(c)
    await cache.verify(b)
    assert counting.calls == 3
    await cache.verify(a)  # evicted: checked again
    assert counting.calls == 4


def _sign(key: RSAKey, **overrides: Any) -> str:
    now = int(time.time())
    values = {
        "iss": ISSUER,
        "aud": "vigil",
        "sub": "ana@example.test",
        "iat": now,
        "exp": now + 300,
        "projects": {"demo": "viewer"},
        **overrides,
    }
    return jwt.encode({"alg": "RS256", "kid": key.kid}, values, key, algorithms=["RS256"])


async def test_a_withdrawn_jwks_key_stops_its_cached_tokens(
    jwks_server: JWKSServer, rsa_key: RSAKey, rotated_rsa_key: RSAKey
) -> None:
    async with JWKSTokens(
        jwks_server.url, issuer=ISSUER, audience="vigil", cooldown_seconds=0.1
    ) as jwks:
        counting = Counting(jwks)
        cache = TokenCache(counting, max_entries=10, leeway_seconds=jwks.leeway_seconds)
        old = _sign(rsa_key)
        await cache.verify(old)
        await cache.verify(old)
        assert counting.calls == 1

        # The provider withdraws rsa-1; a token with the new kid makes Vigil refetch.
        jwks_server.publish(rotated_rsa_key)
        await asyncio.sleep(0.15)
        assert (await cache.verify(_sign(rotated_rsa_key))).subject == "ana@example.test"
        assert jwks_server.requests == 2

        with pytest.raises(Unauthenticated) as caught:
            await cache.verify(old)  # cached under the old key set: checked again
        assert caught.value.details["reason"] == "unknown_key"


async def test_jwks_keys_due_for_refresh_are_checked_again(
    jwks_server: JWKSServer, rsa_key: RSAKey
) -> None:
    async with JWKSTokens(
        jwks_server.url, issuer=ISSUER, audience="vigil", cache_seconds=0.1, cooldown_seconds=0
    ) as jwks:
        counting = Counting(jwks)
        cache = TokenCache(counting, max_entries=10, leeway_seconds=jwks.leeway_seconds)
        token = _sign(rsa_key)
        await cache.verify(token)
        await cache.verify(token)
        assert counting.calls == 1
        await asyncio.sleep(0.15)  # the key set is stale: the verifier refetches it
        await cache.verify(token)
        assert counting.calls == 2 and jwks_server.requests == 2
        await cache.verify(token)  # kept again, under the new key set
        assert counting.calls == 2
