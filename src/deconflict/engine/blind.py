"""The host's side of the blind check: relay, outcomes, declarations (times Unix s UTC).

Under ``disclosure = "blind"`` the host never sees a volume. It:

- **relays** the parties' check messages (``relay``): it checks the envelope (the sender is the
  caller and signed it with its registered key, the time is within the clock skew, the round is
  the next one of that check and comes from the right side, so a replayed or reordered message
  is refused), logs the hash of the signed content (``blind.message``: check, round, sender,
  recipient, hash, size) and puts the envelope in the recipient's mailbox, which the recipient
  empties as it reads (``store.blind.mailbox``); round 4's outcome, signed by the answerer, is
  verified and logged as it passes (``blind.answered``);
- **records outcomes** (``record_outcome``): the declarer hands in the outcome of a finished
  check signed by both parties; the host verifies both signatures with their registered keys
  and logs it (``blind.outcome``, to both);
- **holds declarations to the outcomes** (``declare``), in the write transaction: entering
  ``Accepted`` or ``Activated`` needs, for every other party with live blind operations, a
  recorded outcome of a check of this very commitment against exactly that party's live
  operations now (their ids and commitments). A missing or stale one is refused (409) naming
  the party to check with and its contact, as a missing token is for open operations; outcomes
  that found conflicts go to the procedures' rule (``strategic.rules``), and both owners are
  told (``blind.conflict``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deconflict.blind import protocol as pr
from deconflict.engine.deconfliction import buffers_for
from deconflict.engine.hotline import require_party_signature, signed_time
from deconflict.errors import (
    AwarenessError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from deconflict.hotline.canonical import canonical_json
from deconflict.settings import Settings
from deconflict.store import EventDraft, Party, Store
from deconflict.store.blind import BlindRecord, BlindTxn, blind_write
from deconflict.strategic import rules
from deconflict.strategic.cells import Grid
from deconflict.strategic.states import OperationState, check_transition, requires_awareness

#: The largest envelope body relayed (a check of ~100,000 cells fits).
MAX_BODY_BYTES = 16 * 1024 * 1024
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
ENVELOPE_WHAT = "envelope_content(check, round, sender, recipient, time_s, body, meta)"


def require_blind(settings: Settings) -> None:
    if settings.disclosure != "blind":
        raise PermissionDeniedError(
            "the procedures are open (disclosure = open): declare operations at /v1/operations; "
            "the host sets DECONFLICT_DISCLOSURE=blind for blind checks"
        )


def require_open(settings: Settings) -> None:
    """Open declarations are refused under blind procedures (they would go unchecked against
    the blind operations, whose volumes the host does not hold)."""
    if settings.disclosure == "blind":
        raise PermissionDeniedError(
            "the procedures are blind (disclosure = blind): declare with `deconflict agent`, "
            "through /v1/blind"
        )


def grid_of(settings: Settings) -> Grid:
    return Grid(settings.blind_cell_m, settings.blind_band_m, settings.blind_slot_s)


def grid_view(settings: Settings) -> dict[str, Any]:
    """What every party's node needs to make the same cells: the grid and the minima."""
    g = grid_of(settings)
    b = buffers_for(settings)
    return {
        "ident": g.ident,
        "cell_m": g.cell_m,
        "band_m": g.band_m,
        "slot_s": g.slot_s,
        "separation_standard": settings.separation_standard,
        "horizontal_m": b.horizontal_m,
        "vertical_m": b.vertical_m,
    }


def _party_named(store: Store, name: str) -> Party:
    for p in store.list_parties():
        if p.name == name and p.role == "party":
            return p
    raise NotFoundError(f"no party named {name!r}: see GET /v1/blind/parties")


def parties_view(store: Store, me: Party, now_s: float) -> list[dict[str, Any]]:
    """Every other party: name, contact, public key, and whether it has live blind operations
    (those a declaration must be checked with)."""
    from deconflict.store.blind import live_owners

    live = set(live_owners(store, now_s))
    return [
        {"name": p.name, "contact": p.contact, "public_key": p.public_key, "live": p.id in live}
        for p in store.list_parties()
        if p.role == "party" and p.id != me.id
    ]


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


# -- declarations ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Ranked:
    id: str
    owner: str
    priority: int
    state: OperationState
    token: str


def _ranked(r: BlindRecord) -> _Ranked:
    return _Ranked(r.id, r.owner_id, r.priority, OperationState(r.state), r.token)


@dataclass(frozen=True)
class Declaration:
    commitment: str
    contact: str
    priority: int
    state: OperationState
    expires_s: float
    checks: Sequence[str]


