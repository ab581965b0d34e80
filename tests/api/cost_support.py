"""The hand example of cost (docs/usage-and-cost.md, tests/unit/cost): two nodes, three
workloads, eight hours; its metrics as points, its pricing as GraphQL input, and the
operations the cost tests send."""

from __future__ import annotations

import time
from typing import Any

from tests.support import RunningVigil, token

HOUR_MS = 3_600_000
GIB = 2**30
ADMIN = token("ann", demo="admin")
VIEWER = token("vic", demo="viewer")
EDITOR = token("ed", demo="editor")

# (owner, node) -> (cpu request, cpu usage, memory request GiB, memory usage GiB)
WORKLOADS = {
    ("api", "n1"): (2.0, 2.5, 4.0, 3.0),  # over its CPU request
    ("batch", "n1"): (1.0, 0.25, 6.0, 2.0),  # under its requests
    ("web", "n2"): (1.0, 1.0, 2.0, 2.0),
}
NODES = {"n1": (4.0, 16.0), "n2": (2.0, 8.0)}  # cores, GiB

PRICES = [
    {"resource": "cpu_cores", "unit": "core-hour", "price": "0.031", "currency": "USD"},
    {"resource": "memory_bytes", "unit": "GiB-hour", "price": "0.004", "currency": "USD"},
]
MAPPING = {
    "ownerTag": "owner",
    "nodeTag": "node",
    "metrics": [
        {"resource": resource, "role": role, "metric": f"{short}.{role.lower()}"}
        for resource, short in (("cpu_cores", "cpu"), ("memory_bytes", "mem"))
        for role in ("REQUEST", "USAGE", "CAPACITY")
    ],
}

PRICING_FIELDS = """project currency version updatedBy ownerTag nodeTag
  prices { resource unit price currency validFrom } metrics { resource role metric }"""
CONFIGURE = f"""mutation($p: String!, $prices: [PriceInput!]!, $mapping: CostMappingInput!,
  $v: Int) {{ configurePricing(project: $p, prices: $prices, mapping: $mapping,
  expectedVersion: $v) {{ {PRICING_FIELDS} }} }}"""
PRICING = f"query($p: String!) {{ pricing(project: $p) {{ {PRICING_FIELDS} }} }}"
ROW = """tags cost values efficiency
  resources { resource cost idle unit requested used allocated efficiency }"""
REPORT = f"""query($p: String!, $from: DateTime, $to: DateTime, $step: String,
  $groupBy: [String!], $idle: IdleCost) {{
  costReport(project: $p, from: $from, to: $to, step: $step, groupBy: $groupBy,
             idle: $idle) {{
    currency total idleMode groupBy timestamps rows {{ {ROW} }} idle {{ {ROW} }} }} }}"""
POINTS = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""


async def app_duckdb(tmp_path: Any) -> None:
    """A store factory beside open_mongo_emulated: no database, the app opens its own
    DuckDB file."""
    return None


def example_start_ms(days_ago: int = 2) -> int:
    """An hour boundary `days_ago` days back: the example's eight hours start there."""
    now = int(time.time() * 1000)
    return (now - days_ago * 86_400_000) // HOUR_MS * HOUR_MS


def example_points(start_ms: int, hours: int = 8, every_ms: int = 600_000) -> list[dict[str, Any]]:
    """Constant values every 10 minutes: each hour's average is the value itself."""
    stamps = range(start_ms, start_ms + hours * HOUR_MS, every_ms)
    points: list[dict[str, Any]] = []
    for (owner, node), (cpu_req, cpu_use, mem_req, mem_use) in WORKLOADS.items():
        tags = {"owner": owner, "node": node, "team": "shop" if owner != "batch" else "data"}
        for name, value in (
            ("cpu.request", cpu_req),
            ("cpu.usage", cpu_use),
            ("mem.request", mem_req * GIB),
            ("mem.usage", mem_use * GIB),
        ):
            points += [{"name": name, "value": value, "tags": tags, "timestamp": t} for t in stamps]
    for node, (cores, gib) in NODES.items():
        for name, value in (("cpu.capacity", cores), ("mem.capacity", gib * GIB)):
            points += [
                {"name": name, "value": value, "tags": {"node": node}, "timestamp": t}
                for t in stamps
            ]
    return points


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


async def load_example(vigil: RunningVigil, project: str = "demo") -> int:
    """The example's points and pricing stored; the start of its eight hours (ms)."""
    start = example_start_ms()
    points = example_points(start)
    for i in range(0, len(points), 1000):
        await vigil.ok(POINTS, {"p": project, "points": points[i : i + 1000]}, auth=ADMIN)
    variables = {"p": project, "prices": PRICES, "mapping": MAPPING}
    await vigil.ok(CONFIGURE, variables, auth=ADMIN)
    return start


async def report(
    vigil: RunningVigil, start_ms: int, *, auth: str = VIEWER, **extra: Any
) -> dict[str, Any]:
    variables = {"p": "demo", "from": iso(start_ms), "to": iso(start_ms + 8 * HOUR_MS), **extra}
    found: dict[str, Any] = (await vigil.ok(REPORT, variables, auth=auth))["costReport"]
    return found
