"""Query limits, production mode, health endpoints and self-monitoring."""

from __future__ import annotations

from pathlib import Path

from infra.config import Mode
from tests.support import RunningVigil, make_settings, serve, token, until

SYSTEM = token(system="viewer")
# Self-monitoring writes every period: a sample is stored within two periods; 25 periods
# (5 s at 0.2 s) leave room for a loaded machine.
WITHIN_PERIODS = 25


async def test_query_depth_and_aliases_are_limited(vigil: RunningVigil) -> None:
    admin = token(demo="admin")
    aliases = " ".join(f'a{i}: metricNames(project: "demo")' for i in range(40))
    body = await vigil.gql("{ " + aliases + " }", auth=admin)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "aliases" in body["errors"][0]["message"]


async def test_query_depth_is_limited(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, max_query_depth=1)) as vigil:
        deep = '{ metrics(project: "demo") { pageInfo { hasNextPage } } }'
        body = await vigil.gql(deep, auth=token(demo="admin"))
        assert "exceeds maximum operation depth" in body["errors"][0]["message"]
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_errors_never_leak_internals(vigil: RunningVigil) -> None:
    body = await vigil.gql("{ nope }", auth=token(demo="admin"))
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in str(body)


async def test_production_mode_hides_graphiql_and_introspection(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, mode=Mode.PRODUCTION)) as vigil:
        page = await vigil.http.get("/graphql", headers={"Accept": "text/html"})
        assert "graphiql" not in page.text.lower()
        body = await vigil.gql("{ __schema { types { name } } }", auth=token(demo="admin"))
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_production_mode_suggests_no_names_from_the_schema(tmp_path: Path) -> None:
    """Issue 12, item 16: a typo's "Did you mean ...?" would map the schema that
    introspection hides; development mode keeps the help."""
    typo = '{ metricSerie(project: "demo", name: "cpu") { timestamps } }'
    async with serve(make_settings(tmp_path, mode=Mode.PRODUCTION)) as vigil:
        body = await vigil.gql(typo, auth=token(demo="admin"))
        (error,) = body["errors"]
        assert error["message"] == "Cannot query field 'metricSerie' on type 'Query'."
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
    async with serve(make_settings(tmp_path / "dev")) as vigil:
        body = await vigil.gql(typo, auth=token(demo="admin"))
        assert "Did you mean 'metricSeries'" in body["errors"][0]["message"]


async def test_development_mode_serves_graphiql(vigil: RunningVigil) -> None:
    page = await vigil.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    # Vigil's own start script sends the Headers tab in connection_init too (the browser
    # test, tests/e2e/test_graphiql_browser.py, checks it does).
    assert '<script src="/assets/graphiql-start.js">' in page.text


async def test_liveness_readiness_and_system_health(vigil: RunningVigil) -> None:
    assert (await vigil.http.get("/healthz")).json() == {"status": "ok"}
    ready = await vigil.http.get("/readyz")
    assert ready.status_code == 200
    components = {"store", "event_bus", "notifications", "disk", "jobs"}
    assert set(ready.json()["components"]) == components
    health = (
        await vigil.ok(
            "{ systemHealth { status version uptimeSeconds"
            " components { name status latencyMs } } }",
            auth=token(demo="viewer"),
        )
    )["systemHealth"]
    assert health["status"] == "ok" and health["uptimeSeconds"] >= 0
    assert {c["name"] for c in health["components"]} == components


async def test_readiness_is_503_when_the_store_is_down(vigil: RunningVigil) -> None:
    store = vigil.app.state.vigil.stores.metrics
    await store.close()
    ready = await vigil.http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["components"]["store"]["status"] == "down"
    body = await vigil.gql('{ metricNames(project: "demo") }', auth=token(demo="viewer"))
    assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert "vigil.duckdb" not in str(body)  # no file path or connection string leaks


async def test_vigil_records_its_own_vitals(tmp_path: Path) -> None:
    expected = {
        "vigil.api.requests_total",
        "vigil.api.latency_ms",
        "vigil.ingest.points_per_second",
        "vigil.ws.connections",
        "vigil.ws.subscriptions",
        "vigil.process.cpu_percent",
        "vigil.process.memory_rss_bytes",
    }
    period = 0.2
    async with serve(make_settings(tmp_path, self_monitor_seconds=period)) as vigil:
        await vigil.http.get("/healthz")

        async def recorded() -> bool:
            names = await vigil.ok('{ metricNames(project: "system") }', auth=SYSTEM)
            return expected <= set(names["metricNames"])

        await until(recorded, WITHIN_PERIODS * period, "the vitals are recorded")


async def test_vigil_reports_how_many_alerts_it_evaluates(tmp_path: Path) -> None:
    admin = token(demo="admin", system="viewer")
    create_points = """mutation { createMetrics(project: "demo",
      points: [{name: "cpu", value: 1}]) { accepted } }"""
    create_alert = """mutation { createAlert(project: "demo",
      rule: {name: "cpu high", metric: "cpu", threshold: 90}) { id } }"""
    series = """{ metricSeries(project: "system", name: "vigil.alerting.alerts_evaluated",
      aggregation: LAST, from: "2020-01-01T00:00:00Z") { series { values } } }"""
    period = 0.2
    async with serve(make_settings(tmp_path, self_monitor_seconds=period)) as vigil:
        await vigil.ok(create_points, auth=admin)
        await vigil.ok(create_alert, auth=admin)

        async def counted_one() -> bool:
            found = (await vigil.ok(series, auth=admin))["metricSeries"]["series"]
            return bool(found) and [v for v in found[0]["values"] if v is not None][-1] == 1.0

        await until(counted_one, WITHIN_PERIODS * period, "one alert counted")


async def test_list_arguments_are_limited(vigil: RunningVigil) -> None:
    query = """query($m: [TagMatcherInput!], $g: [String!]) {
      metricSeries(project: "demo", name: "x", matchers: $m, groupBy: $g) { timestamps } }"""
    admin = token(demo="admin")
    many = [{"key": "k", "value": "v"}] * 33
    body = await vigil.gql(query, {"m": many}, auth=admin)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await vigil.gql(query, {"g": [f"t{i}" for i in range(17)]}, auth=admin)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await vigil.ok(query, {"m": many[:32]}, auth=admin))["metricSeries"]
