"""hotline room (see docs/architecture.md)."""
