"""What a request leaves behind in the server's memory once it is answered."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import orjson
import psutil
import pytest

from infra.config import ConfigError, Settings
from tests.support import RunningVigil, make_settings, serve, token

CREATE = """
mutation($project: String!, $points: PointBatch!) {
  createMetrics(project: $project, points: $points) { accepted }
}"""
NAME = "memory.left.behind"


def _body(points: int) -> bytes:
    now_ms = int(time.time() * 1000)
    batch = [
        {"name": NAME, "value": float(i), "timestamp": now_ms - i, "tags": {"host": "a"}}
        for i in range(points)
    ]
    return orjson.dumps({"query": CREATE, "variables": {"project": "demo", "points": batch}})


def _points_alive() -> int:
    """The request's point objects (the series catalogue keeps a series' own form)."""
    return sum(
        1
        for o in gc.get_objects()
        if isinstance(o, dict) and o.get("name") == NAME and "timestamp" in o
    )


async def test_a_batch_does_not_outlive_its_request(vigil: RunningVigil) -> None:
    """graphql-core's executor is a reference cycle that holds the request's variables;
    without the garbage collector (rare full collections in `vigil serve`), a stored batch
    must still be freed when its request is answered."""
    headers = {"Authorization": f"Bearer {token(demo='admin')}"}
    body = _body(2_000)
    gc.collect()
    gc.disable()
    try:
        response = await vigil.http.post(
            "/graphql", content=body, headers=headers | {"content-type": "application/json"}
        )
        assert response.json() == {"data": {"createMetrics": {"accepted": 2_000}}}
        assert _points_alive() == 0
    finally:
        gc.enable()


async def test_a_refused_batch_changes_nothing_and_is_answered(vigil: RunningVigil) -> None:
    """The batch is emptied only once stored: a refusal still names the bad point."""
    admin = token(demo="admin")
    points = [{"name": NAME, "value": 1.0, "timestamp": 0}, {"name": NAME, "value": "x"}]
    body = await vigil.gql(CREATE, {"project": "demo", "points": points}, auth=admin)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    query = 'query { metricNames(project: "demo") }'
    names = await vigil.gql(query, auth=admin)
    assert NAME not in str(names)


async def test_duckdb_keeps_to_the_configured_memory_limit(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, store_memory_limit_mb=96)) as running:
        memory = await running.app.state.vigil.stores.memory()
    assert memory["limit_bytes"] == 96 * 2**20
    assert 0 < memory["used_bytes"] < memory["limit_bytes"]


async def test_the_default_limit_is_vigils_and_zero_leaves_duckdbs_own(
    vigil: RunningVigil, tmp_path: Path
) -> None:
    assert (await vigil.app.state.vigil.stores.memory())["limit_bytes"] == 512 * 2**20
    async with serve(make_settings(tmp_path / "own", store_memory_limit_mb=0)) as running:
        own = await running.app.state.vigil.stores.memory()
    # DuckDB's own default: 80% of the machine's memory (as DuckDB rounds it for display)
    assert own["limit_bytes"] == pytest.approx(0.8 * psutil.virtual_memory().total, rel=0.01)


@pytest.mark.parametrize("value", ["10", "-1", "half"])
def test_a_memory_limit_that_cannot_work_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="VIGIL_STORE_MEMORY_LIMIT_MB"):
        Settings.from_env({"VIGIL_STORE_MEMORY_LIMIT_MB": value})
