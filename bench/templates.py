"""Notification templates (issue 12, item 5): what rendering in a worker process costs and
what it buys, as ratios measured in one run.

- `per_message`: a typical user template (a loop over 20 alerts and their tags) rendered
  in-process within the budgets versus through the worker pool (pickling, a pipe, a
  process switch): the pool's extra cost per message.
- `counting`: the same 3M-iteration loop in Jinja2's plain sandbox versus the budgeted
  one (a counter per iteration): the price of the iteration budget.
- `loop_stall`: a 3M-iteration template rendered on the event loop versus in the pool,
  while a task ticks every millisecond: the longest the loop went without ticking, and
  how many ticks ran during the render.
- `refusal`: how long the issue's 30M-iteration template takes to be refused by the
  iteration budget (it stops at the 100,000th iteration).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import psutil
from jinja2.sandbox import SandboxedEnvironment

from bench.common import Context, log, machine, ratio
from infra.notifications.templates.budget import (
    BudgetedEnvironment,
    RenderRefused,
    TemplateBudget,
    render_within,
)
from infra.notifications.templates.pool import RenderPool

__all__ = ["run"]

TYPICAL = (
    "{% for a in alerts %}{{ a.status | upper }} {{ a.alertname }}"
    "{% for k, v in a.tags.items() %} {{ k }}={{ v }}{% endfor %}\n{% endfor %}"
)
HEAVY = "{% for a in range(1000) %}{% for b in range(3000) %}{% endfor %}{% endfor %}done"
THIRTY_MILLION = "{% for a in range(10000) %}{% for b in range(3000) %}{% endfor %}{% endfor %}"
CONTEXT: dict[str, Any] = {
    "alerts": [
        {"status": "firing", "alertname": f"cpu {i}", "tags": {"host": f"web-{i}", "dc": "eu"}}
        for i in range(20)
    ]
}
ROUNDS = 300


async def _per_message(pool: RenderPool, env: BudgetedEnvironment) -> dict[str, Any]:
    await pool.render(TYPICAL, CONTEXT, trial=False)  # start and warm the worker
    local, pooled = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        render_within(env, TYPICAL, CONTEXT)
        local.append(time.perf_counter() - started)
        started = time.perf_counter()
        await pool.render(TYPICAL, CONTEXT, trial=False)
        pooled.append(time.perf_counter() - started)
    in_process, in_pool = statistics.median(local), statistics.median(pooled)
    return {
        "in_process_median_us": round(in_process * 1e6, 1),
        "pool_median_us": round(in_pool * 1e6, 1),
        "pool_over_in_process": ratio(in_pool, in_process),
    }


def _counting(budget: TemplateBudget) -> dict[str, Any]:
    plain = SandboxedEnvironment().from_string(HEAVY)
    budgeted = BudgetedEnvironment(budget)
    started = time.perf_counter()
    plain.render()
    plain_s = time.perf_counter() - started
    started = time.perf_counter()
    render_within(budgeted, HEAVY, {})
    counted_s = time.perf_counter() - started
    return {
        "plain_sandbox_s": round(plain_s, 3),
        "budgeted_s": round(counted_s, 3),
        "budgeted_over_plain": ratio(counted_s, plain_s),
    }


async def _stall(render: Any) -> dict[str, Any]:
    """Render while a task ticks every ms: the longest gap between ticks, and the ticks."""
    gaps: list[float] = []
    stop = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.01)
    gaps.clear()
    started = time.perf_counter()
    await render()
    elapsed = time.perf_counter() - started
    stop.set()
    await ticker
    return {
        "render_s": round(elapsed, 3),
        "longest_gap_ms": round(max(gaps, default=elapsed) * 1000, 1),
        "ticks": len(gaps),
    }


async def _measure() -> dict[str, Any]:
    budget = TemplateBudget(max_iterations=10**9, timeout_seconds=600.0)
    env = BudgetedEnvironment(budget)
    pool = RenderPool(budget)
    try:
        log("templates: per-message cost")
        per_message = await _per_message(pool, env)
        log("templates: the cost of counting iterations")
        counting = _counting(budget)

        async def on_loop() -> None:
            render_within(env, HEAVY, {})

        async def in_pool() -> None:
            await pool.render(HEAVY, {}, trial=False)

        log("templates: the event loop during a heavy render")
        loop_stall = {"on_loop": await _stall(on_loop), "in_pool": await _stall(in_pool)}
        loop_stall["longest_gap_on_loop_over_in_pool"] = ratio(
            loop_stall["on_loop"]["longest_gap_ms"], loop_stall["in_pool"]["longest_gap_ms"]
        )
        children = psutil.Process().children(recursive=True)
        worker_rss = max((c.memory_info().rss for c in children), default=0)
    finally:
        await pool.close()
    strict = BudgetedEnvironment(TemplateBudget())
    started = time.perf_counter()
    try:
        render_within(strict, THIRTY_MILLION, {}, trial=True)
        refused = ""
    except RenderRefused as exc:
        refused = str(exc)
    return {
        "per_message": per_message,
        "counting": counting,
        "loop_stall": loop_stall,
        "refusal": {
            "thirty_million_refused_in_ms": round((time.perf_counter() - started) * 1000, 2),
            "message": refused,
        },
        "worker_rss_mb": round(worker_rss / 2**20, 1),
    }


def run(ctx: Context) -> dict[str, Any]:
    result = asyncio.run(_measure())
    return {"benchmark": "templates", "machine": machine(), **result}
