"""Cost beside the bus: the writer of the vigil.cost.* series."""

from domain.cost.runtime.writer import LEASE_PREFIX, CostWriter, WriterSettings

__all__ = ["LEASE_PREFIX", "CostWriter", "WriterSettings"]
