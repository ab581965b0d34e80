"""Alert evaluation in this process: the engine behind the domain's AlertEngine port."""

from infra.alerting.engine import AlertEngine

__all__ = ["AlertEngine"]
