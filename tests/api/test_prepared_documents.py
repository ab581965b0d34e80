"""Documents through /graphql are parsed and validated once per query text
(schema/prepared.py), and every check still applies: the token limit, Vigil's validation
rules on each new document, syntax errors answered with a code, the cost budget with each
request's variables."""

from __future__ import annotations

from pathlib import Path

from tests.support import RunningVigil, make_settings, serve, token

ADMIN = token("alice", demo="admin")
NAMES = 'query Names { metricNames(project: "demo") }'


async def test_a_repeated_document_is_parsed_and_validated_once(vigil: RunningVigil) -> None:
    documents = vigil.app.state.vigil.schema.documents
    parsed, validated = documents.parse.cache_info(), documents.errors.cache_info()
    for _ in range(3):
        assert await vigil.ok(NAMES, auth=ADMIN) == {"metricNames": []}
    assert documents.parse.cache_info().misses == parsed.misses + 1
    assert documents.errors.cache_info().misses == validated.misses + 1
    assert documents.errors.cache_info().hits >= validated.hits + 2


async def test_each_new_document_is_validated(vigil: RunningVigil) -> None:
    assert await vigil.ok(NAMES, auth=ADMIN)
    body = await vigil.gql('query Names { metricNames(project: "demo") nope }', auth=ADMIN)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "nope" in body["errors"][0]["message"]
    deep = '{ alerts(project: "demo") { items { id } } }'  # within the limits: runs
    assert "errors" not in await vigil.gql(deep, auth=ADMIN)
    aliases = "{ " + " ".join(f'a{i}: metricNames(project: "demo")' for i in range(40)) + " }"
    for _ in range(2):  # refused again from the cache
        body = await vigil.gql(aliases, auth=ADMIN)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "aliases" in body["errors"][0]["message"]


async def test_the_token_limit_holds_on_every_attempt(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, max_tokens=50)) as vigil:
        long = "{ " + " ".join(f'a{i}: metricNames(project: "demo")' for i in range(10)) + " }"
        for _ in range(2):
            body = await vigil.gql(long, auth=ADMIN)
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            assert "tokens" in body["errors"][0]["message"]
        assert await vigil.ok(NAMES, auth=ADMIN)


async def test_a_syntax_error_is_answered_each_time(vigil: RunningVigil) -> None:
    for _ in range(2):
        body = await vigil.gql("{ metricNames(project: ", auth=ADMIN)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "Syntax Error" in body["errors"][0]["message"]


async def test_the_budget_is_costed_with_each_requests_variables(tmp_path: Path) -> None:
    query = 'query($n: Int!) { alerts(project: "demo", first: $n) { items { id } } }'
    async with serve(make_settings(tmp_path, query_max_cost=100)) as vigil:
        assert "errors" not in await vigil.gql(query, {"n": 5}, auth=ADMIN)
        body = await vigil.gql(query, {"n": 100_000}, auth=ADMIN)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["budget"] == 100
        assert "errors" not in await vigil.gql(query, {"n": 5}, auth=ADMIN)
