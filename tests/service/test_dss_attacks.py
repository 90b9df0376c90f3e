"""Attacks on the F3548 DSS API, on SQLite and PostgreSQL: tokens that must not pass (another
audience, expired, not yet valid, another key, no scope, a forged algorithm), a USS the host
never registered, and one USS changing, deleting or borrowing the OVN of another's entities.
Every refusal leaves the store as it was."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from dss_helpers import (
    CM,
    CMSA,
    SC,
    Issuer,
    assert_message,
    dss_client,
    f3548_volume,
    new_id,
    oir_body,
    register,
)
from fastapi.testclient import TestClient
from service_helpers import ADMIN

OIR = "/dss/v1/operational_intent_references"


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture()
def dss(db_url: str, tmp_path: Path, issuer: Issuer) -> Iterator[TestClient]:
    with dss_client(db_url, tmp_path, issuer) as c:
        register(c, "uss1")
        register(c, "uss2")
        yield c


def _query(dss: TestClient, headers: dict[str, str]) -> int:
    r = dss.post(f"{OIR}/query", json={"area_of_interest": f3548_volume()}, headers=headers)
    return r.status_code


def test_tokens_that_must_not_pass(dss: TestClient, issuer: Issuer) -> None:
    assert _query(dss, issuer.headers("uss1")) == 200
    cases = {
        "no token": {},
        "not bearer": {"Authorization": "Basic dXNzMTp4"},
        "another audience": issuer.headers("uss1", aud="dss.elsewhere.example"),
        "expired": issuer.headers("uss1", exp_in_s=-60.0, nbf_in_s=-3600.0),
        "not yet valid": issuer.headers("uss1", nbf_in_s=600.0),
        "another key": Issuer().headers("uss1"),
        "empty scope": issuer.headers("uss1", scope=""),
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        # the service's own tokens are no F3548 credentials: the host's admin, a /v1 party
        "the host's admin token": {"Authorization": f"Bearer {ADMIN}"},
        "a /v1 party's token": register(dss, "blue"),
    }
    for name, headers in cases.items():
        r = dss.post(f"{OIR}/query", json={"area_of_interest": f3548_volume()}, headers=headers)
        assert r.status_code == 401, (name, r.text)
        assert set(r.json()) == {"message"}, name
    # HS256 signed with the public key as the secret (the classic algorithm confusion)
    now = int(time.time())
    claims = {"sub": "uss1", "scope": SC, "aud": "testserver", "exp": now + 60}
    forged = jwt.encode(claims, uuid.uuid4().hex, algorithm="HS256")
    r = dss.post(
        f"{OIR}/query",
        json={"area_of_interest": f3548_volume()},
        headers={"Authorization": f"Bearer {forged}"},
    )
    assert_message(r, 401)
    # valid, but a scope the operation does not allow: 403
    assert_message(
        dss.post(
            f"{OIR}/query",
            json={"area_of_interest": f3548_volume()},
            headers=issuer.headers("uss1", CM),
        ),
        403,
        "scope",
    )
    # valid, but a USS the host never registered
    assert_message(
        dss.post(
            f"{OIR}/query",
            json={"area_of_interest": f3548_volume()},
            headers=issuer.headers("mallory"),
        ),
        403,
        "deconflict party add mallory",
    )


def test_the_audience_is_the_host_name_or_the_setting(
    db_url: str, tmp_path: Path, issuer: Issuer
) -> None:
    with dss_client(db_url, tmp_path, issuer, f3548_token_audience="dss.example") as c:
        register(c, "uss1")
        assert _query(c, issuer.headers("uss1")) == 401  # aud=testserver no longer passes
        assert _query(c, issuer.headers("uss1", aud="dss.example")) == 200


def test_no_key_configured_refuses_everything(db_url: str) -> None:
    from service_helpers import make_client

    with make_client(db_url) as c:
        r = c.post(f"{OIR}/query", json={}, headers=Issuer().headers("uss1"))
        assert_message(r, 401, "f3548_token_public_key")


def test_a_uss_cannot_touch_anothers_intent(dss: TestClient, issuer: Issuer) -> None:
    oid = new_id()
    made = dss.put(f"{OIR}/{oid}", json=oir_body(), headers=issuer.headers("uss1")).json()
    ovn = made["operational_intent_reference"]["ovn"]
    store = dss.app.state.store
    before = store.get_operation(uuid.UUID(oid).hex)
    # uss2 knows the OVN (say it leaked) and still may not change or delete it
    changed = dss.put(
        f"{OIR}/{oid}/{ovn}", json=oir_body(key=[ovn]), headers=issuer.headers("uss2")
    )
    assert_message(changed, 403, "another USS")
    assert_message(dss.delete(f"{OIR}/{oid}/{ovn}", headers=issuer.headers("uss2")), 403)
    # nor re-create it under its own name
    assert (
        dss.put(
            f"{OIR}/{oid}", json=oir_body(key=[ovn]), headers=issuer.headers("uss2")
        ).status_code
        == 409
    )
    # uss2 reads the reference, but never its OVN
    seen = dss.get(f"{OIR}/{oid}", headers=issuer.headers("uss2")).json()
    assert "ovn" not in seen["operational_intent_reference"]
    after = store.get_operation(uuid.UUID(oid).hex)
    assert (after.version, after.token, after.state) == (before.version, before.token, before.state)


def test_an_ovn_of_another_uss_is_no_version_of_ones_own(dss: TestClient, issuer: Issuer) -> None:
    a, b = new_id(), new_id()
    ra = dss.put(f"{OIR}/{a}", json=oir_body(), headers=issuer.headers("uss1")).json()
    far = f3548_volume(10.0, 10.0)
    rb = dss.put(f"{OIR}/{b}", json=oir_body(far), headers=issuer.headers("uss2")).json()
    ovn_a = ra["operational_intent_reference"]["ovn"]
    sub_b = rb["operational_intent_reference"]["subscription_id"]
    # uss2 updates its own intent giving uss1's OVN as the version it changes: stale, 409
    r = dss.put(
        f"{OIR}/{b}/{ovn_a}",
        json={**oir_body(far), "subscription_id": sub_b},
        headers=issuer.headers("uss2"),
    )
    assert_message(r, 409, "token")
    assert (
        dss.get(f"{OIR}/{b}", headers=issuer.headers("uss2")).json()[
            "operational_intent_reference"
        ]["version"]
        == 1
    )
    # and uss2 cannot hang its intent on uss1's implicit subscription
    sub_a = ra["operational_intent_reference"]["subscription_id"]
    r = dss.put(
        f"{OIR}/{new_id()}",
        json={
            **oir_body(far, key=[rb["operational_intent_reference"]["ovn"]]),
            "subscription_id": sub_a,
        },
        headers=issuer.headers("uss2"),
    )
    assert_message(r, 403, "another USS")


def test_off_nominal_states_need_conformance_scope(dss: TestClient, issuer: Issuer) -> None:
    oid = new_id()
    r = dss.put(
        f"{OIR}/{oid}", json=oir_body(state="Nonconforming"), headers=issuer.headers("uss1")
    )
    assert_message(r, 403, CMSA)
    # with it, creating off-nominal is still not a transition F3548 allows
    r = dss.put(
        f"{OIR}/{oid}", json=oir_body(state="Contingent"), headers=issuer.headers("uss1", CMSA)
    )
    assert_message(r, 400, "cannot go to Contingent")
