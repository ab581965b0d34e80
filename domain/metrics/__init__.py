"""Metrics: points in (ingest), the store port, chart and discovery queries, live points out."""
