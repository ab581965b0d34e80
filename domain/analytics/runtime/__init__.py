"""The analytics job runner: the state that lives beside the bus (jobs running here)."""

from domain.analytics.runtime.runner import JobRunner, RunnerSettings

__all__ = ["JobRunner", "RunnerSettings"]
