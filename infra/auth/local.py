"""Embedded-mode tokens: HS256 with a secret kept on this machine."""

from __future__ import annotations

import logging
import os
import secrets
import stat
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import OctKey

from domain.access import Principal, Role
from domain.errors import Unauthenticated
from infra.auth.claims import principal_from_claims
from infra.auth.verification import decode_token, read_header

__all__ = ["DEFAULT_SECRET_PATH", "MIN_SECRET_BYTES", "LocalTokens", "load_or_create_secret"]

logger = logging.getLogger(__name__)

MIN_SECRET_BYTES = 32
DEFAULT_SECRET_PATH = Path("var/secret.key")

_ALGORITHM = "HS256"
BAD_SIGNATURE = (
    "token signature is invalid: it was not signed with this server's secret; mint one with "
    "`vigil token` where the server runs (same VIGIL_DATA_DIR, or VIGIL_SECRET)"
)


class LocalTokens:
    """Issues and verifies HS256 tokens with a shared secret of at least 32 bytes.

    `vigil token` issues with the same secret file that `vigil serve` verifies with.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        issuer: str = "vigil",
        audience: str = "vigil",
        leeway_seconds: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(secret, bytes):
            raise TypeError("the token secret must be bytes")
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"the token secret has {len(secret)} bytes; use at least {MIN_SECRET_BYTES} "
                "random bytes (load_or_create_secret() makes a suitable one)"
            )
        self._key = OctKey.import_key(secret)
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._clock = clock

    def issue(
        self,
        *,
        subject: str,
        projects: Mapping[str, Role | str],
        ttl_seconds: int = 86_400,
    ) -> str:
        """Return a signed token for `subject` with a role in each of `projects`."""
        if not isinstance(subject, str) or not subject:
            raise ValueError("a token needs a non-empty subject")
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be a positive whole number of seconds")
        roles: dict[str, str] = {}
        for project, role in projects.items():
            if not isinstance(project, str) or not project:
                raise ValueError("project names must be non-empty strings")
            try:
                roles[project] = Role(role).value
            except ValueError:
                names = ", ".join(sorted(r.value for r in Role))
                raise ValueError(
                    f"unknown role {role!r} for project {project!r}; use {names}"
                ) from None
        now = int(self._clock())
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,  # what `revokeAccess(tokenId: ...)` names
            "projects": roles,
        }
        return jwt.encode({"alg": _ALGORITHM}, claims, self._key, algorithms=[_ALGORITHM])

    @property
    def leeway_seconds(self) -> int:
        return self._leeway

    def verify_sync(self, token: str) -> Principal:
        """Return the principal of a valid token; raise `Unauthenticated` otherwise."""
        if read_header(token)["alg"] != _ALGORITHM:
            raise Unauthenticated("token algorithm is not accepted", reason="bad_algorithm")
        try:
            claims = decode_token(token, self._key, algorithms=[_ALGORITHM])
        except Unauthenticated as exc:
            if exc.details.get("reason") != "bad_signature":
                raise
            # Almost always a token minted with another secret: another machine, or another
            # VIGIL_DATA_DIR. Say so, without naming where the secret is kept.
            raise Unauthenticated(BAD_SIGNATURE, reason="bad_signature") from None
        return principal_from_claims(
            claims,
            issuer=self._issuer,
            audience=self._audience,
            now=int(self._clock()),
            leeway_seconds=self._leeway,
        )

    async def verify(self, token: str) -> Principal:
        """`verify_sync`, for the `TokenVerifier` protocol: an HMAC costs microseconds."""
        return self.verify_sync(token)


def load_or_create_secret(path: str | os.PathLike[str] = DEFAULT_SECRET_PATH) -> bytes:
    """Read the secret at `path`, creating it (32 random bytes, hex, mode 0600) if missing.

    Safe when several processes start at once: exactly one file wins and all read it.
    """
    target = Path(path)
    try:
        return _read_secret(target)
    except FileNotFoundError:
        pass
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600; link() publishes it only once fully written.
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".secret-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(MIN_SECRET_BYTES) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, target)
        except FileExistsError:
            logger.debug("another process created %s first: using theirs", target)
        else:
            logger.info("created a new token secret at %s", target)
    finally:
        os.unlink(temporary)
    return _read_secret(target)


def _read_secret(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("token secret %s is readable by other users; run chmod 600 on it", path)
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(
            f"the token secret file {path} must hold at least {MIN_SECRET_BYTES * 2} hex "
            "characters; delete it to have a new one created (this invalidates issued tokens)"
        )
    return secret
