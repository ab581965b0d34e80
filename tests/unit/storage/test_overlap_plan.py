"""The careful plan (a retry, a backfill, a point sent twice): the last arrival of each
(series, timestamp) is kept, stored points at kept keys are replaced, and each series'
new bound is the newest timestamp it keeps (infra/stores/duckdb/overlap.py)."""

from __future__ import annotations

import numpy as np

from infra.stores.duckdb.overlap import Columns, LatestStamps


def test_the_careful_plan_keeps_last_arrivals_and_bounds_each_series_by_its_newest() -> None:
    rng = np.random.default_rng(11)
    for _ in range(50):
        n_series = int(rng.integers(1, 30))
        n = int(rng.integers(1, 400))
        slot = rng.integers(0, n_series, n)
        ts = rng.integers(0, 60, n) + 10_000
        value = rng.random(n)
        ids = [1_000 + 7 * s for s in range(n_series)]
        bounds = rng.integers(9_990, 10_070, n_series)
        columns = Columns(ids, slot.astype(np.int64), ts.astype(np.int64), value)

        plan = LatestStamps()._careful(columns, bounds.astype(np.int64))

        last_of: dict[tuple[int, int], float] = {}
        for s, t, v in zip(slot.tolist(), ts.tolist(), value.tolist(), strict=True):
            last_of[(ids[s], t)] = v  # the last arrival wins
        inserted = plan.insert
        got = {
            (int(sid), int(t)): float(v)
            for sid, t, v in zip(
                inserted["series_id"], inserted["ts"].view(np.int64), inserted["value"], strict=True
            )
        }
        assert got == last_of
        newest: dict[int, int] = {}
        for sid, t in last_of:
            newest[sid] = max(newest.get(sid, t), t)
        assert dict(zip(*plan.latest, strict=True)) == newest
        may_be_stored = {(sid, t) for sid, t in last_of if t <= bounds[ids.index(sid)]}
        replaced = set()
        if plan.replaced is not None:
            replaced = set(
                zip(
                    plan.replaced["series_id"].tolist(),
                    plan.replaced["ts"].view(np.int64).tolist(),
                    strict=True,
                )
            )
        assert replaced == may_be_stored
