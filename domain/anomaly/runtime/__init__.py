"""The anomaly runtime: this process's detectors, fed by the alert engine."""

from domain.anomaly.runtime.bank import CoveredRule, DetectorBank

__all__ = ["CoveredRule", "DetectorBank"]
