"""Escalation in the shared service: the host's policy, and the repeats of unacknowledged safety
messages (``hotline.escalation``'s rules over the log's entries; times Unix s UTC, passed in)."""

from __future__ import annotations

from typing import Any, Final

from deconflict.hotline.escalation import (
    ActionKind,
    EscalationPolicy,
    escalate,
    escalation_step,
)
from deconflict.hotline.messages import (
    SAFETY_KINDS,
    Message,
    Priority,
)
from deconflict.store import Event, EventDraft, Store, follow
from deconflict.store import hotline as log


def current_policy(store: Store) -> EscalationPolicy:
    """The escalation policy the host set last (the hotline's default when none)."""
    entry = log.latest(store, log.POLICY)
    if entry is None:
        return EscalationPolicy()
    p = entry.payload
    return EscalationPolicy(
        float(p["ack_timeout_s"]),
        float(p["repeat_every_s"]),
        int(p["host_after_steps"]),
        Priority(int(p["max_priority"])),
    )


def set_policy(store: Store, policy: EscalationPolicy) -> Event:
    payload = {
        "ack_timeout_s": policy.ack_timeout_s,
        "repeat_every_s": policy.repeat_every_s,
        "host_after_steps": policy.host_after_steps,
        "max_priority": int(policy.max_priority),
    }
    return store.append_events([EventDraft("host", log.POLICY, payload)])[0]


_SAFETY: Final = sorted(k.value for k in SAFETY_KINDS)


def _head(e: Event) -> tuple[str, float, tuple[str, ...]]:
    """Message id, time (s) and recipients of a safety message's entry."""
    return str(e.payload["message_id"]), float(e.payload["time_s"]), tuple(e.payload["recipients"])


_ACKNOWLEDGING: Final = sorted(log.ACKNOWLEDGING_KINDS)


def _ack_head(e: Event) -> tuple[str | None, str]:
    """The message an acknowledgement (or identification answer) acknowledges (its
    ``body.ref``, None when it names none) and the party that sent it."""
    ref = (e.payload.get("body") or {}).get("ref")
    return (None if ref is None else str(ref)), str(e.payload["sender"])


def _repeat_head(e: Event) -> tuple[str, int]:
    """Message id and escalation step of a ``message.repeat`` entry."""
    return str(e.payload["message_id"]), int(e.payload["step"])


def check_escalations(
    store: Store, now_s: float, policy: EscalationPolicy | None = None
) -> list[Event]:
    """Repeat every unacknowledged safety message that is due, one priority higher, to the
    parties that have not acknowledged it, and show it to the host from the policy's step on.
    Returns the ``message.repeat`` entries written (none when nothing is due)."""
    policy = current_policy(store) if policy is None else policy
    heads = follow.followed(store, _SAFETY, _head)
    if not heads:
        return []
    # the acknowledgements and the steps taken, each entry read and decoded once (followed),
    # not every acknowledgement of the log at every check
    acks = follow.followed_index(store, _ACKNOWLEDGING, _ack_head)
    steps = follow.followed_index(store, (), _repeat_head, entry_kind=log.REPEAT)

    def acked(mid: str) -> set[str]:
        return {party for _, _, party in acks.get(mid, ())}

    def done(mid: str) -> int:
        return max((step for _, _, step in steps.get(mid, ())), default=0)

    # only the entries of the messages due are read and parsed (their ids re-derived)
    due = [
        seq
        for seq, mid, time_s, recipients in heads
        if set(recipients) - acked(mid) and escalation_step(time_s, now_s, policy) > done(mid)
    ]
    names = log.party_ids(store)
    drafts = []
    for entry in log.entries_at(store, due) if due else []:
        message = Message.from_dict(entry.payload)
        mid = message.message_id
        waiting = set(entry.payload["recipients"]) - acked(mid)
        result = escalate(message, waiting, now_s, policy, done(mid))
        if not result.actions:
            continue
        repeat = result.actions[0]
        host = any(a.kind is ActionKind.NOTIFY_HOST for a in result.actions)
        ids = {names.get(r, r) for r in repeat.recipients} | ({log.HOST_ID} if host else set())
        payload = {
            "message_id": mid,
            "step": result.step,
            "priority": int(repeat.priority),
            "recipients": list(repeat.recipients),
            "host": host,
            "time_s": now_s,
            "message": message.to_dict(),
        }
        drafts.append(EventDraft("host", log.REPEAT, payload, tuple(sorted(ids))))
    return log.append_repeats(store, drafts)  # a step another instance took is skipped


def host_escalations(store: Store, after: int = -1) -> list[dict[str, Any]]:
    """Escalation steps shown to the host, in order."""
    return [
        {"seq": e.seq, **e.payload}
        for e in log.entries_for(store, log.REPEAT, log.HOST_ID)
        if e.seq > after
    ]
