"""geo room (see docs/architecture.md)."""
