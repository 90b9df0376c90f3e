"""strategic room (see docs/architecture.md)."""
