"""Attack tests: the app in-process (TestClient) with three parties and the admin, on SQLite in
memory and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from security_helpers import Cast, make_client, register


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
def cast(client: TestClient) -> Cast:
    """Three parties (blue, red, civil) registered with key pairs made by the service."""
    return Cast({name: register(client, name) for name in ("blue", "red", "civil")})
