"""Short-lived signed links to a run's files: `/reports/{run}/{file}?exp=...&sig=...`.

The signature is an HMAC-SHA256 of the path and the expiry with a key derived from the
instance secret, so any instance sharing the secret accepts a link another one made."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["DEFAULT_LINK_SECONDS", "LinkRefusal", "ReportLinks"]

DEFAULT_LINK_SECONDS = 24 * 3_600


class LinkRefusal(Exception):
    """Why a signed link is not honoured: `expired` or `bad signature`."""


@dataclass(frozen=True, slots=True)
class ReportLinks:
    key: bytes
    ttl_seconds: int = DEFAULT_LINK_SECONDS

    @staticmethod
    def path(run_id: str, name: str) -> str:
        return f"/reports/{quote(run_id, safe='')}/{quote(name, safe='')}"

    def signed(self, run_id: str, name: str, *, now_us: int) -> str:
        """The path with an expiry `ttl_seconds` from now and its signature."""
        expires = now_us // 1_000_000 + self.ttl_seconds
        return f"{self.path(run_id, name)}?exp={expires}&sig={self._sign(run_id, name, expires)}"

    def check(self, run_id: str, name: str, *, exp: str, sig: str, now_us: int) -> None:
        """Raise LinkRefusal unless `sig` signs this file until `exp`, still in the future."""
        try:
            expires = int(exp)
        except ValueError:
            raise LinkRefusal("bad signature") from None
        if not hmac.compare_digest(self._sign(run_id, name, expires), sig):
            raise LinkRefusal("bad signature")
        if expires * 1_000_000 <= now_us:
            raise LinkRefusal("expired")

    def _sign(self, run_id: str, name: str, expires: int) -> str:
        message = f"{run_id}\n{name}\n{expires}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()
