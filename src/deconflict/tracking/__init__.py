"""tracking room (see docs/architecture.md)."""
