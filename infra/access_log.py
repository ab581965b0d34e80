"""Accepted collector writes stay out of the access log unless asked for
(`VIGIL_ACCESS_LOG_WRITES`): a fleet of agents sends thousands a second, each a line with
nothing to act on (Prometheus and VictoriaMetrics log none). Refused ones are still logged."""

from __future__ import annotations

import logging
from typing import Final

__all__ = ["WRITE_PATHS", "QuietWrites"]

# The collector endpoints (infra/collectors/endpoints).
WRITE_PATHS: Final = frozenset({"/api/v1/write", "/write", "/api/v2/write", "/v1/metrics"})


class QuietWrites(logging.Filter):
    """A filter for the `uvicorn.access` logger: drops a POST to a write path answered 2xx."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or len(args) != 5:
            return True
        _, method, path, _, status = args
        return not (
            method == "POST"
            and isinstance(status, int)
            and 200 <= status < 300
            and isinstance(path, str)
            and path.partition("?")[0] in WRITE_PATHS
        )
