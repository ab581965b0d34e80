"""The store contract suite: every store adapter must pass it unchanged."""
