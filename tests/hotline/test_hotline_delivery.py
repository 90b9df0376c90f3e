"""Hotline messages: addressing, disclosure, ordered exactly-once delivery, escalation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.errors import InputError, NotFoundError
from deconflict.hotline.delivery import DeliveryState, Mailbox
from deconflict.hotline.escalation import (
    ActionKind,
    EscalationPolicy,
    escalate,
    escalation_step,
)
from deconflict.hotline.messages import (
    ALL,
    Message,
    MessageKind,
    Priority,
    acknowledgement,
    make_message,
    visible_to,
)

PARTIES = ["alpha", "bravo", "charlie", "delta", "host"]


def text(sender: str, to: str | list[str], t: float, body: str = "hello") -> Message:
    return make_message(MessageKind.FREE_TEXT, sender, to, {"text": body}, time_s=t)


def test_make_message_checks_kind_addressing_and_body() -> None:
    with pytest.raises(InputError, match="unknown message kind"):
        make_message("gossip", "alpha", "bravo", {}, time_s=0)
    with pytest.raises(InputError, match="no recipient"):
        make_message(MessageKind.FREE_TEXT, "alpha", [], {"text": "x"}, time_s=0)
    with pytest.raises(InputError, match="lacks body field"):
        make_message(MessageKind.IDENTIFICATION_REQUEST, "host", ALL, {"track_id": "T1"}, time_s=0)
    m = make_message(
        MessageKind.CONFLICT_NOTICE,
        "host",
        ["bravo", "alpha", "bravo"],
        {"notice_id": "n", "action": "open", "level": 2},
        time_s=5,
    )
    assert m.to == ("alpha", "bravo") and m.safety and m.priority is Priority.IMMEDIATE
    assert Message.from_dict(m.to_dict()) == m
    with pytest.raises(InputError, match="altered"):
        Message.from_dict({**m.to_dict(), "body": {**m.body, "level": 1}})
    assert not text("alpha", "bravo", 0).safety


def test_recipients_one_several_all() -> None:
    assert text("alpha", "bravo", 0).recipients(PARTIES) == ("bravo",)
    assert text("alpha", ["bravo", "delta"], 0).recipients(PARTIES) == ("bravo", "delta")
    assert text("alpha", ALL, 0).recipients(PARTIES) == ("bravo", "charlie", "delta", "host")
    assert text("alpha", ["zulu", "bravo"], 0).recipients(PARTIES) == ("bravo",)


def test_delivery_state_machine_and_ack() -> None:
    box = Mailbox(PARTIES)
    m = make_message(
        MessageKind.INCIDENT_REPORT,
        "host",
        ["alpha", "bravo"],
        {"incident_id": "i1", "severity": "B"},
        time_s=10,
    )
    box.post(m, now_s=10)
    assert box.post(m, now_s=11) == box.deliveries(m.message_id)  # idempotent
    assert [d.state for d in box.deliveries(m.message_id)] == [DeliveryState.SENT] * 2
    got = box.fetch("alpha", 0, now_s=12)
    assert [d.message for d in got] == [m]
    box.fetch("alpha", 1, now_s=13)  # the client confirms it holds seq 1
    states = {d.recipient: d.state for d in box.deliveries(m.message_id)}
    assert states == {"alpha": DeliveryState.DELIVERED, "bravo": DeliveryState.SENT}
    box.acknowledge("alpha", m.message_id, now_s=20)
    alpha = next(d for d in box.deliveries(m.message_id) if d.recipient == "alpha")
    assert (alpha.sent_s, alpha.delivered_s, alpha.acknowledged_s) == (10, 13, 20)
    assert box.unacknowledged(m.message_id) == ("bravo",)
    with pytest.raises(NotFoundError):
        box.acknowledge("charlie", m.message_id, now_s=21)
    ack = acknowledgement(m, "bravo", time_s=22)
    assert ack.to == ("host",) and ack.body["ref"] == m.message_id
    with pytest.raises(InputError):
        acknowledgement(m, "charlie", time_s=22)
    with pytest.raises(InputError, match="beyond"):
        box.fetch("alpha", 5, now_s=30)


addressing = st.one_of(
    st.just(ALL), st.lists(st.sampled_from(PARTIES), min_size=1, max_size=3).map(sorted)
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PARTIES), addressing), min_size=1, max_size=25))
def test_a_party_never_reads_messages_not_addressed_to_it(
    posts: list[tuple[str, str | list[str]]],
) -> None:
    box = Mailbox(PARTIES)
    sent: list[tuple[str, str | list[str], Message]] = []
    for i, (sender, to) in enumerate(posts):
        if to != ALL and set(to) == {sender}:
            continue
        m = text(sender, to, float(i), body=f"m{i}")
        box.post(m, now_s=float(i))
        sent.append((sender, to, m))
    for party in PARTIES:
        # Independent statement of the rule, from the raw addressing drawn above.
        expected_in = [m for s, to, m in sent if s != party and (to == ALL or party in to)]
        delivered = [d.message for d in box.fetch(party, 0, now_s=99.0)]
        assert delivered == expected_in
        assert all(d.recipient == party for d in box.pending(party))
        seen = box.messages_seen_by(party)
        assert seen == [m for s, to, m in sent if s == party or to == ALL or party in to]
        for _, _, m in sent:
            assert visible_to(m, party) == (m in seen)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("post"), st.sampled_from(["alpha", "bravo"]), addressing),
            st.tuples(st.just("drop"), st.integers(0, 5), st.just("")),
            st.tuples(st.just("reconnect"), st.just(0), st.just("")),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_disconnected_recipient_gets_everything_in_order_exactly_once(
    ops: list[tuple[str, object, object]],
) -> None:
    """Client of 'charlie': while connected, pushes can be cut after any number of messages;
    on reconnection it fetches from its cursor. In the end it holds every message addressed
    to it, in posting order, each once."""
    box = Mailbox(PARTIES)
    expected: list[str] = []
    received: list[str] = []
    cursor = 0
    connected = True
    for i, (op, arg, to) in enumerate(ops):
        now = float(i)
        if op == "post":
            assert isinstance(arg, str)
            if to != ALL and set(to) == {arg}:  # type: ignore[arg-type]
                continue
            m = text(arg, to, now, body=f"m{i}")  # type: ignore[arg-type]
            box.post(m, now)
            if m.addressed_to("charlie"):
                expected.append(m.message_id)
            if connected:  # live push of everything new
                for d in box.fetch("charlie", cursor, now):
                    received.append(d.message.message_id)
                    cursor = d.seq
        elif op == "drop":
            assert isinstance(arg, int)
            if connected:  # the link fails after `arg` of the pending pushes got through
                for d in box.pending("charlie", cursor)[:arg]:
                    received.append(d.message.message_id)
                    cursor = d.seq
            connected = False
        else:
            connected = True
            for d in box.fetch("charlie", cursor, now):
                received.append(d.message.message_id)
                cursor = d.seq
    for d in box.fetch("charlie", cursor, 1e6):
        received.append(d.message.message_id)
        cursor = d.seq
    box.confirm("charlie", cursor, 1e6)
    assert received == expected
    assert all(d.state is DeliveryState.DELIVERED for d in box.pending("charlie"))


def test_escalation_repeats_raises_and_notifies_host_once() -> None:
    policy = EscalationPolicy(ack_timeout_s=120, repeat_every_s=60, host_after_steps=2)
    m = make_message(
        MessageKind.CONFLICT_NOTICE,
        "host",
        ["alpha", "bravo"],
        {"notice_id": "n1", "action": "open", "level": 1},
        time_s=1000,
    )
    assert escalate(m, {"alpha", "bravo"}, 1119.9, policy).actions == ()
    first = escalate(m, {"alpha", "bravo"}, 1120, policy)
    assert first.step == 1
    assert [a.kind for a in first.actions] == [ActionKind.REPEAT, ActionKind.RAISE_PRIORITY]
    assert first.actions[0].recipients == ("alpha", "bravo")
    assert first.actions[0].priority is Priority.FLASH  # IMMEDIATE + 1
    assert escalate(m, {"bravo"}, 1150, policy, steps_done=1).actions == ()
    second = escalate(m, {"bravo"}, 1180, policy, steps_done=1)
    assert [a.kind for a in second.actions] == [ActionKind.REPEAT, ActionKind.NOTIFY_HOST]
    assert second.actions[0].recipients == ("bravo",)
    third = escalate(m, {"bravo"}, 1240, policy, steps_done=2)
    assert [a.kind for a in third.actions] == [ActionKind.REPEAT]
    assert escalate(m, set(), 5000, policy).actions == ()
    # A caller that missed ticks still notifies the host once.
    late = escalate(m, {"alpha"}, 1300, policy, steps_done=0)
    assert late.step == 4 and ActionKind.NOTIFY_HOST in [a.kind for a in late.actions]


def test_non_safety_messages_never_escalate() -> None:
    policy = EscalationPolicy()
    assert escalate(text("alpha", "bravo", 0), {"bravo"}, 1e6, policy).actions == ()
    assert escalation_step(0, 119.0, policy) == 0 and escalation_step(0, 239.0, policy) == 2
    with pytest.raises(InputError):
        EscalationPolicy(ack_timeout_s=0)
