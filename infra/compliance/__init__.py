"""Compliance wired to the running Vigil: keys, ledgers, revocations, jobs and health."""

from infra.compliance.wiring import METRIC_READS, Compliance

__all__ = ["METRIC_READS", "Compliance"]
