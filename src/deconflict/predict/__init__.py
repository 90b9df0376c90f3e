"""predict room (see docs/architecture.md)."""
