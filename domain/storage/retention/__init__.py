"""Retention: how long each project keeps each tier, per-metric overrides, legal holds."""
