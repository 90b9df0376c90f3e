"""Fuzz every endpoint with schemathesis, as each party: no server error, responses match the
schema, and no party ever reads more of another's operations than need-to-know allows."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from service_helpers import ADMIN, make_client, volume

from deconflict.service import create_app
from deconflict.settings import Settings

# alpha's secret operation sits where nobody else flies (south of Australia); its overlap with
# bravo is visible to bravo only as parts; charlie owns nothing and must see nothing
SECRET_AIRCRAFT = "SECRETAIRCRAFT1"
World = dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    db = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    heads: dict[str, dict[str, str]] = {}
    with make_client(db, conflict_rule="accept-by-priority") as client:
        for name in ("alpha", "bravo", "charlie"):
            r = client.post(
                "/v1/parties", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN}"}
            )
            heads[name] = {"Authorization": f"Bearer {r.json()['token']}"}

        def declare(who: str, vol: dict[str, Any], **extra: Any) -> dict[str, Any]:
            r = client.post("/v1/operations", json={"volumes": [vol], **extra}, headers=heads[who])
            assert r.status_code == 201, r.text
            return dict(r.json())

        hidden = declare(
            "alpha", volume(110.123, -61.456), aircraft_ids=[SECRET_AIRCRAFT], priority=9
        )
        shared = declare("alpha", volume(8.5, 47.4), aircraft_ids=[SECRET_AIRCRAFT], priority=9)
        declare("bravo", volume(8.505, 47.405), keys=[shared["token"]], priority=10)
    return {"db": db, "heads": heads, "hidden": hidden, "shared": shared}


def forbidden_for(world: World, party: str) -> list[str]:
    """Strings that must never appear in a response to ``party``."""
    hidden, shared = world["hidden"], world["shared"]
    words = [SECRET_AIRCRAFT, hidden["id"], hidden["token"], "110.123", "-61.456"]
    if party == "charlie":
        words += [shared["id"], shared["token"]]
    return words


@pytest.mark.slow
def test_fuzz_every_endpoint_as_each_party(world: World) -> None:
    app = create_app(
        Settings(
            database_url=world["db"],
            admin_token=ADMIN,
            separation_standard="none",
            conflict_rule="accept-by-priority",
        )
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    seen: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        seen.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case: Any) -> None:
            for party in ("bravo", "charlie"):
                response = case.call(headers=world["heads"][party])
                where = (party, case.method, case.formatted_path)
                assert response.status_code < 500, (*where, response.text)
                for word in forbidden_for(world, party):
                    assert word not in response.content.decode("utf-8", "replace"), (*where, word)
                if response.status_code >= 400:
                    body = response.json()
                    assert set(body) == {"error"}, (*where, body)
                    assert {"code", "message", "hint"} <= set(body["error"])

        run()
    assert len(seen) >= 12, seen


def test_fuzzed_world_is_as_set_up(world: World) -> None:
    """The secrets are there to be found by their owner: the fuzz checks are not vacuous."""
    app = create_app(
        Settings(database_url=world["db"], admin_token=ADMIN, separation_standard="none")
    )
    with TestClient(app) as client:
        own = client.get(f"/v1/operations/{world['hidden']['id']}", headers=world["heads"]["alpha"])
        assert SECRET_AIRCRAFT in own.text
        seen = client.get(
            f"/v1/operations/{world['shared']['id']}", headers=world["heads"]["bravo"]
        )
        assert seen.status_code == 200 and world["shared"]["token"] in seen.text
        assert SECRET_AIRCRAFT not in seen.text
        assert (
            client.get(
                f"/v1/operations/{world['hidden']['id']}", headers=world["heads"]["bravo"]
            ).status_code
            == 404
        )
