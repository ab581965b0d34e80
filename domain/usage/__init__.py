"""Usage analytics: what each project ingests, stores, reads and renders, per minute."""
