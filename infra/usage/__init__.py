"""Usage analytics' adapters beside the stores: the read log's source."""

from infra.usage.reads import ReadNoting

__all__ = ["ReadNoting"]
