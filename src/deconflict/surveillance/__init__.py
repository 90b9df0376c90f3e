"""surveillance room (see docs/architecture.md)."""
