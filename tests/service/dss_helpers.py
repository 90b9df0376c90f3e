"""Helpers of the F3548 DSS tests: an RSA token issuer, F3548 volumes and bodies, clients."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from service_helpers import ADMIN, make_client

SC = "utm.strategic_coordination"
CM = "utm.constraint_management"
CP = "utm.constraint_processing"
CMSA = "utm.conformance_monitoring_sa"
AA = "utm.availability_arbitration"
AUDIENCE = "testserver"  # the host name TestClient's requests are made to


class Issuer:
    """An OAuth server's signing key: RS256 tokens as InterUSS's NoAuth adapter makes them."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def token(
        self,
        sub: str,
        scope: str = SC,
        *,
        aud: str = AUDIENCE,
        exp_in_s: float = 3600.0,
        nbf_in_s: float = -10.0,
    ) -> str:
        now = time.time()
        claims = {
            "sub": sub,
            "client_id": sub,
            "scope": scope,
            "aud": aud,
            "iss": "test",
            "exp": int(now + exp_in_s),
            "nbf": int(now + nbf_in_s),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.key, algorithm="RS256")

    def headers(self, sub: str, scope: str = SC, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, scope, **kw)}"}


def dss_client(url: str, tmp_path: Path, issuer: Issuer, **settings: Any) -> TestClient:
    pem = tmp_path / "issuer.pem"
    pem.write_bytes(issuer.public_pem())
    return make_client(url, f3548_token_public_key=str(pem), **settings)


def register(client: TestClient, name: str) -> dict[str, str]:
    """Register a USS as a party (by the host); its /v1 headers."""
    r = client.post(
        "/v1/parties",
        json={"name": name, "contact": f"ops@{name}"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def rfc3339(t_s: float) -> dict[str, str]:
    return {
        "value": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_s)),
        "format": "RFC3339",
    }


def f3548_volume(
    lat0: float = 46.0,
    lng0: float = 7.0,
    size_deg: float = 0.01,
    *,
    start_s: float | None = None,
    minutes: float = 60.0,
    lower_m: float = 0.0,
    upper_m: float = 120.0,
) -> dict[str, Any]:
    """An F3548 ``Volume4D``: a square (south-west corner given), W84 metres, RFC 3339 times."""
    t0 = time.time() + 600.0 if start_s is None else start_s
    return {
        "volume": {
            "outline_polygon": {
                "vertices": [
                    {"lat": lat0, "lng": lng0},
                    {"lat": lat0, "lng": lng0 + size_deg},
                    {"lat": lat0 + size_deg, "lng": lng0 + size_deg},
                    {"lat": lat0 + size_deg, "lng": lng0},
                ]
            },
            "altitude_lower": {"value": lower_m, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": upper_m, "reference": "W84", "units": "M"},
        },
        "time_start": rfc3339(t0),
        "time_end": rfc3339(t0 + minutes * 60.0),
    }


def oir_body(
    *volumes: dict[str, Any], key: list[str] | None = None, state: str = "Accepted", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "extents": list(volumes) or [f3548_volume()],
        "key": key or [],
        "state": state,
        "uss_base_url": "https://uss.example/utm",
        "new_subscription": {"uss_base_url": "https://uss.example/utm"},
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def new_id() -> str:
    return str(uuid.uuid4())


def assert_message(response: Any, status: int, *words: str) -> str:
    """An F3548 error: ``status``, body exactly ``{"message": ...}`` containing ``words``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message"}, body
    for w in words:
        assert w.lower() in body["message"].lower(), body["message"]
    return str(body["message"])
