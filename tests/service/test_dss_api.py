"""The F3548-21 DSS API under /dss/v1 on the service's store, on SQLite and PostgreSQL: an
operational intent reference is a Deconflict operation (its OVN the operation's token), the
proof of awareness is the one check of both APIs, subscriptions count notifications."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dss_helpers import (
    AA,
    CM,
    SC,
    Issuer,
    dss_client,
    f3548_volume,
    new_id,
    oir_body,
    register,
)
from fastapi.testclient import TestClient
from service_helpers import volume

from deconflict.strategic.heights import height_model, w84_to_barometric_ft

OIR = "/dss/v1/operational_intent_references"


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture()
def dss(db_url: str, tmp_path: Path, issuer: Issuer) -> Iterator[TestClient]:
    with dss_client(db_url, tmp_path, issuer) as c:
        yield c


def test_an_intent_is_an_operation_of_the_store(dss: TestClient, issuer: Issuer) -> None:
    v1 = register(dss, "uss1")
    oid = new_id()
    body = oir_body(f3548_volume(lower_m=0.0, upper_m=3048.0))
    r = dss.put(f"{OIR}/{oid}", json=body, headers=issuer.headers("uss1"))
    assert r.status_code == 201, r.text
    ref = r.json()["operational_intent_reference"]
    assert ref["id"] == oid and ref["manager"] == "uss1" and ref["version"] == 1
    assert ref["state"] == "Accepted" and ref["uss_base_url"] == "https://uss.example/utm"
    # the same operation through /v1: the OVN is its token, the heights are barometric
    op = dss.get(f"/v1/operations/{uuid.UUID(oid).hex}", headers=v1).json()
    assert op["token"] == ref["ovn"] and op["version"] == 1 and op["state"] == "Accepted"
    upper = op["volumes"][0]["altitude_upper"]
    assert upper["units"] == "ft"
    assert upper["value"] == pytest.approx(w84_to_barometric_ft(3048.0, 46.005, 7.005), abs=0.01)
    if height_model().geoid.startswith("none"):
        assert upper["value"] == pytest.approx(10_000.0, abs=0.01)
    # the write is in the signed log, with the operation's own entry
    log = dss.app.state.store.log()
    kinds = [e.kind for e in log]
    assert "operation.written" in kinds and "dss.intent" in kinds
    # GET answers the same reference; an update needs the current OVN and gives a new one
    got = dss.get(f"{OIR}/{oid}", headers=issuer.headers("uss1")).json()
    assert got["operational_intent_reference"]["ovn"] == ref["ovn"]
    stale = dss.put(f"{OIR}/{oid}/not-the-ovn", json=body, headers=issuer.headers("uss1"))
    assert stale.status_code == 409
    sub_id = ref["subscription_id"]
    upd = dss.put(
        f"{OIR}/{oid}/{ref['ovn']}",
        json={**oir_body(f3548_volume(), state="Activated"), "subscription_id": sub_id},
        headers=issuer.headers("uss1"),
    )
    assert upd.status_code == 200, upd.text
    new = upd.json()["operational_intent_reference"]
    assert new["version"] == 2 and new["ovn"] != ref["ovn"] and new["state"] == "Activated"


def test_awareness_is_one_rule_for_both_apis(dss: TestClient, issuer: Issuer) -> None:
    register(dss, "uss1")
    blue = register(dss, "blue")
    first = new_id()
    r1 = dss.put(f"{OIR}/{first}", json=oir_body(), headers=issuer.headers("uss1"))
    ovn = r1.json()["operational_intent_reference"]["ovn"]
    register(dss, "uss2")
    second = new_id()
    refused = dss.put(f"{OIR}/{second}", json=oir_body(), headers=issuer.headers("uss2"))
    assert refused.status_code == 409
    body = refused.json()
    assert [m["id"] for m in body["missing_operational_intents"]] == [first]
    assert "ovn" not in body["missing_operational_intents"][0]  # only its manager sees it
    assert body["missing_constraints"] == [] and "key" in body["message"]
    ok = dss.put(f"{OIR}/{second}", json=oir_body(key=[ovn]), headers=issuer.headers("uss2"))
    assert ok.status_code == 201, ok.text
    # a party of /v1 declaring over the intent meets the same check and the same token
    # (over the intent's time: declared times are checked, no more than 10 years ahead)
    now = datetime.now(UTC)
    v1 = volume(7.0, 46.0, start=now.isoformat(), end=(now + timedelta(days=1)).isoformat())
    r = dss.post("/v1/operations", json={"volumes": [v1]}, headers=blue)
    assert r.status_code == 409, r.text


def test_own_intents_need_keys_too_and_ended_ids_are_free(dss: TestClient, issuer: Issuer) -> None:
    """F3548's rule: the writer proves awareness of its own intents as well (another of its
    instances may have written them); a deleted intent frees its id."""
    register(dss, "uss1")
    a, b = new_id(), new_id()
    ra = dss.put(f"{OIR}/{a}", json=oir_body(), headers=issuer.headers("uss1")).json()
    assert dss.put(f"{OIR}/{b}", json=oir_body(), headers=issuer.headers("uss1")).status_code == 409
    ovn = ra["operational_intent_reference"]["ovn"]
    gone = dss.delete(f"{OIR}/{a}/{ovn}", headers=issuer.headers("uss1"))
    assert gone.status_code == 200, gone.text
    assert dss.get(f"{OIR}/{a}", headers=issuer.headers("uss1")).status_code == 404
    # its implicit subscription went with it
    sub = ra["operational_intent_reference"]["subscription_id"]
    assert (
        dss.get(f"/dss/v1/subscriptions/{sub}", headers=issuer.headers("uss1")).status_code == 404
    )
    assert dss.put(f"{OIR}/{b}", json=oir_body(), headers=issuer.headers("uss1")).status_code == 201
    again = dss.put(f"{OIR}/{a}", json=oir_body(key=[]), headers=issuer.headers("uss1"))
    assert again.status_code == 409  # b is there now
    b_ovn = dss.get(f"{OIR}/{b}", headers=issuer.headers("uss1")).json()
    key = [b_ovn["operational_intent_reference"]["ovn"]]
    again = dss.put(f"{OIR}/{a}", json=oir_body(key=key), headers=issuer.headers("uss1"))
    assert again.status_code == 201 and again.json()["operational_intent_reference"]["version"] == 3


def test_subscriptions_count_notifications(dss: TestClient, issuer: Issuer) -> None:
    register(dss, "uss1")
    register(dss, "uss2")
    sid = new_id()
    sub_body = {
        "extents": f3548_volume(45.99, 6.99, 0.05, minutes=120),
        "uss_base_url": "https://uss2.example",
        "notify_for_operational_intents": True,
    }
    made = dss.put(f"/dss/v1/subscriptions/{sid}", json=sub_body, headers=issuer.headers("uss2"))
    assert made.status_code == 200, made.text
    assert made.json()["subscription"]["notification_index"] == 0
    oid = new_id()
    r = dss.put(f"{OIR}/{oid}", json=oir_body(), headers=issuer.headers("uss1"))
    subscribers = {
        s["subscription_id"]: s["notification_index"]
        for group in r.json()["subscribers"]
        for s in group["subscriptions"]
    }
    assert subscribers[sid] == 1
    # an intent elsewhere does not notify it
    far = dss.put(
        f"{OIR}/{new_id()}", json=oir_body(f3548_volume(10.0, 10.0)), headers=issuer.headers("uss1")
    )
    assert sid not in str(far.json()["subscribers"])
    got = dss.get(f"/dss/v1/subscriptions/{sid}", headers=issuer.headers("uss2")).json()
    assert got["subscription"]["notification_index"] == 1
    # only its owner reads, changes or deletes it
    assert (
        dss.get(f"/dss/v1/subscriptions/{sid}", headers=issuer.headers("uss1")).status_code == 403
    )
    version = got["subscription"]["version"]
    stolen = dss.delete(f"/dss/v1/subscriptions/{sid}/{version}", headers=issuer.headers("uss1"))
    assert stolen.status_code == 403
    query = dss.post(
        "/dss/v1/subscriptions/query",
        json={"area_of_interest": f3548_volume()},
        headers=issuer.headers("uss2"),
    )
    assert [s["id"] for s in query.json()["subscriptions"]] == [sid]
    gone = dss.delete(f"/dss/v1/subscriptions/{sid}/{version}", headers=issuer.headers("uss2"))
    assert gone.status_code == 200


def test_constraint_references_and_their_awareness(dss: TestClient, issuer: Issuer) -> None:
    register(dss, "uss1")
    register(dss, "authority")
    cid = new_id()
    cr = dss.put(
        f"/dss/v1/constraint_references/{cid}",
        json={"extents": [f3548_volume()], "uss_base_url": "https://authority.example"},
        headers=issuer.headers("authority", CM),
    )
    assert cr.status_code == 201, cr.text
    cr_ovn = cr.json()["constraint_reference"]["ovn"]
    # an intent whose subscription asks for constraints must know of it
    body = oir_body(
        new_subscription={"uss_base_url": "https://uss.example", "notify_for_constraints": True}
    )
    refused = dss.put(f"{OIR}/{new_id()}", json=body, headers=issuer.headers("uss1"))
    assert refused.status_code == 409
    assert [c["id"] for c in refused.json()["missing_constraints"]] == [cid]
    ok = dss.put(
        f"{OIR}/{new_id()}", json={**body, "key": [cr_ovn]}, headers=issuer.headers("uss1")
    )
    assert ok.status_code == 201, ok.text
    # nothing was half-written by the refused one: one intent in the area
    q = dss.post(
        f"{OIR}/query", json={"area_of_interest": f3548_volume()}, headers=issuer.headers("uss1")
    )
    assert len(q.json()["operational_intent_references"]) == 1
    other = dss.put(
        f"/dss/v1/constraint_references/{cid}/{cr_ovn}",
        json={"extents": [f3548_volume()], "uss_base_url": "https://x.example"},
        headers=issuer.headers("uss1", CM),
    )
    assert other.status_code == 403
    gone = dss.delete(
        f"/dss/v1/constraint_references/{cid}/{cr_ovn}", headers=issuer.headers("authority", CM)
    )
    assert gone.status_code == 200


def test_availability_and_reports(dss: TestClient, issuer: Issuer) -> None:
    register(dss, "uss1")
    got = dss.get("/dss/v1/uss_availability/uss9", headers=issuer.headers("uss1")).json()
    assert got == {"status": {"uss": "uss9", "availability": "Unknown"}, "version": ""}
    put = dss.put(
        "/dss/v1/uss_availability/uss9",
        json={"old_version": "", "availability": "Down"},
        headers=issuer.headers("uss1", AA),
    )
    assert put.status_code == 200 and put.json()["status"]["availability"] == "Down"
    stale = dss.put(
        "/dss/v1/uss_availability/uss9",
        json={"old_version": "", "availability": "Normal"},
        headers=issuer.headers("uss1", AA),
    )
    assert stale.status_code == 409
    report = {
        "exchange": {
            "url": "https://x",
            "method": "GET",
            "recorder_role": "Client",
            "request_time": {"value": "2030-01-01T00:00:00Z"},
        }
    }
    r = dss.post("/dss/v1/reports", json=report, headers=issuer.headers("uss1", SC))
    assert r.status_code == 201 and r.json()["report_id"]
    assert any(e.kind == "dss.report" for e in dss.app.state.store.log())
