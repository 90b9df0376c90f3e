"""The transparency log through the API, on SQLite and PostgreSQL: C2SP checkpoints signed by the
host's one key, RFC 9162 proofs that verify against the exported entries, parties witnessing and
cosigning (quorum), and what a party, the admin or a stranger must not do."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hotline_helpers import ADMIN_HEADERS, make_client, signed_message, signer_of

from deconflict.cli.witness import HttpLogSource
from deconflict.hotline.checkpoint import (
    cosign,
    note_signed_by,
    parse_checkpoint,
    parse_note,
    parse_vkey,
    witness_name,
)
from deconflict.hotline.keys import Signer, generate_private_key, public_key_to_b64
from deconflict.hotline.log import entry_bytes
from deconflict.hotline.merkle import leaf_hash, verify_consistency, verify_inclusion
from deconflict.hotline.witness import Refusal, WitnessState, witness_once

Register = Callable[..., dict[str, Any]]


def send(client: TestClient, who: dict[str, Any], to: list[str], text: str) -> int:
    body = signed_message(who, {"to": to, "body": {"text": text}})
    r = client.post("/v1/messages", json=body, headers=who["headers"])
    assert r.status_code == 201, r.text
    return int(r.json()["seq"])


def checkpoint(client: TestClient, who: dict[str, Any], **params: Any) -> dict[str, Any]:
    r = client.get("/v1/log/checkpoint", params=params, headers=who["headers"])
    assert r.status_code == 200, r.text
    return dict(r.json())


def whole_log(client: TestClient) -> list[dict[str, Any]]:
    r = client.get("/v1/log", params={"limit": 10_000}, headers=ADMIN_HEADERS)
    return list(r.json()["events"])


def witness(client: TestClient, who: dict[str, Any], state: WitnessState) -> Any:
    source = HttpLogSource(client, who["headers"])
    return witness_once(source, state, signer_of(who), now_s=time.time())


def test_checkpoint_is_a_signed_note_whose_proofs_verify(
    client: TestClient, register: Register
) -> None:
    blue, red = register("blue"), register("red")
    seq = send(client, blue, ["red"], "first")
    first = checkpoint(client, red, fresh=True)
    send(client, red, ["blue"], "second")
    second = checkpoint(client, blue, fresh=True)
    note = parse_note(second["note"])
    cp = parse_checkpoint(note.body)
    name, key = parse_vkey(second["host_key"])
    assert name == cp.origin == second["origin"] and note_signed_by(note, name, key)
    assert (cp.size, base64.b64encode(cp.root).decode()) == (second["size"], second["root"])
    leaves = [leaf_hash(entry_bytes(e)) for e in whole_log(client)]
    assert len(leaves) == cp.size  # every entry is a leaf, leaf index = seq
    r = client.get(
        "/v1/log/proofs/inclusion", params={"index": seq, "size": cp.size}, headers=red["headers"]
    )
    proof = [base64.b64decode(h) for h in r.json()["hashes"]]
    assert verify_inclusion(seq, cp.size, leaves[seq], proof, cp.root)
    r = client.get(
        "/v1/log/proofs/consistency",
        params={"from": first["size"], "to": cp.size},
        headers=blue["headers"],
    )
    proof = [base64.b64decode(h) for h in r.json()["hashes"]]
    old_root = base64.b64decode(first["root"])
    assert verify_consistency(first["size"], cp.size, old_root, cp.root, proof)
    # the same size is served again, by number
    assert checkpoint(client, blue, size=first["size"])["root"] == first["root"]


def test_parties_witness_and_the_checkpoint_counts_at_quorum(db_url: str) -> None:
    with make_client(db_url, checkpoint_quorum=2) as client:
        parties = {}
        for name in ("blue", "red"):
            r = client.post("/v1/parties", json={"name": name}, headers=ADMIN_HEADERS)
            parties[name] = {
                **r.json(),
                "headers": {"Authorization": f"Bearer {r.json()['token']}"},
            }
        blue, red = parties["blue"], parties["red"]
        send(client, blue, ["red"], "hello")
        states = {"blue": WitnessState(), "red": WitnessState()}
        one = witness(client, blue, states["blue"])
        assert one.cosigned_by == ("blue",) and not one.counts
        two = witness(client, red, states["red"])
        assert set(two.cosigned_by) == {"blue", "red"} and two.counts
        served = checkpoint(client, red)
        assert served["counts"] and served["quorum"] == 2
        assert served["note"].count("\u2014 deconflict.witness/") == 2
        send(client, red, ["blue"], "back")
        time.sleep(0.01)
        again = checkpoint(client, blue, fresh=True)
        assert again["size"] == served["size"] + 1 and again["cosigned_by"] == []
        cycle = witness(client, blue, states["blue"])
        assert cycle.previous == served["size"] and cycle.included == 1  # red's message


def test_cosignatures_attacked(client: TestClient, register: Register) -> None:
    blue, red = register("blue"), register("red")
    send(client, blue, ["red"], "x")
    cp = checkpoint(client, blue, fresh=True)
    body = parse_note(cp["note"]).body
    blue_signer = signer_of(blue)
    own = witness_name(public_key_to_b64(blue_signer.public_key))
    line = cosign(body, own, blue_signer.private_key, int(time.time())).line()

    def post(who: dict[str, Any] | dict[str, str], size: int, text: str) -> Any:
        headers = who.get("headers", who)
        return client.post(
            "/v1/log/cosignatures", json={"size": size, "cosignature": text}, headers=headers
        )

    # another party cannot post Blue's cosignature as its own, nor forge one under its name
    assert post(red, cp["size"], line).status_code == 403
    stranger = Signer("x", generate_private_key())
    forged = cosign(body, own, stranger.private_key, int(time.time())).line()
    r = post(blue, cp["size"], forged)
    assert r.status_code == 403 and "does not verify" in r.text
    # a cosignature of another checkpoint's body does not count for this one
    other = body.replace(f"\n{cp['size']}\n", "\n1\n")
    r = post(blue, cp["size"], cosign(other, own, blue_signer.private_key, 1).line())
    assert r.status_code == 403
    # from the future, for a checkpoint never published, by the admin, without a token
    future = cosign(body, own, blue_signer.private_key, int(time.time()) + 3600).line()
    assert post(blue, cp["size"], future).status_code == 422
    assert post(blue, cp["size"] + 50, line).status_code == 404
    assert post(ADMIN_HEADERS, cp["size"], line).status_code == 403
    assert post({}, cp["size"], line).status_code == 401
    assert post(blue, cp["size"], "not a line at all").status_code == 422
    # the real one counts, once
    assert post(blue, cp["size"], line).json()["new"] is True
    assert post(blue, cp["size"], line).json()["new"] is False
    assert checkpoint(client, red, size=cp["size"])["cosigned_by"] == ["blue"]


def test_reads_need_a_token_and_bad_sizes_say_what_to_send(
    client: TestClient, register: Register
) -> None:
    blue, _red = register("blue"), register("red")
    send(client, blue, ["red"], "x")
    size = checkpoint(client, blue, fresh=True)["size"]
    for path, params in (
        ("/v1/log/checkpoint", {}),
        ("/v1/log/proofs/inclusion", {"index": 0, "size": size}),
        ("/v1/log/proofs/consistency", {"from": 1, "to": size}),
        ("/v1/log/entries", {}),
        ("/v1/log/host-keys", {}),
    ):
        assert client.get(path, params=params).status_code == 401, path
    get = lambda p, **q: client.get(p, params=q, headers=blue["headers"])  # noqa: E731
    r = get("/v1/log/proofs/inclusion", index=size, size=size)
    assert r.status_code == 422 and "0 <= index < size" in r.text
    r = get("/v1/log/proofs/inclusion", index=0, size=size + 100)
    assert r.status_code == 422 and "beyond the log" in r.text
    r = get("/v1/log/proofs/consistency", **{"from": size, "to": 1})
    assert r.status_code == 422 and "0 <= from <= to" in r.text
    assert get("/v1/log/proofs/inclusion", index=-1, size=2).status_code == 422
    assert get("/v1/log/checkpoint", size=size + 100).status_code == 404
    # the admin reads proofs too, but holds no entries of its own to witness
    assert client.get("/v1/log/checkpoint", headers=ADMIN_HEADERS).status_code == 200
    assert client.get("/v1/log/entries", headers=ADMIN_HEADERS).status_code == 403


def test_a_party_holds_what_it_received_and_authored_only(
    client: TestClient, register: Register
) -> None:
    blue, red, green = register("blue"), register("red"), register("green")
    to_red = send(client, blue, ["red"], "for red")
    to_green = send(client, green, ["blue"], "for blue")
    held = lambda who: {  # noqa: E731
        e["seq"] for e in client.get("/v1/log/entries", headers=who["headers"]).json()["events"]
    }
    assert to_red in held(red) and to_red in held(blue) and to_red not in held(green)
    assert to_green in held(blue) and to_green not in held(red)


def test_the_host_key_is_kept_across_restarts_and_logged_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'host.db'}"
    keys = []
    for _ in range(2):
        with make_client(url) as client:
            r = client.post("/v1/parties", json={"name": f"p{len(keys)}"}, headers=ADMIN_HEADERS)
            who = {"headers": {"Authorization": f"Bearer {r.json()['token']}"}}
            keys.append(checkpoint(client, who, fresh=True)["host_key"])
            history = client.get("/v1/log/host-keys", headers=who["headers"]).json()
    assert keys[0] == keys[1]
    assert [e["kind"] for e in history] == ["host.key"]


def test_a_rotated_host_key_is_followed_by_the_witness(tmp_path: Path) -> None:
    from deconflict.service.signing import HostSealer
    from deconflict.workflows.transparency import rotate

    url = f"sqlite:///{tmp_path / 'rotate.db'}"
    with make_client(url, checkpoint_interval_s=0) as client:
        r = client.post("/v1/parties", json={"name": "blue"}, headers=ADMIN_HEADERS)
        blue = {**r.json(), "headers": {"Authorization": f"Bearer {r.json()['token']}"}}
        client.post("/v1/parties", json={"name": "red"}, headers=ADMIN_HEADERS)
        state = WitnessState()
        witness(client, blue, state)
        app = client.app.state  # type: ignore[attr-defined]
        new = Signer("host", generate_private_key())
        rotate(app.store, app.signer, new, keep_in_store=True)
        app.store.sealer, app.signer = HostSealer(new), new
        send(client, blue, ["red"], "after the rotation")
        cycle = witness(client, blue, state)
        assert state.host_key == public_key_to_b64(new.public_key) and cycle.included >= 1
    with make_client(url) as client:  # a restart signs with the new key
        who = {"headers": blue["headers"]}
        _name, key = parse_vkey(checkpoint(client, who)["host_key"])
        assert public_key_to_b64(key) == public_key_to_b64(new.public_key)


def test_a_host_that_swaps_its_key_without_rotation_is_refused(tmp_path: Path) -> None:
    from deconflict.service.signing import HostSealer

    with make_client(f"sqlite:///{tmp_path / 'swap.db'}", checkpoint_interval_s=0) as client:
        r = client.post("/v1/parties", json={"name": "blue"}, headers=ADMIN_HEADERS)
        blue = {**r.json(), "headers": {"Authorization": f"Bearer {r.json()['token']}"}}
        client.post("/v1/parties", json={"name": "red"}, headers=ADMIN_HEADERS)
        state = WitnessState()
        witness(client, blue, state)
        app = client.app.state  # type: ignore[attr-defined]
        rogue = Signer("host", generate_private_key())
        app.store.sealer, app.signer = HostSealer(rogue), rogue
        send(client, blue, ["red"], "under a rogue key")
        with pytest.raises(Refusal, match="host signature fails"):
            witness(client, blue, state)


def test_checkpoints_are_signed_at_the_cadence_without_being_asked(db_url: str) -> None:
    from deconflict.store import transparency as records
    from deconflict.store import tree

    with make_client(db_url, checkpoint_interval_s=1) as client:
        r = client.post("/v1/parties", json={"name": "blue"}, headers=ADMIN_HEADERS)
        assert r.status_code == 201
        store = client.app.state.store  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        latest = None
        while time.monotonic() < deadline:
            latest = records.latest_checkpoint(store)
            if latest is not None and latest.size == tree.tree_size(store):
                break
            time.sleep(0.2)
        assert latest is not None and latest.size == tree.tree_size(store)
        assert latest.root == tree.root(store, latest.size).hex()
