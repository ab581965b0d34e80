"""Cost analytics: a project's price table and metric mapping, and what its owners cost."""
