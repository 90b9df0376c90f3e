"""The host's side of the blind check: relay, outcomes, declarations (times Unix s UTC).

Under ``disclosure = "blind"`` the host never sees a volume. It:

- **relays** the parties' check messages (``workflows.blind_relay.relay``): it checks each
  envelope (signed by the calling party's registered key, on time, the next round of its check
  from the right side: a replayed or reordered message is refused), logs the hash of its
  signed content (``blind.message``) and puts it in the recipient's mailbox, which the
  recipient empties as it reads (``store.blind.mailbox``); round 4's outcome, signed by the
  answerer, is verified and logged as it passes (``blind.answered``);
- **records outcomes** (``workflows.blind_relay.record_outcome``): the declarer hands in the
  outcome of a finished check signed by both parties; the host verifies both signatures with
  their registered keys and logs it (``blind.outcome``, to both);
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
from deconflict.errors import (
    AwarenessError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from deconflict.settings import Settings
from deconflict.store import EventDraft, Party, Store
from deconflict.store.blind import BlindRecord, BlindTxn, blind_write
from deconflict.strategic import rules
from deconflict.strategic.cells import Grid
from deconflict.strategic.states import OperationState, check_transition, requires_awareness
from deconflict.workflows.deconfliction import buffers_for

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


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
