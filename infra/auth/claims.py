"""The claims of a Vigil access token and how they become a `Principal`.

A Vigil token is a signed JWT whose payload holds:

- `sub` (required): the subject, a user or a collector; a non-empty string.
- `exp` (required): expiry in unix seconds; the token is refused from then on.
- `iat` (optional): issue time in unix seconds; refused if in the future.
- `nbf` (optional): not-before time in unix seconds; refused until then.
- `iss` (required): the issuer; must equal the verifier's issuer exactly.
- `aud` (required): a string or a list of strings; must contain the verifier's audience.
- `jti` (optional): the token's id, a string; `revokeAccess(tokenId: ...)` revokes it.
- `projects` (required): an object mapping each project name to one role, `viewer`,
  `editor`, `admin` or `collector`.

For example `{"sub": "ana", "exp": 1767225600, "iat": 1767139200, "iss": "vigil",
"aud": "vigil", "projects": {"demo": "admin", "system": "viewer"}}`. An unknown role or
a `projects` claim of another shape refuses the whole token: a token never grants less, or
more, than it says. `{}` is a valid `projects` claim that grants nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwt import JWTClaimsRegistry

from domain.access import Principal, Role
from domain.errors import Unauthenticated

__all__ = ["DEFAULT_PROJECTS_CLAIM", "parse_projects", "principal_from_claims"]

DEFAULT_PROJECTS_CLAIM = "projects"

_MAX_SUBJECT_LENGTH = 256
_MAX_PROJECT_LENGTH = 200
_MAX_EXP = 253_402_300_799  # 9999-12-31T23:59:59Z: later values are nonsense, and overflow floats
_ROLE_NAMES = ", ".join(sorted(role.value for role in Role))

_CLAIM_MESSAGES = {
    "nbf": ("token is not valid yet", "not_yet_valid"),
    "iat": ("token was issued in the future", "not_yet_valid"),
    "iss": ("token issuer is not accepted", "wrong_issuer"),
    "aud": ("token audience is not accepted", "wrong_audience"),
}


def principal_from_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    audience: str,
    now: int,
    leeway_seconds: int = 0,
    projects_claim: str = DEFAULT_PROJECTS_CLAIM,
) -> Principal:
    """Validate verified `claims` and return the principal they describe.

    Raises `Unauthenticated` with a message safe to show the client.
    """
    registry = JWTClaimsRegistry(
        now=now,
        leeway=leeway_seconds,
        sub={"essential": True},
        exp={"essential": True},
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
    )
    try:
        registry.validate(dict(claims))
    except ExpiredTokenError:
        raise Unauthenticated("token has expired", reason="expired") from None
    except MissingClaimError as error:
        raise Unauthenticated(
            f"token lacks the required claim(s): {error.claim}", reason="malformed"
        ) from None
    except InvalidClaimError as error:
        message, reason = _CLAIM_MESSAGES.get(
            error.claim, (f"token claim {error.claim!r} is invalid", "malformed")
        )
        raise Unauthenticated(message, reason=reason) from None
    except JoseError:
        raise Unauthenticated("token claims are invalid", reason="malformed") from None

    subject, exp = claims["sub"], claims["exp"]
    if len(subject) > _MAX_SUBJECT_LENGTH:
        raise Unauthenticated("token subject is too long", reason="malformed")
    if exp > _MAX_EXP:
        raise Unauthenticated("token claim 'exp' is invalid", reason="malformed")
    if projects_claim not in claims:
        raise Unauthenticated(f"token lacks the {projects_claim!r} claim", reason="malformed")
    roles = parse_projects(claims[projects_claim], claim=projects_claim)
    jti, iat = claims.get("jti"), claims.get("iat")
    if jti is not None and (not isinstance(jti, str) or not 0 < len(jti) <= _MAX_SUBJECT_LENGTH):
        raise Unauthenticated("token claim 'jti' is invalid", reason="malformed")
    return Principal(
        subject=subject,
        roles=roles,
        expires_at=float(exp),
        token_id=jti,
        issued_at=float(iat)
        if isinstance(iat, int | float) and not isinstance(iat, bool)
        else None,
    )


def parse_projects(value: object, *, claim: str = DEFAULT_PROJECTS_CLAIM) -> Mapping[str, Role]:
    """Read a `projects` claim: a JSON object of project name to role name."""
    if not isinstance(value, dict):
        raise Unauthenticated(
            f"token claim {claim!r} must be an object mapping project names to roles",
            reason="malformed",
        )
    roles: dict[str, Role] = {}
    for project, role in value.items():
        if not isinstance(project, str) or not 0 < len(project) <= _MAX_PROJECT_LENGTH:
            raise Unauthenticated(
                f"token claim {claim!r} holds an invalid project name", reason="malformed"
            )
        try:
            roles[project] = Role(role)
        except (ValueError, TypeError):
            raise Unauthenticated(
                f"token claim {claim!r} gives project {_show(project)} the unknown role "
                f"{_show(role)}; roles are {_ROLE_NAMES}",
                reason="unknown_role",
            ) from None
    return roles


def _show(value: object) -> str:
    """Quote a value from the token for a message, briefly."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    return f"<{type(value).__name__}>"
