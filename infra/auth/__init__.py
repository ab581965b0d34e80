"""Token authentication: bearer JWTs in, `domain.access.Principal` out (see docs/auth.md)."""

from infra.auth.bearer import bearer_token, connection_init_token
from infra.auth.cache import TokenCache
from infra.auth.claims import parse_projects, principal_from_claims
from infra.auth.jwks import JWKSTokens
from infra.auth.local import DEFAULT_SECRET_PATH, LocalTokens, load_or_create_secret
from infra.auth.verification import TokenVerifier

__all__ = [
    "DEFAULT_SECRET_PATH",
    "JWKSTokens",
    "LocalTokens",
    "TokenCache",
    "TokenVerifier",
    "bearer_token",
    "connection_init_token",
    "load_or_create_secret",
    "parse_projects",
    "principal_from_claims",
]
