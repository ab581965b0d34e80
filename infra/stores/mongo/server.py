"""What Vigil needs of the MongoDB server, checked at open: version, FCV, a replica set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import OperationFailure

from domain.errors import Unavailable
from infra.stores.mongo.options import ServerFeatures
from infra.stores.mongo.schema import Database

__all__ = ["MIN_FCV", "check_server", "fcv_problem", "topology_problem", "version_problem"]

# SERVER-94559 (a time-series bucket whose minTime moved can crash mongod) is fixed in
# 7.0.16 and 8.0.4; 7.1 to 7.3 are rapid releases without the fix, past their end of life.
_FIXED_IN = {(7, 0): 16, (8, 0): 4}
_FIRST_FIXED_LINE = (8, 1)
MIN_FCV = (7, 0)  # time-series deletes by any field and $percentile are FCV-gated in 7.0
_UNAUTHORIZED = 13
_UPGRADE = "upgrade MongoDB to 7.0.16 or later 7.0, or to 8.0.4 or later"


def version_problem(build_info: Mapping[str, Any]) -> str | None:
    """Why this server version cannot hold Vigil's points, or None when it can."""
    version = str(build_info.get("version", "?"))
    parts = build_info.get("versionArray")
    numbers = tuple(int(p) for p in parts[:3]) if isinstance(parts, list) else ()
    if len(numbers) < 3:
        return f"MongoDB did not report its version ({version!r}); {_UPGRADE}"
    line, patch = (numbers[0], numbers[1]), numbers[2]
    if line >= _FIRST_FIXED_LINE or patch >= _FIXED_IN.get(line, 1 << 30):
        return None
    return (
        f"MongoDB {version} is not supported: time-series collections before 7.0.16 and"
        f" 8.0.4 can lose or hide points (SERVER-94559); {_UPGRADE}"
    )


def fcv_problem(reply: Mapping[str, Any]) -> str | None:
    """Why the feature compatibility version is too low, or None when it is enough."""
    fcv = reply.get("featureCompatibilityVersion")
    text = str(fcv.get("version", "?")) if isinstance(fcv, Mapping) else str(fcv)
    try:
        numbers = tuple(int(p) for p in text.split(".")[:2])
    except ValueError:
        numbers = ()
    if len(numbers) == 2 and numbers >= MIN_FCV:
        return None
    want = f"{MIN_FCV[0]}.{MIN_FCV[1]}"
    return (
        f"MongoDB's feature compatibility version is {text}; Vigil needs {want} or later:"
        f" run db.adminCommand({{setFeatureCompatibilityVersion: '{want}', confirm: true}})"
        " (or the version of the server's own release)"
    )


def topology_problem(hello: Mapping[str, Any]) -> str | None:
    """Why this deployment cannot give transactions and majority writes, or None."""
    if hello.get("setName") or hello.get("msg") == "isdbgrid":
        return None
    return (
        "MongoDB runs as a standalone server; Vigil needs a replica set (majority writes,"
        " transactions): start mongod with --replSet rs0 and run rs.initiate() once"
        " (a single-node replica set is enough)"
    )


async def check_server(db: Database) -> ServerFeatures:
    """The server's features, or `Unavailable` naming what is wrong and how to fix it."""
    build_info = await db.command("buildInfo")
    problem = version_problem(build_info)
    if problem is None:
        problem = topology_problem(await db.command("hello"))
    if problem is not None:
        raise Unavailable(f"MongoDB: {problem}")
    try:
        reply = await db.client["admin"].command(
            {"getParameter": 1, "featureCompatibilityVersion": 1}
        )
    except OperationFailure as exc:
        if exc.code != _UNAUTHORIZED:
            raise
        raise Unavailable(
            "MongoDB: Vigil's user may not read the feature compatibility version: grant it"
            " the getParameter action on the cluster (the vigilServer role of"
            " deploy/mongo-init.js) or the clusterMonitor role"
        ) from None
    problem = fcv_problem(reply)
    if problem is not None:
        raise Unavailable(f"MongoDB: {problem}")
    fcv = reply["featureCompatibilityVersion"]
    return ServerFeatures(str(build_info.get("version")), str(fcv.get("version", "")))
