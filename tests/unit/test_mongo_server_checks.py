"""The MongoDB server checks at open, on the answers real servers give (no server runs here).

The replies below are the shape of `buildInfo`, `hello` and `getParameter` as MongoDB 7.0
and 8.0 answer them; `tests/contract/test_mongo_server.py` runs the same checks against
a real server when VIGIL_TEST_MONGO_URL is set.
"""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from domain.errors import Unavailable
from infra.stores.mongo.database import pick_database
from infra.stores.mongo.server import check_server, fcv_problem, topology_problem, version_problem


def build(version: str) -> dict[str, Any]:
    numbers = [int(p) for p in version.split("-")[0].split(".")]
    return {"version": version, "versionArray": [*numbers, 0], "ok": 1.0}


@pytest.mark.parametrize("version", ["7.0.16", "7.0.21", "8.0.4", "8.0.12", "8.2.0", "9.0.0"])
def test_fixed_releases_are_accepted(version: str) -> None:
    assert version_problem(build(version)) is None


@pytest.mark.parametrize("version", ["6.0.20", "7.0.0", "7.0.15", "7.3.4", "8.0.0", "8.0.3"])
def test_releases_without_the_time_series_fixes_are_refused(version: str) -> None:
    problem = version_problem(build(version))
    assert problem == (
        f"MongoDB {version} is not supported: time-series collections before 7.0.16 and"
        " 8.0.4 can lose or hide points (SERVER-94559); upgrade MongoDB to 7.0.16 or later"
        " 7.0, or to 8.0.4 or later"
    )


def test_a_server_that_hides_its_version_is_refused() -> None:
    assert "did not report its version" in str(version_problem({"ok": 1.0}))


@pytest.mark.parametrize(("fcv", "ok"), [("7.0", True), ("8.0", True), ("6.0", False)])
def test_the_feature_compatibility_version_must_be_7_0_or_later(fcv: str, ok: bool) -> None:
    problem = fcv_problem({"featureCompatibilityVersion": {"version": fcv}, "ok": 1.0})
    if ok:
        assert problem is None
    else:
        assert problem == (
            "MongoDB's feature compatibility version is 6.0; Vigil needs 7.0 or later: run"
            " db.adminCommand({setFeatureCompatibilityVersion: '7.0', confirm: true})"
            " (or the version of the server's own release)"
        )


def test_a_standalone_server_is_refused_and_a_replica_set_or_mongos_accepted() -> None:
    assert topology_problem({"setName": "rs0", "isWritablePrimary": True}) is None
    assert topology_problem({"msg": "isdbgrid"}) is None
    assert "needs a replica set" in str(topology_problem({"isWritablePrimary": True}))


class _Server:
    """Answers the three commands as a server would (a unit test of check_server alone)."""

    def __init__(self, version: str, *, fcv: str = "8.0", may_read_fcv: bool = True) -> None:
        self.replies = {
            "buildInfo": build(version),
            "hello": {"setName": "rs0", "isWritablePrimary": True},
        }
        self.fcv, self.may_read_fcv = fcv, may_read_fcv
        self.client = self

    def __getitem__(self, name: str) -> _Server:
        assert name == "admin"
        return self

    async def command(self, command: str | dict[str, Any]) -> dict[str, Any]:
        if isinstance(command, str):
            return self.replies[command]
        assert command == {"getParameter": 1, "featureCompatibilityVersion": 1}
        if not self.may_read_fcv:
            raise OperationFailure("not authorized on admin to execute command", code=13)
        return {"featureCompatibilityVersion": {"version": self.fcv}, "ok": 1.0}


async def test_check_server_reports_the_version_and_fcv() -> None:
    features = await check_server(_Server("8.0.4"))  # type: ignore[arg-type]
    assert (features.version, features.fcv) == ("8.0.4", "8.0")


@pytest.mark.parametrize(
    ("server", "message"),
    [
        (_Server("7.0.14"), "MongoDB 7.0.14 is not supported"),
        (_Server("8.0.4", fcv="6.0"), "feature compatibility version is 6.0"),
        (_Server("8.0.4", may_read_fcv=False), "grant it the getParameter action"),
    ],
)
async def test_check_server_refuses_with_the_fix(server: _Server, message: str) -> None:
    with pytest.raises(Unavailable, match=message):
        await check_server(server)  # type: ignore[arg-type]


async def test_a_database_given_wins_over_the_one_the_url_names() -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1/production", connect=False
    )
    try:
        assert pick_database(client, "vigil_test_1").name == "vigil_test_1"
        assert pick_database(client, None).name == "production"
    finally:
        await client.close()
    bare: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1", connect=False
    )
    try:
        assert pick_database(bare, None).name == "vigil"
    finally:
        await bare.close()
