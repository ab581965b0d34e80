"""Production-mode tokens: RS256/ES256 checked against an identity provider's JWKS."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import warnings
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Any, Self

import httpx
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import JWKRegistry, Key

from domain.access import Principal
from domain.errors import Unauthenticated, Unavailable
from infra.auth.claims import DEFAULT_PROJECTS_CLAIM, principal_from_claims
from infra.auth.verification import decode_token, read_header

__all__ = ["ASYMMETRIC_ALGORITHMS", "JWKSTokens"]

logger = logging.getLogger(__name__)

#: What a JWKS verifier may accept. Never HS* (anyone holding the public key could sign)
#: and never `none`.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)


class JWKSTokens:
    """Verifies tokens signed by an identity provider whose public keys are at `jwks_url`.

    Keys are fetched on first use and kept for `cache_seconds`. A token naming an unknown
    `kid` triggers a refetch (key rotation), but never more than once per
    `cooldown_seconds`, so a flood of forged kids cannot hammer the provider. If a refetch
    fails, the keys already known keep working.
    """

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        algorithms: Collection[str] = ("RS256", "ES256"),
        cache_seconds: float = 3600.0,
        cooldown_seconds: float = 30.0,
        timeout_seconds: float = 5.0,
        max_document_bytes: int = 1_000_000,
        leeway_seconds: int = 30,
        projects_claim: str = DEFAULT_PROJECTS_CLAIM,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not jwks_url.startswith(("https://", "http://")):
            raise ValueError(f"the JWKS URL must be http(s), not {jwks_url!r}")
        if not issuer or not audience:
            raise ValueError("a JWKS verifier needs a non-empty issuer and audience")
        refused = set(algorithms) - ASYMMETRIC_ALGORITHMS
        if refused or not algorithms:
            raise ValueError(
                f"JWKS tokens accept only {', '.join(sorted(ASYMMETRIC_ALGORITHMS))}; "
                f"refused: {', '.join(sorted(refused)) or 'an empty list'}"
            )
        self._url = jwks_url
        self._issuer = issuer
        self._audience = audience
        self._algorithms = frozenset(algorithms)
        self._cache_seconds = cache_seconds
        self._cooldown_seconds = cooldown_seconds
        self._timeout_seconds = timeout_seconds
        self._max_document_bytes = max_document_bytes
        self._leeway = leeway_seconds
        self._projects_claim = projects_claim
        self._client = http_client
        self._owns_client = http_client is None
        self._clock = clock
        self._keys: list[Key] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        self._epoch = 0  # counts the key sets fetched (infra/auth/cache.py)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def verify(self, token: str) -> Principal:
        """Return the principal of a valid token; raise `Unauthenticated` otherwise.

        Raises `Unavailable` when no signing key could ever be fetched.
        """
        header = read_header(token)
        alg, kid = header["alg"], header.get("kid")
        if alg not in self._algorithms:
            raise Unauthenticated("token algorithm is not accepted", reason="bad_algorithm")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("token is malformed: invalid key id", reason="malformed")
        key = await self._key_for(kid, alg)
        claims = decode_token(token, key, algorithms=[alg])
        return principal_from_claims(
            claims,
            issuer=self._issuer,
            audience=self._audience,
            now=int(self._clock()),
            leeway_seconds=self._leeway,
            projects_claim=self._projects_claim,
        )

    async def refresh(self) -> None:
        """Fetch the key set now, whatever the cooldown; raise `Unavailable` if that fails."""
        async with self._lock:
            if not await self._fetch():
                raise Unavailable("the identity provider's signing keys are unavailable")

    async def _key_for(self, kid: str | None, alg: str) -> Key:
        if self._is_fresh() and (key := self._find(kid, alg)) is not None:
            return key
        async with self._lock:
            # Another task may have refreshed while this one waited for the lock.
            key = self._find(kid, alg) if self._is_fresh() else None
            if key is None and self._cooled_down():
                await self._fetch()
            key = self._find(kid, alg)
        if key is not None:
            return key
        if self._keys is None:
            raise Unavailable("the identity provider's signing keys are unavailable; retry later")
        raise Unauthenticated("token signing key is not known", reason="unknown_key")

    @property
    def leeway_seconds(self) -> int:
        return self._leeway

    def key_epoch(self) -> int | None:
        """The number of the key set in use, or None when it is due for a refresh: a
        token cache trusts an earlier answer only under the same, fresh, key set."""
        return self._epoch if self._is_fresh() else None

    def _find(self, kid: str | None, alg: str) -> Key | None:
        keys = self._keys or []
        if kid is None:
            # Only an unambiguous key set may verify a token that names no key.
            return keys[0] if len(keys) == 1 else None
        for key in keys:
            if key.kid == kid and key.alg in (None, alg):
                return key
        return None

    def _is_fresh(self) -> bool:
        return self._keys is not None and time.monotonic() - self._fetched_at < self._cache_seconds

    def _cooled_down(self) -> bool:
        return (
            self._attempted_at is None
            or time.monotonic() - self._attempted_at >= self._cooldown_seconds
        )

    async def _fetch(self) -> bool:
        self._attempted_at = time.monotonic()
        try:
            async with asyncio.timeout(self._timeout_seconds):
                document = await self._download()
            keys = parse_key_set(document, algorithms=self._algorithms)
        except (httpx.HTTPError, TimeoutError, ValueError, RecursionError) as error:
            logger.warning("could not fetch the JWKS at %s: %r", self._url, error)
            return False
        self._keys = keys
        self._fetched_at = time.monotonic()
        self._epoch += 1
        logger.info("fetched %d signing key(s) from %s", len(keys), self._url)
        return True

    async def _download(self) -> Any:
        if self._client is None:
            self._client = httpx.AsyncClient(follow_redirects=False)
        timeout = httpx.Timeout(self._timeout_seconds)
        headers = {"Accept": "application/json"}
        async with self._client.stream("GET", self._url, headers=headers, timeout=timeout) as r:
            r.raise_for_status()
            body = bytearray()
            async for chunk in r.aiter_bytes():
                body += chunk
                if len(body) > self._max_document_bytes:
                    raise ValueError(f"JWKS document exceeds {self._max_document_bytes} bytes")
        return json.loads(body)


def parse_key_set(document: object, *, algorithms: Collection[str]) -> list[Key]:
    """Return the usable public signing keys of a JWKS document; skip the others.

    A key is skipped when its type cannot serve `algorithms`, its `use` is not `sig`, its
    `alg` is not one of `algorithms`, or joserfc finds it malformed or too weak.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document: no 'keys' list")
    wanted_types = {"RSA" if alg[0] in "RP" else "EC" for alg in algorithms}
    keys: list[Key] = []
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") not in wanted_types:
            continue
        alg = entry.get("alg")
        if entry.get("use", "sig") != "sig" or (alg is not None and alg not in algorithms):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", SecurityWarning)  # e.g. RSA under 2048 bits
                keys.append(JWKRegistry.import_key(entry))
        except (JoseError, SecurityWarning, ValueError, TypeError, KeyError) as error:
            logger.warning("ignoring JWKS key %r: %s", entry.get("kid"), error)
    if not keys:
        raise ValueError("JWKS document holds no usable signing key")
    return keys
