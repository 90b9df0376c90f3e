"""workflows room: the shared service's domain workflows on the store (see docs/architecture.md)."""
