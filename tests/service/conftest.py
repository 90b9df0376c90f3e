"""Service tests: the app in-process (TestClient), on SQLite in memory and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from service_helpers import ADMIN, Headers, make_client


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
def register(client: TestClient) -> Callable[[str], Headers]:
    """Register a party through the admin API; returns its auth headers."""

    def add(name: str) -> Headers:
        r = client.post(
            "/v1/parties",
            json={"name": name, "contact": f"ops@{name}"},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    return add
