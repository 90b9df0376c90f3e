"""Blind checks through the API, on SQLite and PostgreSQL: parties' nodes (``blind.agent``)
checking overlapping, near and disjoint operations through the host; a party offline; proof of
awareness on the signed outcomes; the attacks (a replayed message, an answer signed with
another party's key, an outcome handed in by the wrong side or twice); and the relay holding
nothing from which a volume could be rebuilt."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from service_helpers import ADMIN, assert_error, make_client, volume

from deconflict.blind.agent import Agent, HostError
from deconflict.blind.protocol import content_of
from deconflict.errors import VerificationError
from deconflict.hotline.authorship import sign_content
from deconflict.hotline.keys import Signer, private_key_from_pem
from deconflict.store.schema import metadata

# distinctive coordinates (south-west corners), so the relay's store can be searched for them
LON, LAT = 7.123457, 46.987651
NEAR_LON = LON + 0.18  # ~11 km east of a 0.03° box: cells meet, the exact check does not
FAR_LON = LON + 1.5


@pytest.fixture()
def blind_client(db_url: str) -> Iterator[TestClient]:
    with make_client(db_url, disclosure="blind", separation_standard="icao-5nm") as c:
        yield c


def _party(client: TestClient, name: str) -> tuple[str, Signer]:
    r = client.post(
        "/v1/parties",
        json={"name": name, "contact": f"ops@{name}"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return body["token"], Signer(name, private_key_from_pem(body["private_key_pem"].encode()))


def _agents(client: TestClient, *names: str) -> list[Agent]:
    made = [_party(client, n) for n in names]
    return [Agent(client, token, signer) for token, signer in made]


def _run(*agents: Agent, rounds: int = 4) -> None:
    """Carry messages until nothing moves (each pump reads one mailbox)."""
    for _ in range(rounds * 2):
        if not sum(a.pump() for a in agents):
            return


def box(lon: float, size: float = 0.03) -> dict[str, Any]:
    return volume(lon, LAT, size, lower_ft=0, upper_ft=3000)


def _events(client: TestClient, agent: Agent) -> list[dict[str, Any]]:
    r = client.get("/v1/events?after=-1", headers=agent.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["events"])


def test_overlapping_near_and_disjoint_operations(blind_client: TestClient) -> None:
    alpha, bravo = _agents(blind_client, "alpha", "bravo")
    # bravo declares first: nobody to check with
    b1 = bravo.declare([box(LON)], wait_s=0)
    assert b1["version"] == 1 and "volumes" not in b1
    # alpha, far away: checked with bravo, no cell met
    p = alpha.begin([box(FAR_LON)])
    assert p.unchecked == ["bravo"]
    _run(alpha, bravo)
    assert p.unchecked == []
    (far,) = p.done.values()
    assert far.outcome["cells"] == 0 and far.outcome["conflict"] is False
    a_far = alpha.finish(p)
    assert a_far["state"] == "Accepted"
    # alpha, near: cells meet, the exact check of the parts finds no conflict
    p = alpha.begin([box(NEAR_LON)])
    _run(alpha, bravo)
    (near,) = p.done.values()
    assert near.outcome["cells"] > 0 and near.outcome["conflicts"] == []
    alpha.finish(p)
    # alpha, overlapping bravo's: both learn the conflict; the rule (reject) refuses it
    p = alpha.begin([box(LON + 0.01)])
    _run(alpha, bravo)
    (hit,) = p.done.values()
    assert hit.outcome["conflicts"] == [b1["id"]] and hit.outcome["conflict"] is True
    assert b1["id"] in hit.parts  # alpha sees bravo's parts inside the meeting cells only
    with pytest.raises(HostError) as refused:
        alpha.finish(p)
    assert refused.value.status == 409 and "reject" in str(refused.value)
    # the outcomes are in the log, signed by both; both owners were told of the conflict
    kinds = [e["kind"] for e in _events(blind_client, bravo)]
    assert kinds.count("blind.outcome") == 3 and "blind.conflict" in kinds
    # the answerer's signed outcome is logged as it passes (even if the declarer walks away)
    assert kinds.count("blind.answered") == 3
    outcome = next(e for e in _events(blind_client, alpha) if e["kind"] == "blind.outcome")
    assert set(outcome["payload"]["signatures"]) == {"a", "b"}


def test_accept_by_priority_lets_the_higher_one_in(db_url: str) -> None:
    with make_client(
        db_url,
        disclosure="blind",
        separation_standard="icao-5nm",
        conflict_rule="accept-by-priority",
    ) as client:
        alpha, bravo = _agents(client, "alpha", "bravo")
        bravo.declare([box(LON)], wait_s=0, priority=1)
        p = alpha.begin([box(LON)], priority=5)
        _run(alpha, bravo)
        rec = alpha.finish(p)
        assert rec["priority"] == 5


def test_offline_party_blocks_the_declaration_and_is_named(blind_client: TestClient) -> None:
    alpha, bravo = _agents(blind_client, "alpha", "bravo")
    bravo.declare([box(FAR_LON)], wait_s=0)
    p = alpha.begin([box(LON)])
    alpha.pump()  # bravo's node is offline: nothing comes back
    assert p.unchecked == ["bravo"]
    with pytest.raises(HostError) as refused:
        alpha.finish(p)
    err = refused.value.body["error"]
    assert refused.value.status == 409 and err["code"] == "awareness_required"
    assert err["missing"] == [{"party": "bravo", "contact": "ops@bravo", "reason": "missing"}]
    # bravo comes back online: the check waited in its mailbox
    _run(alpha, bravo)
    assert alpha.finish(p)["state"] == "Accepted"


def test_a_check_goes_stale_when_the_other_side_changes(blind_client: TestClient) -> None:
    alpha, bravo = _agents(blind_client, "alpha", "bravo")
    bravo.declare([box(FAR_LON)], wait_s=0)
    p = alpha.begin([box(LON)])
    _run(alpha, bravo)
    # bravo declares another operation before alpha declares: alpha's check no longer covers it
    q = bravo.begin([box(FAR_LON + 0.5)])
    assert q.checks == {}  # alpha has nothing live yet
    bravo.finish(q)
    with pytest.raises(HostError) as refused:
        alpha.finish(p)
    assert refused.value.body["error"]["missing"][0]["reason"] == "stale"


def test_replayed_messages_are_refused(blind_client: TestClient) -> None:
    alpha, bravo = _agents(blind_client, "alpha", "bravo")
    bravo.declare([box(FAR_LON)], wait_s=0)
    p = alpha.begin([box(LON)])
    (check,) = p.checks
    first = blind_client.get("/v1/blind/messages", headers=bravo.headers).json()["messages"][0]
    env = {k: v for k, v in first.items() if k != "seq"}
    again = blind_client.post("/v1/blind/messages", json=env, headers=alpha.headers)
    assert_error(again, 409, "conflict", "replayed")
    _run(alpha, bravo)
    # every round was relayed once; a replay of round 2 (bravo's answer) is refused too
    log = [e for e in _events(blind_client, alpha) if e["kind"] == "blind.message"]
    assert sorted(e["payload"]["round"] for e in log) == [2, 4]
    r2 = [m for m in _mailbox_history(blind_client, check) if m["round"] == 2]
    assert r2 == []  # fetched messages are gone from the relay
    stale = dict(env, round=2, sender="bravo", recipient="alpha")
    stale["signature"] = sign_content(bravo.node.signer, content_of(stale))
    stale["key_id"] = bravo.node.signer.key_id
    assert_error(
        blind_client.post("/v1/blind/messages", json=stale, headers=bravo.headers),
        409,
        "conflict",
        "not the next",
    )
    # the nodes themselves refuse a message of a check they have seen
    with pytest.raises(VerificationError, match="replay"):
        bravo.node.handle(first, bravo.clock())
    assert alpha.finish(p)["state"] == "Accepted"


def _mailbox_history(client: TestClient, check: str) -> list[dict[str, Any]]:
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.read_transaction() as conn:
        rows = conn.execute(sa.text("SELECT envelope FROM blind_messages")).scalars().all()
    out = [json.loads(r) if isinstance(r, str) else r for r in rows]
    return [m for m in out if m["check"] == check]


def test_an_answer_signed_with_another_partys_key_is_refused(blind_client: TestClient) -> None:
    alpha, bravo, charlie = _agents(blind_client, "alpha", "bravo", "charlie")
    bravo.declare([box(FAR_LON)], wait_s=0)
    q = charlie.begin([box(FAR_LON + 1)])
    _run(charlie, bravo)
    charlie.finish(q)
    p = alpha.begin([box(LON)])
    to_bravo = next(c for c, who in p.checks.items() if who == "bravo")
    (msg,) = [
        m
        for m in blind_client.get("/v1/blind/messages", headers=bravo.headers).json()["messages"]
        if m["check"] == to_bravo
    ]
    reply = bravo.node.handle(msg, bravo.clock())
    assert isinstance(reply, dict)
    forged = dict(reply)
    forged["signature"] = sign_content(charlie.node.signer, content_of(reply))
    forged["key_id"] = charlie.node.signer.key_id
    r = blind_client.post("/v1/blind/messages", json=forged, headers=bravo.headers)
    assert_error(r, 403, "forbidden", "not 'bravo'")
    forged.pop("key_id")
    r = blind_client.post("/v1/blind/messages", json=forged, headers=bravo.headers)
    assert_error(r, 401, "unauthenticated", "does not verify")
    # charlie sending it as if from bravo: the sender is the token's party
    r = blind_client.post("/v1/blind/messages", json=forged, headers=charlie.headers)
    assert_error(r, 403, "forbidden", "sender")
    # a node refuses a message not signed by the sender's key (the host could not forge one)
    with pytest.raises(Exception, match="not signed"):
        alpha.node.handle({**forged, "seq": 0}, alpha.clock())


def test_outcomes_only_from_the_declarer_once(blind_client: TestClient) -> None:
    alpha, bravo = _agents(blind_client, "alpha", "bravo")
    bravo.declare([box(FAR_LON)], wait_s=0)
    p = alpha.begin([box(LON)])
    _run(alpha, bravo)
    (done,) = p.done.values()
    body = {"outcome": done.outcome, "signatures": done.signatures}
    again = blind_client.post("/v1/blind/outcomes", json=body, headers=alpha.headers)
    assert_error(again, 409, "conflict", "recorded already")
    by_b = blind_client.post("/v1/blind/outcomes", json=body, headers=bravo.headers)
    assert_error(by_b, 403, "forbidden", "declarer")
    lie = {"outcome": {**done.outcome, "conflict": True}, "signatures": done.signatures}
    assert_error(
        blind_client.post("/v1/blind/outcomes", json=lie, headers=alpha.headers),
        422,
        "invalid_input",
    )


def test_the_relay_holds_nothing_a_volume_could_be_rebuilt_from(blind_client: TestClient) -> None:
    alpha, bravo = _agents(blind_client, "alpha", "bravo")
    bravo.declare([box(LON)], wait_s=0)
    for lon in (LON + 0.01, NEAR_LON, FAR_LON):
        p = alpha.begin([box(lon)])
        alpha.pump()
        bravo.pump()  # the answer waits, unread, in alpha's mailbox: in the store now
        text = _dump(blind_client)
        _run(alpha, bravo)
        with contextlib.suppress(HostError):  # the overlapping one is refused: fine here
            alpha.finish(p)
        text += _dump(blind_client)
        for coordinate in (LON, LAT, lon, LON + 0.03, LAT + 0.03):
            for digits in (6, 4, 3):
                # as a number of its own, not digits inside another (a time such as
                # 1765003997.153457 holds "7.153457" and is no coordinate)
                written = re.escape(f"{coordinate:.{digits}f}")
                assert not re.search(rf"(?<![\d.]){written}", text), coordinate
        assert alpha.node.grid.ident not in text  # nor cell names (they are places too)
    assert "blind.message" in text and "blind.outcome" in text


def _dump(client: TestClient) -> str:
    """Every row of every table of the host's store, as text."""
    store = client.app.state.store  # type: ignore[attr-defined]
    out = []
    with store.read_transaction() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                out.append(json.dumps([str(v) for v in row]))
    return "\n".join(out)


