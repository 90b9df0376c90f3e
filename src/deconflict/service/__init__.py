"""service room: the web app factory (FastAPI), bearer-token auth scoped to parties, routes,
WebSocket notifications and one JSON error shape."""

from deconflict.service.app import create_app

__all__ = ["create_app"]
