"""Chart queries through the real ASGI app: `resolution` says which tier served the answer,
and the values are raw points' (rollup tiers, issue 13 item 2)."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from domain.storage.tiers import HOUR, MINUTE
from tests.support import make_settings, serve, token, until

CREATE = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
SERIES = """query($from: DateTime!, $to: DateTime!, $step: String!, $agg: Aggregation!) {
  metricSeries(project: "demo", name: "cpu", from: $from, to: $to, step: $step,
               aggregation: $agg) {
    resolution timestamps series { tags values } } }"""
STEP_US = {"30s": 30_000_000, "2m": 120_000_000, "10m": 600_000_000, "2h": 7_200_000_000}


def iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat().replace("+00:00", "Z")


def expected(points: list[dict], start: int, end: int, step: int, agg: str) -> dict[str, list]:
    first = start - start % step
    cells: dict[str, dict[int, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for p in points:
        ts = p["timestamp"] * 1000
        if start <= ts < end:
            cells[p["tags"]["host"]][(ts - first) // step].append((ts, p["value"]))
    count = -(-(end - first) // step)
    reduce = {
        "AVG": lambda c: sum(v for _, v in c) / len(c),
        "MAX": lambda c: max(v for _, v in c),
        "COUNT": lambda c: float(len(c)),
        "LAST": lambda c: max(c)[1],
    }[agg]
    return {
        host: [reduce(cell[i]) if i in cell else None for i in range(count)]
        for host, cell in cells.items()
    }


async def test_the_resolution_follows_the_step_and_the_values_are_raws(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, rollup_seconds=0.2, rollup_lag_seconds=60)
    async with serve(settings) as vigil:
        now_ms = int(time.time() * 1000)
        start_ms = now_ms - 5 * 3_600_000
        points = [
            {
                "name": "cpu",
                "value": float((i * 7 + h) % 50),
                "tags": {"host": f"h{h}"},
                "timestamp": start_ms + i * 20_000 + h * 333,
            }
            for h in range(3)
            for i in range(5 * 180)
        ]
        admin = token(demo="admin")
        for i in range(0, len(points), 1000):
            await vigil.ok(CREATE, {"p": "demo", "points": points[i : i + 1000]}, auth=admin)
        rollups = vigil.app.state.vigil.stores.rollups
        wanted = (now_ms * 1000 - 60_000_000) // MINUTE.resolution_us * MINUTE.resolution_us

        async def caught_up() -> bool:
            marks = await rollups.watermarks()
            dirty = await rollups.dirty_count(MINUTE) + await rollups.dirty_count(HOUR)
            return marks.get("1m", 0) >= wanted and dirty == 0

        await until(caught_up, 20, "the rollup runner caught up")

        start, end = start_ms * 1000 + 7_000_123, now_ms * 1000  # unaligned ends: stitched
        served = {}
        for step, agg in [
            ("30s", "AVG"),
            ("2m", "AVG"),
            ("10m", "MAX"),
            ("2h", "AVG"),
            ("2h", "LAST"),
            ("10m", "COUNT"),
        ]:
            variables = {"from": iso(start), "to": iso(end), "step": step, "agg": agg}
            answer = (await vigil.ok(SERIES, variables, auth=admin))["metricSeries"]
            served[step] = answer["resolution"]
            got = {line["tags"]["host"]: line["values"] for line in answer["series"]}
            assert got == expected(points, start, end, STEP_US[step], agg), (step, agg)
        assert served == {"30s": "raw", "2m": "1m", "10m": "1m", "2h": "1h"}