def _operations(outcome: Mapping[str, Any]) -> list[tuple[str, str]]:
    return sorted((str(x["id"]), str(x["commitment"])) for x in outcome["b_operations"])


def _gaps(
    tx: BlindTxn, owner: Party, d: Declaration, now_s: float
) -> tuple[list[tuple[str, str]], list[BlindRecord]]:
    """Whose check is missing or stale ((party id, reason)), and the operations in conflict."""
    live: dict[str, list[BlindRecord]] = {}
    for r in tx.live(now_s):
        if r.owner_id != owner.id:
            live.setdefault(r.owner_id, []).append(r)
    outcomes = [
        (c.b_id, dict(c.outcome["outcome"]))
        for c in tx.checks(sorted(set(d.checks)))
        if c.outcome is not None and c.a_id == owner.id
    ]
    gaps: list[tuple[str, str]] = []
    conflicting: list[BlindRecord] = []
    for other, ops in sorted(live.items()):
        now_set = sorted((r.id, r.commitment) for r in ops)
        mine = [o for b_id, o in outcomes if b_id == other and o["a_commitment"] == d.commitment]
        fresh = [
            o
            for o in mine
            if sorted((x["id"], x["commitment"]) for x in o["b_operations"]) == now_set
        ]
        if not fresh:
            gaps.append((other, "stale" if mine else "missing"))
            continue
        latest = max(fresh, key=lambda o: float(o["time_s"]))
        hit = set(latest["conflicts"])
        conflicting += [r for r in ops if r.id in hit]
    return gaps, conflicting


def declare(
    store: Store,
    settings: Settings,
    owner: Party,
    d: Declaration,
    now_s: float,
    *,
    op_id: str | None = None,
    expected_token: str | None = None,
) -> BlindRecord:
    """Write a blind operation (new, or a new version of ``op_id`` given its current token),
    held to the recorded outcomes of its checks."""
    if not _HEX64.match(d.commitment):
        raise InputError("commitment must be 64 lowercase hex characters (SHA-256)")
    if d.expires_s <= now_s:
        raise InputError("expires is in the past: give the time after which it has ended")
    error: Exception | None = None
    with blind_write(store) as tx:
        current = None
        if op_id is not None:
            current = tx.operation(op_id)
            if current is None or current.owner_id != owner.id:
                raise NotFoundError(f"no blind operation {op_id!r} of yours")
            if expected_token != current.token:
                raise ConflictError(
                    f"blind operation {op_id} is at version {current.version} and the token "
                    "given is not its current one; GET it and retry with its token"
                )
        check_transition(None if current is None else OperationState(current.state), d.state)
        new_id = op_id or pr.new_check_id()
        conflicting: list[BlindRecord] = []
        if d.state != OperationState.ENDED:
            gaps, conflicting = _gaps(tx, owner, d, now_s)
            if gaps and requires_awareness(d.state):
                names = tx.parties()
                missing = [
                    {"party": names[p].name, "contact": names[p].contact, "reason": why}
                    for p, why in gaps
                ]
                listed = ", ".join(f"{m['party']} ({m['reason']}; {m['contact']})" for m in missing)
                raise AwarenessError(
                    "proof of awareness failed: run the blind check of this commitment with "
                    f"{listed}, then declare with the check ids in `checks`",
                    missing=missing,
                )
        verdict = rules.decide(
            _Ranked(new_id, owner.id, d.priority, d.state, ""),
            [_ranked(r) for r in conflicting],
            rules.ConflictRule(rules.ConflictPolicy(settings.conflict_rule)),
            {r.id: r.token for r in conflicting},
        )
        payload = {
            "operation": new_id,
            "commitment": d.commitment,
            "state": d.state.value,
            "priority": d.priority,
            "checks": sorted(set(d.checks)),
            "conflicts": list(verdict.conflicting_ids),
        }
        outcome = "accepted" if verdict.accepted else "rejected"
        for r in conflicting:
            about = {"operation": new_id, "other": r.id, "outcome": outcome}
            tx.append(EventDraft(owner.id, "blind.conflict", about, (owner.id, r.owner_id)))
        if not verdict.accepted:
            error = rules.ConflictRejectedError(
                verdict.conflicting_ids,
                f"refused: {verdict.reason}; change the volumes or times, or raise the priority "
                "where the procedures allow",
            )
        else:
            version = 1 if current is None else current.version + 1
            tx.append(
                EventDraft(owner.id, "blind.declared", payload | {"version": version}, (owner.id,))
            )
            record = tx.put_operation(
                new_id,
                owner.id,
                d.commitment,
                d.contact,
                d.priority,
                d.state.value,
                d.expires_s,
                current,
            )
    if error is not None:
        raise error
    return record
