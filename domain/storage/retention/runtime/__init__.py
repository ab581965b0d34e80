"""Retention beside the bus: the policies ingest consults, and the runner that deletes."""

from domain.storage.retention.runtime.book import PolicyBook
from domain.storage.retention.runtime.evidence import RetentionReport
from domain.storage.retention.runtime.runner import ProjectRun, RetentionRunner, RunnerSettings

__all__ = ["PolicyBook", "ProjectRun", "RetentionReport", "RetentionRunner", "RunnerSettings"]
