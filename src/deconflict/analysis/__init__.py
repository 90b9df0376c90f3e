"""analysis room (see docs/architecture.md)."""
