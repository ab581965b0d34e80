"""Verified tokens remembered by their exact text until they expire (decision 0027).

A client sends the same token with every request; checking its signature and claims again
each time cost ~70 us of the ~420 us a small /graphql request spends in Vigil's code
(docs/performance.md, "Per-request cost"). Only what a verifier accepted is kept, and only
while it would still accept it:

- an entry is used while `exp` has not passed (the same comparison, leeway included, that
  refuses an expired token); past it the verifier is asked again, and answers "expired";
- a verifier whose keys can change (JWKS) names the key set an answer was given under
  (`key_epoch()`); an entry from another key set, or while the keys are due for a refresh,
  is a miss, so a key withdrawn by the provider stops its tokens as before;
- revocations are not the verifier's business: `Vigil.authenticate` checks every
  principal, cached or not, against the revocation list.

Refused tokens are never kept (each refusal is verified, and logged, as before). Entries
are keyed by a SHA-256 of the text, so a long token costs the cache 32 bytes; the oldest
entry goes when the cache is full.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from domain.access import Principal
from infra.auth.verification import TokenVerifier

__all__ = ["KeyEpochs", "TokenCache"]


@runtime_checkable
class KeyEpochs(Protocol):
    """A verifier whose keys change: the current key set's number, or None when the keys
    must be checked again before an earlier answer can be trusted."""

    def key_epoch(self) -> int | None: ...


class TokenCache:
    """A `TokenVerifier` that asks `verifier` once per token text while the token lasts."""

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        max_entries: int,
        leeway_seconds: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_entries < 1:
            raise ValueError("a token cache holds at least one entry")
        self.verifier = verifier
        self._max_entries = max_entries
        self._leeway = leeway_seconds
        self._clock = clock
        self._entries: dict[bytes, tuple[Principal, int | None]] = {}
        # Looked up once: an isinstance() against a runtime-checkable protocol costs ~20 us.
        self._key_epoch = verifier.key_epoch if isinstance(verifier, KeyEpochs) else None

    def __len__(self) -> int:
        return len(self._entries)

    def _epoch(self) -> int | None:
        return self._key_epoch() if self._key_epoch is not None else 0

    async def verify(self, token: str) -> Principal:
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        entry = self._entries.get(key)
        if entry is not None:
            principal, epoch = entry
            # joserfc refuses when exp <= now - leeway, with now in whole seconds.
            expires = principal.expires_at
            alive = expires is not None and expires > int(self._clock()) - self._leeway
            if alive and epoch is not None and epoch == self._epoch():
                return principal
            del self._entries[key]
        principal = await self.verifier.verify(token)  # raises for a refused token
        # Read after the check: a verifier does not yield between choosing its key and
        # returning, so this is the key set the token was checked against.
        epoch = self._epoch()
        if epoch is not None and principal.expires_at is not None:
            if len(self._entries) >= self._max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (principal, epoch)
        return principal

    async def aclose(self) -> None:
        self._entries.clear()
        close = getattr(self.verifier, "aclose", None)
        if close is not None:
            await close()
