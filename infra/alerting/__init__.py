"""Alert evaluation: the engine of one process, and the cluster of several."""

from domain.alerting.runtime.engine import AlertEngine
from infra.alerting.cluster import AlertCluster
from infra.alerting.leases import ShardLeases

__all__ = ["AlertCluster", "AlertEngine", "ShardLeases"]
