"""System: health of every component, and the audit log."""
