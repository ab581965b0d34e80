"""Usage analytics' adapters beside the stores: the read log's source, metered queries."""

from infra.usage.queries import metered
from infra.usage.reads import ReadNoting

__all__ = ["ReadNoting", "metered"]
