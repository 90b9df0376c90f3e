"""identify room (see docs/architecture.md)."""
