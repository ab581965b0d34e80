"""Usage analytics' adapters beside the stores: the read log's source, metered queries."""

from typing import Any

from domain.usage.runner import UsageRunner
from infra.usage.queries import metered
from infra.usage.reads import ReadNoting

__all__ = ["ReadNoting", "metered", "usage_dependencies"]


def usage_dependencies(stores: Any, runner: UsageRunner | None) -> dict[str, Any]:
    """The handlers' usage dependencies (domain/usage): the meter (queries are metered when
    it is wired, infra/bootstrap/routing.py), the store, and `metrics` replaced by the same
    store noting each metric read for the read log."""
    assert runner is not None  # built by build_runtimes
    return {
        "metrics": ReadNoting(stores.metrics, runner.meter),
        "usage_meter": runner.meter,
        "usage_store": stores.usage,
    }
