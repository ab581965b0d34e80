"""Alert evaluation: the engine of one process, and the cluster of several."""

from infra.alerting.cluster import AlertCluster
from infra.alerting.engine import AlertEngine
from infra.alerting.feed import StampedPublisher
from infra.alerting.leases import ShardLeases

__all__ = ["AlertCluster", "AlertEngine", "ShardLeases", "StampedPublisher"]
