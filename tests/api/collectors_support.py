"""What the collector tests read back through the GraphQL API, as a user would."""

from __future__ import annotations

from typing import Any

from tests.support import RunningVigil, token

ADMIN = token("admin", demo="admin")

_POINTS = """
query ($project: String!, $name: String!) {
  metrics(project: $project, name: $name, first: 1000) {
    items { name value tags timestamp type source }
  }
}
"""
_NAMES = "query ($project: String!) { metricNames(project: $project) }"
_METADATA = """
query ($project: String!, $prefix: String!) {
  metricMetadata(project: $project, prefix: $prefix) { name type help unit }
}
"""
_AUDIT = """
query ($project: String!) {
  auditLog(project: $project, action: "CreateMetricsCommand", first: 100) {
    actor outcome detail
  }
}
"""


async def points(vigil: RunningVigil, name: str, project: str = "demo") -> list[dict[str, Any]]:
    """The stored points of a metric, oldest first."""
    auth = token("admin", **{project: "admin"})
    data = await vigil.ok(_POINTS, {"project": project, "name": name}, auth=auth)
    items: list[dict[str, Any]] = data["metrics"]["items"]
    return items[::-1]


async def values(vigil: RunningVigil, name: str, project: str = "demo") -> list[float]:
    return [p["value"] for p in await points(vigil, name, project)]


async def names(vigil: RunningVigil, project: str = "demo") -> list[str]:
    data = await vigil.ok(_NAMES, {"project": project}, auth=token("admin", **{project: "admin"}))
    found: list[str] = data["metricNames"]
    return found


async def metadata(vigil: RunningVigil, prefix: str = "") -> dict[str, dict[str, Any]]:
    data = await vigil.ok(_METADATA, {"project": "demo", "prefix": prefix}, auth=ADMIN)
    return {m["name"]: m for m in data["metricMetadata"]}


async def audit(vigil: RunningVigil, project: str = "demo") -> list[dict[str, Any]]:
    """The ingest entries of the audit trail, newest first."""
    auth = token("admin", **{project: "admin"})
    data = await vigil.ok(_AUDIT, {"project": project}, auth=auth)
    entries: list[dict[str, Any]] = data["auditLog"]
    return entries
