"""engine room (see docs/architecture.md)."""