def test_modes_keep_to_their_own_endpoints(db_url: str, blind_client: TestClient) -> None:
    token, _ = _party(blind_client, "alpha")
    h = {"Authorization": f"Bearer {token}"}
    r = blind_client.post("/v1/operations", json={"volumes": [box(LON)]}, headers=h)
    assert_error(r, 403, "forbidden", "blind")
    r = blind_client.get("/v1/blind/grid", headers={"Authorization": f"Bearer {ADMIN}"})
    assert_error(r, 403, "forbidden")
    with make_client(db_url if db_url == "sqlite://" else "sqlite://") as open_client:
        t, _ = _party(open_client, "alpha")
        r = open_client.get("/v1/blind/grid", headers={"Authorization": f"Bearer {t}"})
        assert_error(r, 403, "forbidden", "open")


def test_bad_declarations_say_what_is_wrong(blind_client: TestClient) -> None:
    token, _ = _party(blind_client, "alpha")
    h = {"Authorization": f"Bearer {token}"}
    good = {"commitment": "ab" * 32, "expires": "2099-01-01T00:00:00Z"}
    r = blind_client.post(
        "/v1/blind/operations", json={**good, "expires": "2001-01-01T00:00:00Z"}, headers=h
    )
    assert_error(r, 422, "invalid_input", "past")
    r = blind_client.post("/v1/blind/operations", json={**good, "commitment": "xyz"}, headers=h)
    assert_error(r, 422, "invalid_input", "commitment")
    r = blind_client.post("/v1/blind/operations", json={**good, "volumes": []}, headers=h)
    assert_error(r, 422, "invalid_input", "volumes")
    rec = blind_client.post("/v1/blind/operations", json=good, headers=h).json()
    r = blind_client.put(
        f"/v1/blind/operations/{rec['id']}", json={**good, "token": "stale"}, headers=h
    )
    assert_error(r, 409, "conflict", "token")
    r = blind_client.put(
        f"/v1/blind/operations/{rec['id']}",
        json={**good, "token": rec["token"], "state": "Ended"},
        headers=h,
    )
    assert r.status_code == 200 and r.json()["state"] == "Ended"


