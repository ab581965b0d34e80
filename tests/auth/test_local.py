"""LocalTokens: HS256 tokens issued and verified with a local secret."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from domain.access import Permission, Principal, Role
from domain.errors import Unauthenticated
from infra.auth import LocalTokens, TokenVerifier
from tests.auth.forge import b64url, forge, forge_hs256, swap_payload

SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(1, 33))


@pytest.fixture
def tokens() -> LocalTokens:
    return LocalTokens(SECRET)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": "vigil",
        "aud": "vigil",
        "sub": "ana",
        "iat": now,
        "exp": now + 300,
        "projects": {"demo": "admin"},
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def signed(values: dict[str, Any], secret: bytes = SECRET) -> str:
    return jwt.encode({"alg": "HS256"}, values, OctKey.import_key(secret), algorithms=["HS256"])


def rejection(tokens: LocalTokens, token: str) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        tokens.verify_sync(token)
    return caught.value


def test_round_trip_keeps_subject_roles_and_expiry(tokens: LocalTokens) -> None:
    before = int(time.time())
    token = tokens.issue(
        subject="ana", projects={"demo": Role.ADMIN, "system": "viewer"}, ttl_seconds=600
    )

    principal = tokens.verify_sync(token)

    assert principal.subject == "ana"
    assert dict(principal.roles) == {"demo": Role.ADMIN, "system": Role.VIEWER}
    assert principal.can("demo", Permission.ADMINISTER)
    assert not principal.can("system", Permission.EDIT)
    assert not principal.can("other", Permission.READ)
    assert principal.expires_at is not None
    assert before + 600 <= principal.expires_at <= int(time.time()) + 600


def test_issued_claims_follow_the_documented_format(tokens: LocalTokens) -> None:
    token = tokens.issue(subject="collector-7", projects={"demo": "collector"}, ttl_seconds=60)
    payload = token.split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    assert set(decoded) == {"iss", "aud", "sub", "iat", "exp", "jti", "projects"}
    assert decoded["exp"] - decoded["iat"] == 60
    assert len(decoded["jti"]) == 32  # a fresh id per token: what revokeAccess names
    again = tokens.issue(subject="collector-7", projects={"demo": "collector"}, ttl_seconds=60)
    assert (decoded["jti"], decoded["iat"]) != (None, None) and again != token
    assert decoded["projects"] == {"demo": "collector"}
    assert (decoded["iss"], decoded["aud"]) == ("vigil", "vigil")


async def test_async_verify_satisfies_the_token_verifier_protocol(tokens: LocalTokens) -> None:
    verifier: TokenVerifier = tokens
    principal = await verifier.verify(tokens.issue(subject="ana", projects={}))
    assert principal == Principal(
        subject="ana",
        roles={},
        expires_at=principal.expires_at,
        token_id=principal.token_id,
        issued_at=principal.issued_at,
    )
    assert principal.token_id and principal.issued_at


def test_expired_token_is_rejected(tokens: LocalTokens) -> None:
    past = LocalTokens(SECRET, clock=lambda: time.time() - 3600)
    error = rejection(tokens, past.issue(subject="ana", projects={}, ttl_seconds=60))
    assert (error.message, error.details["reason"]) == ("token has expired", "expired")


def test_token_from_the_future_is_rejected(tokens: LocalTokens) -> None:
    future = LocalTokens(SECRET, clock=lambda: time.time() + 3600)
    error = rejection(tokens, future.issue(subject="ana", projects={}))
    assert error.details["reason"] == "not_yet_valid"


def test_token_before_its_nbf_is_rejected(tokens: LocalTokens) -> None:
    error = rejection(tokens, signed(claims(nbf=int(time.time()) + 600)))
    assert (error.message, error.details["reason"]) == ("token is not valid yet", "not_yet_valid")


def test_leeway_accepts_a_token_that_expired_moments_ago() -> None:
    lenient = LocalTokens(SECRET, leeway_seconds=120)
    assert lenient.verify_sync(signed(claims(exp=int(time.time()) - 60))).subject == "ana"


def test_wrong_secret_is_rejected(tokens: LocalTokens) -> None:
    token = LocalTokens(OTHER_SECRET).issue(subject="ana", projects={"demo": "admin"})
    error = rejection(tokens, token)
    assert error.details["reason"] == "bad_signature"
    assert error.message.startswith("token signature is invalid: it was not signed with this")
    assert "vigil token" in error.message


def test_tampered_payload_is_rejected(tokens: LocalTokens) -> None:
    token = tokens.issue(subject="ana", projects={"demo": "viewer"})
    tampered = swap_payload(token, claims(projects={"demo": "admin", "other": "admin"}))
    assert rejection(tokens, tampered).details["reason"] == "bad_signature"


def test_missing_exp_is_rejected(tokens: LocalTokens) -> None:
    error = rejection(tokens, signed(claims(exp=None)))
    assert "exp" in error.message


@pytest.mark.parametrize("missing", ["sub", "iss", "aud", "projects"])
def test_other_required_claims_are_enforced(tokens: LocalTokens, missing: str) -> None:
    values = claims()
    del values[missing]
    assert missing in rejection(tokens, signed(values)).message


def test_unknown_role_is_rejected(tokens: LocalTokens) -> None:
    error = rejection(tokens, signed(claims(projects={"demo": "admin", "ops": "superuser"})))
    assert error.details["reason"] == "unknown_role"
    assert "'superuser'" in error.message and "'ops'" in error.message


@pytest.mark.parametrize(
    "projects",
    [["demo"], "demo:admin", {"demo": ["admin"]}, {"demo": None}, {"": "admin"}, {"demo": "Admin"}],
)
def test_malformed_projects_claim_is_rejected(tokens: LocalTokens, projects: object) -> None:
    error = rejection(tokens, signed(claims(projects=projects)))
    assert "'projects'" in error.message


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "someone-else"}, "wrong_issuer"),
        ({"aud": "another-service"}, "wrong_audience"),
        ({"aud": ["another-service"]}, "wrong_audience"),
    ],
)
def test_wrong_issuer_or_audience_is_rejected(
    tokens: LocalTokens, overrides: dict[str, Any], reason: str
) -> None:
    assert rejection(tokens, signed(claims(**overrides))).details["reason"] == reason


def test_audience_list_containing_ours_is_accepted(tokens: LocalTokens) -> None:
    assert tokens.verify_sync(signed(claims(aud=["grafana", "vigil"]))).subject == "ana"


def test_configured_issuer_and_audience_are_enforced() -> None:
    custom = LocalTokens(SECRET, issuer="vigil-eu", audience="vigil-api")
    assert custom.verify_sync(custom.issue(subject="ana", projects={})).subject == "ana"
    assert rejection(custom, LocalTokens(SECRET).issue(subject="ana", projects={}))


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_rejected(tokens: LocalTokens, alg: str) -> None:
    error = rejection(tokens, forge({"alg": alg, "typ": "JWT"}, claims()))
    assert error.details["reason"] == "bad_algorithm"


def test_other_hmac_algorithms_are_rejected(tokens: LocalTokens) -> None:
    token = jwt.encode({"alg": "HS512"}, claims(), OctKey.import_key(SECRET), algorithms=["HS512"])
    assert rejection(tokens, token).details["reason"] == "bad_algorithm"


def test_unknown_critical_header_is_rejected(tokens: LocalTokens) -> None:
    token = forge_hs256({"alg": "HS256", "crit": ["exp"], "exp": 1}, claims(), SECRET)
    assert rejection(tokens, token).details["reason"] == "malformed"


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c", "a.b.c.d", "!!!.???.###", "eyJhbGciOiJIUzI1NiJ9..", "x" * 20_000],
)
def test_garbage_is_rejected_as_malformed(tokens: LocalTokens, token: str) -> None:
    error = rejection(tokens, token)
    assert error.details["reason"] in {"malformed", "bad_signature"}
    assert SECRET.hex() not in error.message and "Traceback" not in error.message


def test_deeply_nested_header_is_rejected_as_malformed(tokens: LocalTokens) -> None:
    header = b64url(b"[" * 5000 + b"]" * 5000)
    assert rejection(tokens, f"{header}.e30.").details["reason"] == "malformed"


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        LocalTokens(b"too short but 31 bytes long....")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"subject": "", "projects": {}}, "subject"),
        ({"subject": "ana", "projects": {"demo": "root"}}, "unknown role 'root'"),
        ({"subject": "ana", "projects": {}, "ttl_seconds": 0}, "ttl_seconds"),
    ],
)
def test_issue_refuses_bad_input(tokens: LocalTokens, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        tokens.issue(**kwargs)


def test_forged_hs256_with_the_right_secret_is_accepted(tokens: LocalTokens) -> None:
    # The control for the forgery tests: the hand-built MAC matches joserfc's.
    assert tokens.verify_sync(forge_hs256({"alg": "HS256"}, claims(), SECRET)).subject == "ana"
