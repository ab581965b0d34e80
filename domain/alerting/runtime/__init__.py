"""The alerting runtime: every enabled alert of this process, held in memory, evaluated as
points arrive; the one place where an alert's instances change state and become events."""

from domain.alerting.runtime.engine import AlertEngine, Picker, Publish

__all__ = ["AlertEngine", "Picker", "Publish"]
