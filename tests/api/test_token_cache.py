"""The token cache through /graphql: a token the server remembers as verified is still
refused once revoked (by its id or its subject), and an expired one once its exp passes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from infra.auth import TokenCache
from tests.api.compliance_support import NAMES, REVOKE, claims_of
from tests.support import RunningVigil, make_settings, serve, token

ALICE = token("alice", demo="admin")


def _cache(vigil: RunningVigil) -> TokenCache:
    cache = vigil.app.state.vigil.verifier
    assert isinstance(cache, TokenCache)
    return cache


async def test_a_cached_token_is_refused_once_revoked(vigil: RunningVigil) -> None:
    bob, carol = token("bob", demo="viewer"), token("carol", demo="viewer")
    for reader in (bob, carol):
        await vigil.ok(NAMES, {"p": "demo"}, auth=reader)
        await vigil.ok(NAMES, {"p": "demo"}, auth=reader)
    assert len(_cache(vigil)) == 2  # bob's and carol's, each verified once
    await vigil.ok(NAMES, {"p": "demo"}, auth=ALICE)

    by_id = {"p": "demo", "t": claims_of(bob)["jti"]}
    assert (await vigil.ok(REVOKE, by_id, auth=ALICE))["revokeAccess"]["kind"] == "TOKEN"
    await vigil.ok(REVOKE, {"p": "demo", "s": "carol"}, auth=ALICE)

    for revoked in (bob, carol):
        body = await vigil.gql(NAMES, {"p": "demo"}, auth=revoked)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert body["errors"][0]["message"] == "token has been revoked"
    assert await vigil.ok(NAMES, {"p": "demo"}, auth=token("bob", demo="viewer"))


async def test_a_cached_token_is_refused_once_expired(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as vigil:
        short = token("dan", ttl=2, demo="viewer")
        assert await vigil.ok(NAMES, {"p": "demo"}, auth=short)
        assert len(_cache(vigil)) == 1
        await asyncio.sleep(max(0.0, claims_of(short)["exp"] - time.time()) + 0.05)
        body = await vigil.gql(NAMES, {"p": "demo"}, auth=short)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert body["errors"][0]["message"] == "token has expired"


async def test_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, token_cache_size=0)) as vigil:
        assert not isinstance(vigil.app.state.vigil.verifier, TokenCache)
        assert await vigil.ok(NAMES, {"p": "demo"}, auth=ALICE)
