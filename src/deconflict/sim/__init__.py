"""sim room (see docs/architecture.md)."""
