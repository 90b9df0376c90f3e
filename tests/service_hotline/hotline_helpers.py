"""Helpers of the hotline service tests: the admin token and a client on a store URL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from deconflict.service import create_app
from deconflict.settings import Settings

ADMIN = "admin-token-for-hotline-tests"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def make_client(url: str, **settings: Any) -> TestClient:
    values: dict[str, Any] = {"database_url": url, "admin_token": ADMIN}
    values.update(settings)
    return TestClient(create_app(Settings(**values)))
