"""A store DuckDB invalidated that cannot be opened again (an I/O error on the file): /readyz
says the store is down at once, /healthz turns 503 once VIGIL_STORE_RECOVER_SECONDS have
passed (a restart is what is left), and both recover when the reopen succeeds. The full-disk
path that invalidates the database for real is driven by tests/e2e/test_store_full_disk.py;
here DuckDB's fatal error and the failing reopen are injected at DuckDB's boundary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.support import make_settings, serve, token, until

RECOVER_SECONDS = 0.5
WITHIN_SECONDS = 10.0  # 20x the recovery period and the 1 s reopen backoff: a loaded machine


async def test_a_store_that_cannot_be_reopened_fails_liveness_until_it_can(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, store_recover_seconds=RECOVER_SECONDS)
    async with serve(settings) as vigil:
        connect = duckdb.connect
        attempts: list[str] = []

        def broken(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
            attempts.append(str(args[0]))
            raise duckdb.IOException('IO Error: Cannot open file "x": Input/output error')

        monkeypatch.setattr(duckdb, "connect", broken)
        runner = vigil.app.state.vigil.stores._runner
        runner.fault(duckdb.FatalException("FATAL Error: Failed to create checkpoint"))

        ready = await vigil.http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["components"]["store"]["status"] == "down"
        assert "being reopened" in ready.json()["components"]["store"]["detail"]
        refused = await vigil.http.post(
            "/graphql",
            json={"query": '{ metricNames(project: "demo") }'},
            headers={"Authorization": f"Bearer {token(demo='admin')}"},
        )
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        assert refused.headers["retry-after"] == "1"

        async def dead() -> bool:
            return (await vigil.http.get("/healthz")).status_code == 503

        await until(dead, WITHIN_SECONDS, "/healthz 503 after the recovery period")
        assert "could not be reopened" in (await vigil.http.get("/healthz")).json()["reason"]
        assert len(attempts) >= 2  # it kept trying

        monkeypatch.setattr(duckdb, "connect", connect)

        async def alive() -> bool:
            return (await vigil.http.get("/healthz")).status_code == 200

        await until(alive, WITHIN_SECONDS, "/healthz 200 once the store reopens")
        assert (await vigil.http.get("/readyz")).status_code == 200
        await vigil.ok('{ metricNames(project: "demo") }', auth=token(demo="admin"))
