"""`python -m bench` runs every benchmark; `python -m bench ingest query` runs those named.

Each benchmark prints one JSON object on stdout (one line each); progress goes to stderr.
The query benchmark reads the ingest benchmark's data: run alone, it loads the points
first (untimed).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from bench import (
    alerts,
    analytics,
    anomaly,
    audit,
    budget,
    bussign,
    collectors,
    cost,
    fanout,
    ingest,
    memory,
    query,
    report_files,
    report_schedules,
    reports,
    request_cost,
    rollup_refresh,
    storage,
    store_faults,
    templates,
    tenants,
    usage,
)
from bench.common import Context, log, raise_nofile, wait_quiet

BENCHMARKS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "ingest": ingest.run,
    "query": query.run,
    "fanout": fanout.run,
    "alerts": alerts.run,
    "collectors": collectors.run,
    "analytics": analytics.run,
    "audit": audit.run,
    "anomaly": anomaly.run,
    "bussign": bussign.run,
    "templates": templates.run,
    "budget": budget.run,
    "store_faults": store_faults.run,
    "tenants": tenants.run,
    "storage": storage.run,
    "memory": memory.run,
    "request_cost": request_cost.run,
    "cost": cost.run,
    "reports": reports.run,
    "report_files": report_files.run,
    "schedules": report_schedules.run,
    "usage": usage.run,
    "rollup_refresh": rollup_refresh.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose among {', '.join(BENCHMARKS)}")
    log(f"open files limit: {raise_nofile()}")
    ctx = Context.create()
    log(f"working in {ctx.tmp}")
    failed = 0
    try:
        for name in names:
            quiet = wait_quiet()
            started = time.monotonic()
            try:
                result = BENCHMARKS[name](ctx)
                result.setdefault("machine", {}).update(quiet)
            except Exception as exc:  # report and go on with the others
                failed += 1
                result = {"benchmark": name, "error": f"{type(exc).__name__}: {exc}"[:2000]}
            result["elapsed_seconds"] = round(time.monotonic() - started, 1)
            sys.stdout.write(orjson.dumps(result).decode() + "\n")
            sys.stdout.flush()
    finally:
        if args.keep:
            log(f"kept {ctx.tmp}")
        else:
            ctx.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
