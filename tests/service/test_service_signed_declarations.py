"""Operation declarations are signed by the declaring party (issue 11, item 8), as its hotline
messages are: unsigned, the write is refused (422) with the exact content to sign; signed by
another key 403; not verifying 401; the signature is kept in the ``operation.written`` entry,
so ``verify_log`` names a declaration the host altered even after re-sealing and re-chaining
the whole log with the host's own key. On SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from service_helpers import ADMIN, Headers, SigningClient, assert_error, volume

from deconflict.hotline.keys import KeyRing, Signer, public_key_from_b64
from deconflict.hotline.log import Problem, verify_log
from deconflict.workflows.declarations import signed_declaration

ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def signer_of(client: TestClient, who: Headers) -> Signer:
    assert isinstance(client, SigningClient)
    return client.signers[who["Authorization"].removeprefix("Bearer ")]


def unsigned(client: TestClient) -> Any:
    assert isinstance(client, SigningClient)
    client.sign_writes = False
    return client


def log_and_ring(client: TestClient) -> tuple[list[dict[str, Any]], KeyRing]:
    entries = client.get("/v1/log", headers=ADMIN_HEADERS).json()["events"]
    keys: dict[str, Any] = {"host": public_key_from_b64(entries[0]["payload"]["public_key"])}
    for e in entries:
        if e["kind"] == "party.registered":
            keys[e["payload"]["name"]] = public_key_from_b64(e["payload"]["public_key"])
    return entries, KeyRing.from_public_keys(keys)


def test_an_unsigned_declaration_is_refused_with_what_to_sign(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha = register("alpha")
    body = {"volumes": [volume(8.5, 47.4)], "priority": 3, "aircraft_ids": ["AC1"]}
    r = unsigned(client).post("/v1/operations", json=body, headers=alpha)
    err = assert_error(r, 422, "invalid_input", "unsigned", "alpha")
    content = err["to_sign"]
    assert content["action"] == "operation" and content["party"] == "alpha"
    assert (content["operation"], content["version"], content["priority"]) == ("", 1, 3)
    assert client.get("/v1/operations", headers=alpha).json()["operations"] == []
    # signing exactly that content is accepted, and the entry keeps the signature
    from deconflict.hotline.authorship import sign_content

    signer = signer_of(client, alpha)
    signed = {**body, "time_s": content["time_s"], "signature": sign_content(signer, content)}
    r = client.post("/v1/operations", json=signed, headers=alpha)
    assert r.status_code == 201, r.text
    (entry,) = [e for e in log_and_ring(client)[0] if e["kind"] == "operation.written"]
    assert entry["payload"]["declared_by"] == "alpha"
    assert entry["payload"]["client_signature"] == signed["signature"]
    assert entry["payload"]["volumes"] == content["volumes"] == r.json()["volumes"]


def test_anothers_key_a_bad_signature_a_replay_and_a_stale_time_are_refused(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha, bravo = register("alpha"), register("bravo")
    body = {"volumes": [volume(8.5, 47.4)]}
    now = time.time()
    # bravo's key over alpha's declaration: 403 (naming the key), nothing written
    by_bravo = signed_declaration(signer_of(client, bravo), "alpha", body, time_s=now)
    r = unsigned(client).post("/v1/operations", json=by_bravo, headers=alpha)
    assert_error(r, 403, "forbidden", "not 'alpha'")
    # bravo's signature presented as alpha's key: 401
    by_bravo["key_id"] = signer_of(client, alpha).key_id
    assert_error(
        client.post("/v1/operations", json=by_bravo, headers=alpha), 401, "unauthenticated"
    )
    # a signature over other volumes (what a host would swap in): 401
    mine = signed_declaration(signer_of(client, alpha), "alpha", body, time_s=now)
    swapped = {**mine, "volumes": [volume(9.5, 47.4)]}
    assert_error(client.post("/v1/operations", json=swapped, headers=alpha), 401, "unauthenticated")
    # a time far from the service's clock: 422
    old = signed_declaration(signer_of(client, alpha), "alpha", body, time_s=now - 3600)
    assert_error(
        client.post("/v1/operations", json=old, headers=alpha), 422, "invalid_input", "time"
    )
    assert client.get("/v1/operations", headers=alpha).json()["operations"] == []
    # the signed version 1 made; replaying its signature on a new version is refused
    made = client.post("/v1/operations", json=mine, headers=alpha).json()
    again = {**mine, "token": made["token"]}
    r = client.put(f"/v1/operations/{made['id']}", json=again, headers=alpha)
    assert_error(r, 401, "unauthenticated")
    # a state change is a declaration too
    r = client.post(
        f"/v1/operations/{made['id']}/state",
        json={"token": made["token"], "state": "Ended"},
        headers=alpha,
    )
    assert_error(r, 422, "invalid_input", "unsigned")
    # signed properly, revisions and state changes go through
    revised = signed_declaration(
        signer_of(client, alpha), "alpha", body | {"priority": 2}, time_s=time.time(),
        operation=made["id"], version=2,
    )  # fmt: skip
    r = client.put(
        f"/v1/operations/{made['id']}", json={**revised, "token": made["token"]}, headers=alpha
    )
    assert r.status_code == 200 and r.json()["version"] == 2, r.text


def test_audit_names_a_declaration_the_host_altered(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha = register("alpha")
    r = client.post("/v1/operations", json={"volumes": [volume(8.5, 47.4)]}, headers=alpha)
    assert r.status_code == 201, r.text
    entries, ring = log_and_ring(client)
    assert verify_log(entries, ring).ok
    at = next(i for i, e in enumerate(entries) if e["kind"] == "operation.written")
    host: Signer = client.app.state.signer  # type: ignore[attr-defined]

    def resealed(change: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
        """The log with entry ``at``'s payload changed, then re-sealed and re-chained from
        there on with the host's own key: every hash and host signature is valid again."""
        out = [dict(e) for e in entries]
        payload = dict(out[at]["payload"])
        change(payload)
        out[at]["payload"] = payload
        for i in range(at, len(out)):
            fields = ("seq", "time_s", "author", "key_id", "kind", "payload", "format")
            body = {k: out[i][k] for k in fields if k in out[i]}
            body["prev_hash"] = out[i - 1]["hash"]
            if "format" in out[i]:  # log format 2 (RFC 8785): the format is sealed too
                body["format"] = out[i]["format"]
            out[i]["hash"], out[i]["signature"] = host.seal(body)
            out[i]["prev_hash"] = body["prev_hash"]
        return out

    def moved(p: dict[str, Any]) -> None:  # the host moves the declared volume
        p["volumes"] = [
            volume(9.5, 47.4)
            | {"polygon": [[[9.5, 47.4], [9.51, 47.4], [9.51, 47.41], [9.5, 47.41], [9.5, 47.4]]]}
        ]

    report = verify_log(resealed(moved), ring)
    assert report.first_bad is not None and report.first_bad.position == at
    assert report.first_bad.problem is Problem.BAD_SIGNATURE

    def stripped(p: dict[str, Any]) -> None:  # the host removes the party's signature
        for k in ("declared_by", "client_signature", "client_key_id"):
            p.pop(k)

    report = verify_log(resealed(stripped), ring)
    assert report.first_bad is not None and report.first_bad.position == at
    assert report.first_bad.problem is Problem.AUTHOR_UNSIGNED
