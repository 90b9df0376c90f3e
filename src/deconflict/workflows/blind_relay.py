"""The host's relay of blind checks and the outcomes it records (times Unix s UTC).

``relay`` checks one envelope (the sender is the caller and signed it with its registered key,
the time is within the clock skew, the round is the next one of that check and goes from the
right side, so a replayed or reordered message is refused), logs the hash of its signed content
(``blind.message``) and puts it in the recipient's mailbox; round 4's outcome, signed by the
answerer, is verified and logged as it passes (``blind.answered``). ``record_outcome`` logs the
outcome both parties signed (``blind.outcome``), handed in by the declarer. See
``workflows.blind`` for the declarations held to those outcomes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from deconflict.blind import protocol as pr
from deconflict.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from deconflict.hotline.canonical import canonical_json
from deconflict.store import EventDraft, Party, Store
from deconflict.store.blind import blind_write
from deconflict.workflows.hotline import require_party_signature, signed_time

#: The largest envelope body relayed (a check of ~100,000 cells fits).
MAX_BODY_BYTES = 16 * 1024 * 1024
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
ENVELOPE_WHAT = "envelope_content(check, round, sender, recipient, time_s, body, meta)"


def _party_named(store: Store, name: str) -> Party:
    for p in store.list_parties():
        if p.name == name and p.role == "party":
            return p
    raise NotFoundError(f"no party named {name!r}: see GET /v1/blind/parties")


# -- the relay ------------------------------------------------------------------------------------
def relay(store: Store, sender: Party, env: Mapping[str, Any], now_s: float) -> dict[str, Any]:
    """Check and relay one envelope; returns its log seq and hash."""
    check = str(env.get("check", ""))
    if not _HEX32.match(check):
        raise InputError(f"check {check!r} is not 32 lowercase hex characters")
    round_no = int(env.get("round", 0))
    if not 1 <= round_no <= pr.ROUNDS:
        raise InputError(f"round {round_no} is not 1 to {pr.ROUNDS}")
    if env.get("sender") != sender.name:
        raise PermissionDeniedError(
            f"the envelope names sender {env.get('sender')!r}, but the token is {sender.name!r}'s"
        )
    body, meta = env.get("body"), env.get("meta")
    if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
        raise InputError("body must be an object of strings (base64)")
    if not isinstance(meta, dict):
        raise InputError("meta must be an object")
    size = len(canonical_json(body))
    if size > MAX_BODY_BYTES:
        raise InputError(f"body is {size:,} bytes; the relay takes at most {MAX_BODY_BYTES:,}")
    content = pr.content_of(env)
    signature = env.get("signature")
    require_party_signature(
        sender.name, sender.public_key, content, signature, env.get("key_id"), what=ENVELOPE_WHAT
    )
    signed_time(now_s, float(env["time_s"]), str(signature))
    recipient = _party_named(store, str(env.get("recipient", "")))
    if recipient.id == sender.id:
        raise InputError("a check is between two parties: the recipient is the sender")
    digest = pr.message_hash(content)
    answered = _answered(check, sender, recipient, meta) if round_no == pr.ROUNDS else None
    with blind_write(store) as tx:
        c = tx.check(check)
        if round_no == 1:
            if c is not None:
                raise ConflictError(
                    f"check {check} was opened before: a replayed message is refused; open a "
                    "new check with a new id"
                )
            a_id, b_id = sender.id, recipient.id
        else:
            if c is None:
                raise NotFoundError(f"no check {check}: round 1 opens a check")
            a_id, b_id = c.a_id, c.b_id
            side = pr.SENDER_OF_ROUND[round_no]
            want = (a_id, b_id) if side == "a" else (b_id, a_id)
            if (sender.id, recipient.id) != want:
                raise PermissionDeniedError(
                    f"round {round_no} of check {check} goes from its "
                    f"{'declarer' if side == 'a' else 'answerer'} to the other party"
                )
            if round_no != c.rounds + 1 or c.outcome is not None:
                raise ConflictError(
                    f"round {round_no} of check {check} is not the next one (round {c.rounds} "
                    "was the last relayed): a replayed or reordered message is refused"
                )
        entry = EventDraft(
            sender.id,
            "blind.message",
            {
                "check": check,
                "round": round_no,
                "sender": sender.name,
                "recipient": recipient.name,
                "hash": digest,
                "bytes": size,
            },
            (recipient.id,),
        )
        stored = {k: env[k] for k in ("check", "round", "sender", "recipient", "time_s")}
        stored |= {"body": body, "meta": meta, "signature": signature, "key_id": env.get("key_id")}
        ev = tx.relayed(check, a_id, b_id, round_no, recipient.id, stored, entry)
        if answered is not None:
            tx.append(answered)
    return {"seq": ev.seq, "hash": digest}


def _canonical_outcome(outcome: Mapping[str, Any]) -> dict[str, Any]:
    try:
        canonical = pr.outcome_content(
            str(outcome["check"]),
            str(outcome["a"]),
            str(outcome["b"]),
            str(outcome["a_commitment"]),
            list(outcome["b_operations"]),
            int(outcome["cells"]),
            list(outcome["conflicts"]),
            float(outcome["time_s"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"the outcome is not one (missing or bad field {exc}): send "
            "blind.protocol.outcome_content(...) as both parties signed it"
        ) from None
    if canonical != dict(outcome):
        raise InputError("the outcome has fields outside blind.protocol.outcome_content")
    return canonical


OUTCOME_WHAT = "outcome_content(check, a, b, a_commitment, b_operations, cells, conflicts, time_s)"


def _answered(check: str, sender: Party, recipient: Party, meta: Mapping[str, Any]) -> EventDraft:
    """The answerer's signed outcome (round 4's meta), logged as it passes: every check's
    outcome reaches the log even if the declarer never hands it in."""
    outcome = meta.get("outcome")
    if not isinstance(outcome, dict):
        raise InputError("round 4 carries the answerer's signed outcome in meta.outcome")
    canonical = _canonical_outcome(outcome)
    if (canonical["check"], canonical["a"], canonical["b"]) != (check, recipient.name, sender.name):
        raise InputError("the outcome in round 4 names another check or other parties")
    kid = require_party_signature(
        sender.name, sender.public_key, canonical, meta.get("signature"), None, what=OUTCOME_WHAT
    )
    payload = {
        "outcome": canonical,
        "signatures": {"b": {"signature": meta["signature"], "key_id": kid}},
    }
    return EventDraft(sender.id, "blind.answered", payload, (sender.id, recipient.id))


# -- outcomes -------------------------------------------------------------------------------------
def record_outcome(
    store: Store, party: Party, outcome: Mapping[str, Any], signatures: Mapping[str, Any]
) -> dict[str, Any]:
    """Log the outcome of a finished check, signed by both parties (the declarer hands it in)."""
    check = str(outcome.get("check", ""))
    canonical = _canonical_outcome(outcome)
    with blind_write(store) as tx:
        c = tx.check(check)
        if c is None:
            raise NotFoundError(f"no check {check}")
        if c.a_id != party.id:
            raise PermissionDeniedError(f"check {check}'s outcome is handed in by its declarer")
        if c.outcome is not None:
            raise ConflictError(f"the outcome of check {check} is recorded already")
        if c.rounds != pr.ROUNDS:
            raise ConflictError(
                f"check {check} is at round {c.rounds} of {pr.ROUNDS}: finish it first"
            )
        b = tx.parties()[c.b_id]
        if canonical["a"] != party.name or canonical["b"] != b.name:
            raise InputError(f"the outcome names {canonical['a']!r} and {canonical['b']!r}")
        what = OUTCOME_WHAT
        kid_a = require_party_signature(
            party.name, party.public_key, canonical, signatures.get("a"), None, what=what
        )
        kid_b = require_party_signature(
            b.name, b.public_key, canonical, signatures.get("b"), None, what=what
        )
        signed = {
            "outcome": canonical,
            "signatures": {
                "a": {"signature": signatures["a"], "key_id": kid_a},
                "b": {"signature": signatures["b"], "key_id": kid_b},
            },
        }
        tx.set_outcome(check, signed)
        ev = tx.append(EventDraft(party.id, "blind.outcome", signed, (party.id, b.id)))
    return {"seq": ev.seq, "check": check, "conflict": canonical["conflict"]}
