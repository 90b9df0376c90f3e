"""Health, OpenAPI, authentication and the one error shape."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from service_helpers import ADMIN, Headers, assert_error


def test_health_and_openapi(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    for path in ("/v1/operations", "/v1/operations/{operation_id}", "/v1/events", "/v1/parties"):
        assert path in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_errors_have_one_shape(client: TestClient, register: Callable[[str], Headers]) -> None:
    alpha = register("alpha")
    assert_error(client.get("/no/such/path"), 404, "not_found")
    assert_error(client.delete("/health"), 405, "method_not_allowed")
    assert_error(client.get("/v1/operations"), 401, "unauthenticated", "bearer")
    assert_error(
        client.get("/v1/operations", headers={"Authorization": "Bearer nope"}),
        401,
        "unauthenticated",
        "not known",
    )
    assert_error(client.get("/v1/parties", headers=alpha), 403, "forbidden", "host")
    assert_error(
        client.post("/v1/operations", content=b"{not json", headers=alpha), 422, "invalid_input"
    )
    assert_error(
        client.post("/v1/operations", json={"volumes": []}, headers=alpha),
        422,
        "invalid_input",
        "volumes",
    )
    assert_error(client.get("/v1/operations/abc123", headers=alpha), 404, "not_found")


def test_parties_are_the_hosts(client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    made = client.post("/v1/parties", json={"name": "alpha"}, headers=admin).json()
    assert made["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert len(made["token"]) >= 32
    from deconflict.hotline.keys import (
        generate_private_key,
        private_key_from_pem,
        public_key_to_b64,
    )

    key = private_key_from_pem(made["private_key_pem"].encode())
    assert public_key_to_b64(key.public_key()) == made["public_key"]
    own = public_key_to_b64(generate_private_key().public_key())  # bravo's own key pair
    given = client.post(
        "/v1/parties", json={"name": "bravo", "public_key": own}, headers=admin
    ).json()
    assert given["public_key"] == own and given.get("private_key_pem") is None
    assert_error(
        client.post("/v1/parties", json={"name": "alpha"}, headers=admin),
        409,
        "conflict",
        "already registered",
    )
    assert_error(
        client.post("/v1/parties", json={"name": "c", "public_key": "abc"}, headers=admin),
        422,
        "invalid_input",
        "public key",
    )
    names = [p["name"] for p in client.get("/v1/parties", headers=admin).json()]
    assert names == ["alpha", "bravo"]
    me = client.get("/v1/parties/me", headers={"Authorization": f"Bearer {made['token']}"})
    assert me.json()["name"] == "alpha" and "token" not in me.json()
    # the host's token cannot act as a party
    assert_error(client.get("/v1/operations", headers=admin), 403, "forbidden")
