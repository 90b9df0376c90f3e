"""Hotline service tests: the app in-process (TestClient), on SQLite in memory and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hotline_helpers import ADMIN_HEADERS, make_client


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "sqlite://"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture()
def client(db_url: str) -> Iterator[TestClient]:
    with make_client(db_url) as c:
        yield c


@pytest.fixture()
def register(client: TestClient) -> Callable[..., dict[str, Any]]:
    """Register a party through the admin API; returns its record with ``headers`` added."""

    def add(name: str, public_key: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name}
        if public_key is not None:
            body["public_key"] = public_key
        r = client.post("/v1/parties", json=body, headers=ADMIN_HEADERS)
        assert r.status_code == 201, r.text
        out = dict(r.json())
        out["headers"] = {"Authorization": f"Bearer {out['token']}"}
        return out

    return add
