"""The embedded default store: metrics and the audit log in one DuckDB file."""

from infra.stores.duckdb.audit import DuckDBAuditStore
from infra.stores.duckdb.database import DuckDBDatabase
from infra.stores.duckdb.metrics import DuckDBMetricStore

__all__ = ["DuckDBAuditStore", "DuckDBDatabase", "DuckDBMetricStore"]
