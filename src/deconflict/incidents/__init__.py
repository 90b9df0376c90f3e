"""incidents room (see docs/architecture.md)."""