def test_an_answerer_lying_in_its_outcome_is_not_co_signed(blind_client: TestClient) -> None:
    """Bravo signs "no conflict" over parts that do conflict: the relay logs what bravo signed,
    alpha's node checks the parts itself and refuses to co-sign, and the declaration stays
    refused for want of a check with bravo."""
    alpha, bravo = _agents(blind_client, "alpha", "bravo")
    bravo.declare([box(LON)], wait_s=0)
    p = alpha.begin([box(LON + 0.01)])
    bravo.pump()  # round 1 -> 2
    alpha.pump()  # round 2 -> 3
    (msg,) = blind_client.get(
        "/v1/blind/messages", headers=bravo.headers, params={"after": bravo.cursor}
    ).json()["messages"]
    bravo.cursor = msg["seq"]
    reply = bravo.node.handle(msg, bravo.clock())
    assert isinstance(reply, dict) and reply["meta"]["outcome"]["conflict"] is True
    lie = dict(reply["meta"]["outcome"], conflicts=[], conflict=False)
    meta = {"outcome": lie, "signature": sign_content(bravo.node.signer, lie)}
    forged = dict(reply, meta=meta)
    forged["signature"] = sign_content(bravo.node.signer, content_of(forged))
    r = blind_client.post("/v1/blind/messages", json=forged, headers=bravo.headers)
    assert r.status_code == 202, r.text
    alpha.pump()
    assert alpha.refused == 1 and p.unchecked == ["bravo"]
    with pytest.raises(HostError) as refused:
        alpha.finish(p)
    assert refused.value.body["error"]["missing"][0]["party"] == "bravo"
    answered = [e for e in _events(blind_client, alpha) if e["kind"] == "blind.answered"]
    assert answered[-1]["payload"]["outcome"]["conflict"] is False  # bravo's lie, on the record


