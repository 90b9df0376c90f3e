"""Hotline messages through the API: addressing and disclosure, ordered resumable delivery,
acknowledgement, client signatures, escalation of unacknowledged safety messages."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hotline_helpers import ADMIN, ADMIN_HEADERS, signed_ack, signed_message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconflict.errors import InputError
from deconflict.hotline.authorship import message_content
from deconflict.hotline.canonical import canonical_json
from deconflict.hotline.delivery import Mailbox
from deconflict.hotline.escalation import EscalationPolicy
from deconflict.hotline.keys import (
    generate_private_key,
    key_id,
    private_key_from_pem,
    public_key_to_b64,
)
from deconflict.hotline.messages import Priority, make_message
from deconflict.workflows.escalation import check_escalations

Register = Callable[..., dict[str, Any]]


def send(client: TestClient, who: dict[str, Any], to: Any, text: str, **extra: Any) -> Any:
    body = signed_message(who, {"to": to, "body": {"text": text}, **extra})
    return client.post("/v1/messages", json=body, headers=who["headers"])


def ack(client: TestClient, who: dict[str, Any], mid: str) -> Any:
    return client.post(f"/v1/messages/{mid}/ack", json=signed_ack(who, mid), headers=who["headers"])


def inbox(client: TestClient, who: dict[str, Any], after: int = -1) -> dict[str, Any]:
    r = client.get("/v1/messages", params={"after": after}, headers=who["headers"])
    assert r.status_code == 200, r.text
    return dict(r.json())


def texts(page: dict[str, Any]) -> list[str]:
    return [m["message"]["body"]["text"] for m in page["messages"]]


def test_a_party_never_reads_messages_not_addressed_to_it(
    client: TestClient, register: Register
) -> None:
    alpha, bravo, charlie = register("alpha"), register("bravo"), register("charlie")
    private = send(client, alpha, "bravo", "for bravo only").json()
    group = send(client, alpha, ["bravo", "charlie"], "for both").json()
    everyone = send(client, bravo, "*", "for all").json()
    assert texts(inbox(client, bravo)) == ["for bravo only", "for both"]
    assert texts(inbox(client, charlie)) == ["for both", "for all"]
    assert texts(inbox(client, alpha)) == ["for all"]
    mid = private["message"]["message_id"]
    for path in (f"/v1/messages/{mid}", f"/v1/messages/{mid}/ack"):
        r = (client.get if path.endswith(mid) else client.post)(path, headers=charlie["headers"])
        assert r.status_code == 404, r.text
        assert r.json()["error"]["code"] == "not_found"
        assert "for bravo only" not in r.text
    # nor through the event stream
    events = client.get("/v1/events", headers=charlie["headers"]).json()["events"]
    assert mid not in str(events)
    assert {e["payload"].get("message_id") for e in events} >= {
        group["message"]["message_id"],
        everyone["message"]["message_id"],
    }
    r = send(client, alpha, "nobody", "lost")
    assert r.status_code == 404 and "nobody" in r.json()["error"]["message"]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.one_of(
                st.just("*"),
                st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3),
            ),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_inboxes_match_the_mailbox_model(
    client: TestClient, register: Register, posts: list[tuple[str, Any]]
) -> None:
    """Every party's inbox holds exactly what the hotline's reference Mailbox delivers to it."""
    names = ["a", "b", "c", "d"]
    # hypothesis runs every example on the same client: register the parties once
    who: dict[str, dict[str, Any]] = getattr(client, "hotline_parties", {})
    if not who:
        who = {n: register(n) for n in names}
        setattr(client, "hotline_parties", who)  # noqa: B010
    cursors = {n: inbox(client, who[n])["next"] for n in names}
    model = Mailbox(names)
    for i, (sender, to) in enumerate(posts):
        text = f"m{time.monotonic_ns()}-{i}"
        r = send(client, who[sender], to, text)
        try:
            message = make_message("free_text", sender, to, {"text": text}, time_s=0.0)
        except InputError:  # addressed only to itself
            assert r.status_code == 422, r.text
            continue
        if not message.recipients(names):
            assert r.status_code == 422, r.text
            continue
        assert r.status_code == 201, r.text
        model.post(message, now_s=0.0)
    for n in names:
        expected = [d.message.body["text"] for d in model.pending(n)]
        assert texts(inbox(client, who[n], cursors[n])) == expected


def test_reconnection_gets_every_message_in_order_once(
    client: TestClient, register: Register
) -> None:
    alpha, bravo = register("alpha"), register("bravo")
    for i in range(3):
        assert send(client, alpha, "bravo", f"first {i}").status_code == 201
    first = inbox(client, bravo)
    assert texts(first) == ["first 0", "first 1", "first 2"]
    held = first["messages"][1]["seq"]  # the client got the page but kept only two (then dropped)
    sent = [send(client, alpha, "bravo", f"later {i}").json() for i in range(5)]
    again = inbox(client, bravo, held)
    assert texts(again) == ["first 2"] + [f"later {i}" for i in range(5)]
    seqs = [m["seq"] for m in again["messages"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # what the client confirmed holding is delivered, the rest only sent
    states = {
        m["message"]["body"]["text"]: client.get(
            f"/v1/messages/{m['message']['message_id']}", headers=alpha["headers"]
        ).json()["deliveries"][0]["state"]
        for m in first["messages"] + again["messages"]
    }
    assert states["first 0"] == states["first 1"] == "delivered"
    assert states["first 2"] == states["later 4"] == "sent"
    # the WebSocket resumes from the same cursor and pushes the same messages, in order
    token = bravo["token"]
    with client.websocket_connect(f"/v1/events/ws?after={held}") as ws:
        ws.send_json({"token": token})  # a browser's way: the token as the first message
        pushed = [ws.receive_json() for _ in range(6)]
    assert [p["seq"] for p in pushed] == seqs
    assert pushed[-1]["payload"]["message_id"] == sent[-1]["message"]["message_id"]
    assert inbox(client, bravo, again["next"]) == {"messages": [], "next": again["next"]}
    status = client.get(
        f"/v1/messages/{sent[-1]['message']['message_id']}", headers=alpha["headers"]
    ).json()
    assert status["deliveries"] == [
        {"party": "bravo", "state": "delivered", "acknowledged_s": None}
    ]


def test_sent_delivered_acknowledged(client: TestClient, register: Register) -> None:
    alpha, bravo, charlie = register("alpha"), register("bravo"), register("charlie")
    body = {"to": "*", "body": {"text": "VIPER flight climbing to FL300"}}
    r = client.post("/v1/messages", json=signed_message(alpha, body), headers=alpha["headers"])
    assert r.status_code == 201, r.text
    assert r.json()["message"]["safety"] is False  # safety kinds are the host's (issue 11)
    mid = r.json()["message"]["message_id"]

    def states() -> dict[str, str]:
        got = client.get(f"/v1/messages/{mid}", headers=alpha["headers"]).json()
        return {d["party"]: d["state"] for d in got["deliveries"]}

    assert states() == {"bravo": "sent", "charlie": "sent"}
    page = inbox(client, bravo)
    inbox(client, bravo, page["next"])
    assert states() == {"bravo": "delivered", "charlie": "sent"}
    acked = ack(client, charlie, mid)
    assert acked.status_code == 200, acked.text
    assert acked.json()["message"]["kind"] == "acknowledgement"
    assert states() == {"bravo": "delivered", "charlie": "acknowledged"}
    again = ack(client, charlie, mid)
    assert again.json()["seq"] == acked.json()["seq"]  # acknowledged once
    # the recipient sees only its own delivery; the sender gets the acknowledgement
    own = client.get(f"/v1/messages/{mid}", headers=charlie["headers"]).json()
    assert [d["party"] for d in own["deliveries"]] == ["charlie"]
    back = inbox(client, alpha)["messages"]
    assert [(m["message"]["kind"], m["message"]["body"]["ref"]) for m in back] == [
        ("acknowledgement", mid)
    ]
    r = ack(client, alpha, mid)
    assert r.status_code == 403  # the sender cannot acknowledge its own message
    r = client.post(
        "/v1/messages",
        json={"to": "bravo", "kind": "acknowledgement", "body": {"ref": mid}},
        headers=alpha["headers"],
    )
    assert r.status_code == 422 and "/ack" in r.json()["error"]["message"]


def test_client_signatures_from_an_unknown_key_are_refused(
    client: TestClient, register: Register
) -> None:
    alpha = register("alpha")  # the service made alpha's key pair
    bravo = register("bravo")
    key = private_key_from_pem(alpha["private_key_pem"].encode())
    now = time.time()
    message = make_message("free_text", "alpha", "bravo", {"text": "signed"}, time_s=now)
    content = canonical_json(message_content(message))

    def post(signature: str, kid: str | None, text: str = "signed") -> Any:
        body = {
            "to": "bravo",
            "body": {"text": text},
            "time_s": now,
            "signature": signature,
            "key_id": kid,
        }
        return client.post("/v1/messages", json=body, headers=alpha["headers"])

    good = base64.b64encode(key.sign(content)).decode()
    ok = post(good, key_id(key.public_key()))
    assert ok.status_code == 201, ok.text
    entry = client.get("/v1/log", headers=ADMIN_HEADERS).json()["events"][-1]
    assert entry["payload"]["client_signature"] == good
    assert entry["payload"]["client_key_id"] == key_id(key.public_key())
    stranger = generate_private_key()
    forged = base64.b64encode(stranger.sign(content)).decode()
    r = post(forged, key_id(stranger.public_key()))
    assert r.status_code == 403, r.text
    assert key_id(stranger.public_key()) in r.json()["error"]["message"]
    r = post(forged, None)  # no key id: the signature simply does not verify
    assert r.status_code == 401, r.text
    assert "does not verify" in r.json()["error"]["message"]
    r = post(good, None, text="altered after signing")
    assert r.status_code == 401, r.text
    # unsigned: refused, saying what to sign and with which key
    r = client.post(
        "/v1/messages", json={"to": "bravo", "body": {"text": "x"}}, headers=alpha["headers"]
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]["message"]
    assert "unsigned" in error and "message_content(message)" in error
    assert key_id(key.public_key()) in error and '"body":{"text":"x"}' in error
    r = client.post(
        f"/v1/messages/{ok.json()['message']['message_id']}/ack", headers=bravo["headers"]
    )
    assert r.status_code == 422 and "acknowledgement_content" in r.json()["error"]["message"]
    assert len(inbox(client, {"headers": {"Authorization": f"Bearer {ADMIN}"}})["messages"]) == 0


def test_unacknowledged_safety_messages_escalate(client: TestClient, register: Register) -> None:
    alpha, bravo, charlie = register("alpha"), register("bravo"), register("charlie")
    policy = {"ack_timeout_s": 60, "repeat_every_s": 30, "host_after_steps": 2, "max_priority": 3}
    assert client.put("/v1/admin/hotline/policy", json=policy, headers=ADMIN_HEADERS).is_success
    notice = {"notice_id": "n1", "action": "open", "level": 2}
    body = {"to": ["bravo", "charlie"], "kind": "conflict_notice", "body": notice}
    r = client.post("/v1/messages", json=body, headers=ADMIN_HEADERS)  # the host's kind
    sent = r.json()["message"]
    mid, t0 = sent["message_id"], sent["time_s"]
    assert sent["priority"] == Priority.IMMEDIATE
    chat = send(client, alpha, "bravo", "not a safety message").json()["message"]["message_id"]
    ack(client, charlie, mid)
    store = client.app.state.store  # type: ignore[attr-defined]
    assert check_escalations(store, t0 + 59) == []
    step1 = check_escalations(store, t0 + 61)
    assert [e.payload["step"] for e in step1] == [1]
    assert step1[0].payload["recipients"] == ["bravo"]
    assert step1[0].payload["priority"] == Priority.FLASH
    assert check_escalations(store, t0 + 61) == []  # nothing repeated twice
    assert client.get("/v1/admin/escalations", headers=ADMIN_HEADERS).json() == []
    repeat = [m for m in inbox(client, bravo)["messages"] if m["kind"] == "repeat"]
    assert [(m["message"]["message_id"], m["message"]["priority"]) for m in repeat] == [
        (mid, Priority.FLASH)
    ]
    assert not [m for m in inbox(client, charlie)["messages"] if m["kind"] == "repeat"]
    check_escalations(store, t0 + 95)
    shown = client.get("/v1/admin/escalations", headers=ADMIN_HEADERS).json()
    assert [(s["message_id"], s["step"], s["recipients"]) for s in shown] == [(mid, 2, ["bravo"])]
    assert chat not in str(shown)
    assert client.get(f"/v1/messages/{mid}", headers=ADMIN_HEADERS).json()["escalation_step"] == 2
    ack(client, bravo, mid)
    assert check_escalations(store, t0 + 1000) == []
    assert client.get("/v1/admin/escalations", headers=alpha["headers"]).status_code == 403


def test_escalation_policy_defaults_to_the_hotlines(client: TestClient) -> None:
    got = client.get("/v1/admin/hotline/policy", headers=ADMIN_HEADERS).json()
    default = EscalationPolicy()
    assert got["ack_timeout_s"] == default.ack_timeout_s
    assert got["host_after_steps"] == default.host_after_steps
    bad = {"ack_timeout_s": 0, "repeat_every_s": 30, "host_after_steps": 2}
    r = client.put("/v1/admin/hotline/policy", json=bad, headers=ADMIN_HEADERS)
    assert r.status_code == 422


def test_the_host_key_signs_messages_and_the_log_verifies(
    client: TestClient, register: Register
) -> None:
    from deconflict.hotline.keys import KeyRing, public_key_from_b64
    from deconflict.hotline.log import verify_log

    alpha, _ = register("alpha"), register("bravo")
    send(client, alpha, "bravo", "hello")
    log = client.get("/v1/log", headers=ADMIN_HEADERS).json()["events"]
    host = next(e for e in log if e["kind"] == "host.key")["payload"]["public_key"]
    alpha_key = public_key_from_b64(alpha["public_key"])
    ring = KeyRing.from_public_keys({"host": public_key_from_b64(host), "alpha": alpha_key})
    assert verify_log(log, ring).ok
    assert [e["kind"] for e in log].count("message") == 1
    other = KeyRing.from_public_keys({"host": generate_private_key().public_key()})
    bad = verify_log(log, other).first_bad
    assert bad is not None and bad.position == 0 and bad.problem.value == "unknown_key"
    # without alpha's key, alpha's own signature of its message cannot be checked
    host_only = KeyRing.from_public_keys({"host": public_key_from_b64(host)})
    bad = verify_log(log, host_only).first_bad
    assert bad is not None and bad.problem.value == "unknown_key"
    assert log[bad.position]["kind"] == "message" and "'alpha'" in bad.detail
    assert public_key_to_b64(public_key_from_b64(host)) == host


def test_the_running_service_escalates_by_itself(db_url: str) -> None:
    """The app's background check repeats an unacknowledged safety message without being
    called (policy: 0.2 s to acknowledge; the check runs every 0.05 s here)."""
    from hotline_helpers import make_client

    client = make_client(db_url)
    client.app.state.hotline_check_every_s = 0.05  # type: ignore[attr-defined]
    with client:
        heads = {}
        for name in ("alpha", "bravo"):
            r = client.post("/v1/parties", json={"name": name}, headers=ADMIN_HEADERS)
            heads[name] = {**r.json(), "headers": {"Authorization": f"Bearer {r.json()['token']}"}}
        policy = {"ack_timeout_s": 0.2, "repeat_every_s": 60, "host_after_steps": 1}
        client.put("/v1/admin/hotline/policy", json=policy, headers=ADMIN_HEADERS)
        body = {"notice_id": "n9", "action": "open", "level": 3}
        r = client.post(  # a conflict notice is the host's kind
            "/v1/messages",
            json={"to": "bravo", "kind": "conflict_notice", "body": body},
            headers=ADMIN_HEADERS,
        )
        mid = r.json()["message"]["message_id"]
        deadline = time.monotonic() + 10
        shown: list[Any] = []
        while not shown and time.monotonic() < deadline:
            time.sleep(0.05)
            shown = client.get("/v1/admin/escalations", headers=ADMIN_HEADERS).json()
        assert [(s["message_id"], s["step"]) for s in shown] == [(mid, 1)]
        kinds = [m["kind"] for m in inbox(client, heads["bravo"])["messages"]]
        assert kinds == ["message", "repeat"]
