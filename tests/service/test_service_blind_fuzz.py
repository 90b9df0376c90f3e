"""Fuzz the blind endpoints under blind procedures, as a party: no server error, one error
shape, and nothing of another party's blind operation (its commitment, its token) leaks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from service_helpers import ADMIN, make_client

from deconflict.service import create_app
from deconflict.settings import Settings

SECRET = "5e" * 32  # alpha's commitment


@pytest.mark.slow
def test_fuzz_blind_endpoints(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'fuzz.db'}"
    heads: dict[str, dict[str, str]] = {}
    with make_client(db, disclosure="blind") as client:
        for name in ("alpha", "bravo"):
            r = client.post(
                "/v1/parties", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN}"}
            )
            heads[name] = {"Authorization": f"Bearer {r.json()['token']}"}
        r = client.post(
            "/v1/blind/operations",
            json={"commitment": SECRET, "expires": "2099-01-01T00:00:00Z"},
            headers=heads["alpha"],
        )
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        # not vacuous: the owner reads both back
        own = client.get("/v1/blind/operations", headers=heads["alpha"]).text
        assert SECRET in own and token in own
    app = create_app(
        Settings(database_url=db, admin_token=ADMIN, separation_standard="none", disclosure="blind")
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    seen = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if "/v1/blind" not in operation.label:
            continue
        seen.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case: Any) -> None:
            response = case.call(headers=heads["bravo"])
            where = (case.method, case.formatted_path)
            assert response.status_code < 500, (*where, response.text)
            text = response.content.decode("utf-8", "replace")
            assert SECRET not in text and token not in text, where
            if response.status_code >= 400:
                assert set(response.json()) == {"error"}, (*where, response.text)

        run()
    assert len(seen) == 8, seen