def test_a_revision_is_checked_and_answered_with_the_new_commitment(
    blind_client: TestClient,
) -> None:
    alpha, bravo = _agents(blind_client, "alpha", "bravo")
    bravo.declare([box(FAR_LON)], wait_s=0)
    p = alpha.begin([box(LON)])
    _run(alpha, bravo)
    first = alpha.finish(p)
    # alpha moves its operation next to bravo's: the revision is checked like a declaration
    p = alpha.begin([box(FAR_LON + 0.01)], op_id=first["id"])
    _run(alpha, bravo)
    with pytest.raises(HostError) as refused:
        alpha.finish(p)
    assert refused.value.status == 409 and "reject" in str(refused.value)
    p = alpha.begin([box(FAR_LON + 0.6)], op_id=first["id"])
    _run(alpha, bravo)
    second = alpha.finish(p)
    assert second["id"] == first["id"] and second["version"] == 2
    assert second["commitment"] != first["commitment"]
    # bravo's next declaration is checked against alpha's current version, answered by alpha
    q = bravo.begin([box(FAR_LON + 0.6)])
    _run(alpha, bravo)
    (done,) = q.done.values()
    assert done.outcome["b_operations"] == [{"id": first["id"], "commitment": second["commitment"]}]
    assert done.outcome["conflicts"] == [first["id"]]
