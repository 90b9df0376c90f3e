"""The USS side (/uss/v1) for operations Deconflict's own parties declare through /v1: an F3548
USS whose intent a /v1 operation meets learns that operation's OVN (and the parts that meet its
intent) from Deconflict, and proves awareness with it; a USS whose intents meet nothing of it
learns nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dss_helpers import Issuer, assert_message, dss_client, new_id, oir_body, register
from fastapi.testclient import TestClient
from service_helpers import volume

OIR = "/dss/v1/operational_intent_references"


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture()
def dss(db_url: str, tmp_path: Path, issuer: Issuer) -> Iterator[TestClient]:
    # the procedures let a higher priority be declared over a lower one (F3548's rule)
    with dss_client(db_url, tmp_path, issuer, conflict_rule="accept-by-priority") as c:
        yield c


def test_a_v1_operation_is_learnt_where_it_meets_ones_intent(
    dss: TestClient, issuer: Issuer
) -> None:
    register(dss, "uss1")
    register(dss, "uss2")
    blue = register(dss, "blue")
    a = new_id()
    made = dss.put(f"{OIR}/{a}", json=oir_body(), headers=issuer.headers("uss1")).json()
    ref_a = made["operational_intent_reference"]
    # blue declares over it through /v1, proving awareness with the token its 409 showed
    now = datetime.now(UTC)  # within the declared-time and disclosure bounds (issue 11)
    v1 = volume(
        7.005,
        46.005,
        0.01,
        start=(now - timedelta(hours=1)).isoformat(),
        end=(now + timedelta(hours=20)).isoformat(),
    )
    refused = dss.post("/v1/operations", json={"volumes": [v1]}, headers=blue)
    token_a = refused.json()["error"]["missing"][0]["token"]
    assert token_a == ref_a["ovn"]
    declared = {"volumes": [v1], "keys": [token_a], "priority": 5}
    b = dss.post("/v1/operations", json=declared, headers=blue)
    assert b.status_code == 201, b.text
    b_id = str(uuid.UUID(b.json()["id"]))
    # uss1's next update needs B's OVN: the 409 says where to ask (Deconflict itself)
    body = {**oir_body(), "subscription_id": ref_a["subscription_id"]}
    conflict = dss.put(f"{OIR}/{a}/{ref_a['ovn']}", json=body, headers=issuer.headers("uss1"))
    missing = conflict.json()["missing_operational_intents"]
    assert [m["id"] for m in missing] == [b_id]
    assert missing[0]["uss_base_url"] == "http://testserver" and "ovn" not in missing[0]
    got = dss.get(f"/uss/v1/operational_intents/{b_id}", headers=issuer.headers("uss1"))
    assert got.status_code == 200, got.text
    oi = got.json()["operational_intent"]
    assert oi["reference"]["ovn"] == b.json()["token"] and oi["reference"]["manager"] == "blue"
    vols = oi["details"]["volumes"]
    assert len(vols) == 1  # only the part that meets uss1's intent, in W84
    lats = [p["lat"] for p in vols[0]["volume"]["outline_polygon"]["vertices"]]
    assert min(lats) >= 46.005 - 1e-6 and max(lats) <= 46.01 + 1e-6
    assert vols[0]["volume"]["altitude_lower"]["reference"] == "W84"
    ok = dss.put(
        f"{OIR}/{a}/{ref_a['ovn']}",
        json={**body, "key": [oi["reference"]["ovn"]]},
        headers=issuer.headers("uss1"),
    )
    assert ok.status_code == 200, ok.text
    # uss2 has no intent there: it learns nothing of blue's operation
    assert_message(
        dss.get(f"/uss/v1/operational_intents/{b_id}", headers=issuer.headers("uss2")),
        404,
        "meets none of your",
    )
    # an intent of an F3548 USS is served by that USS, not by Deconflict
    assert_message(
        dss.get(f"/uss/v1/operational_intents/{a}", headers=issuer.headers("uss2")),
        404,
        "https://uss.example/utm",
    )
    # without a valid token, nothing
    assert dss.get(f"/uss/v1/operational_intents/{b_id}").status_code == 401
