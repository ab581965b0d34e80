"""Store adapters: each package implements the domain's store ports for one database."""
