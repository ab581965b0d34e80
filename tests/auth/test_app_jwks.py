"""Production auth end to end: the real app in JWKS mode, a real key server, real clients."""

from __future__ import annotations

from pathlib import Path

from joserfc.jwk import ECKey, RSAKey

from infra.config import AuthMode
from tests.auth.conftest import JWKSServer
from tests.auth.test_jwks import AUDIENCE, ISSUER, claims, sign
from tests.support import make_settings, serve, ws_client

NAMES = '{ metricNames(project: "demo") }'


async def test_the_app_accepts_provider_tokens_and_refuses_others(
    tmp_path: Path, jwks_server: JWKSServer, rsa_key: RSAKey, ec_key: ECKey
) -> None:
    settings = make_settings(
        tmp_path,
        auth_mode=AuthMode.JWKS,
        jwks_url=jwks_server.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    async with serve(settings) as vigil:
        assert await vigil.ok(NAMES, auth=sign(rsa_key)) == {"metricNames": []}
        assert await vigil.ok(NAMES, auth=sign(ec_key)) == {"metricNames": []}
        foreign = RSAKey.generate_key(2048, parameters={"kid": "not-published"})
        refused = await vigil.gql(NAMES, auth=sign(foreign))
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        wrong_issuer = await vigil.gql(NAMES, auth=sign(rsa_key, claims(iss="https://evil/")))
        assert wrong_issuer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        async with ws_client(vigil.ws_url, sign(ec_key)) as client:  # connection_init token
            op = await client.subscribe(NAMES)
            assert (await client.next_for(op))["payload"] == {"data": {"metricNames": []}}
