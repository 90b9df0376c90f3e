"""Strategic checks of the shared service: the strategic kernels applied to the store's state.

Metres and seconds inside, degrees at the edge. Every check runs inside the store's write
transaction (``Store.write_operation``), against an ``OperationIndex`` of the live operations
that is brought up to date from the store's log seq first, so what is checked is exactly what
is committed: the proof of awareness and the write are one step.

The rules applied, as the procedures (``Settings``) set them:

- proof of awareness: entering ``Accepted`` or ``Activated`` needs the current token of every
  other party's operation the new version conflicts with (volumes closer than the separation
  standard's minima while their times overlap); missing ones give 409 with each one's
  need-to-know view;
- conflicts the writer is aware of: ``deconflict.strategic.rules`` (``reject``: 409, or
  ``accept-by-priority``: accepted and flagged when its priority is higher than every
  conflicting one's); off-nominal states (``Nonconforming``, ``Contingent``) are always
  accepted, so an aircraft off its plan can say so; both owners are notified either way;
- one's own operations never block one another;
- disclosure is bound to what the writer has committed to: the 409's views and the conflict
  entries are computed against the new version, so a version beyond the procedures' disclosure
  bound (``need_to_know.DisclosureBound``: ``disclosure_max_area_km2``,
  ``disclosure_max_duration_s``) that would be shown others' operations without being written
  is refused (413) before anything is shown; each operation shown in a 409 gets an
  ``operation.disclosed`` entry to its owner (who was shown which parts), and a conflict's
  ``operation.conflict`` entries tell each owner what the other was shown.

The conversions between the store's records and the strategic model (drafts, models,
footprint boxes) are in ``workflows.strategic_records``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from deconflict.errors import AwarenessError, ConflictError, NotFoundError
from deconflict.hotline.authorship import DECLARED_BY_FIELD, VIA_F3548, VIA_FIELD
from deconflict.settings import Settings
from deconflict.store import (
    ConstraintRecord,
    Decision,
    EventDraft,
    OperationDraft,
    OperationRecord,
    Party,
    Store,
    WriteView,
)
from deconflict.store.dss import DssTx
from deconflict.strategic import rules
from deconflict.strategic.constraints import ConstraintRule, ConstraintSet, check_operation
from deconflict.strategic.index import OperationIndex, conflicting_ids
from deconflict.strategic.model import NO_BUFFERS, Buffers, Operation
from deconflict.strategic.need_to_know import DisclosureBound
from deconflict.strategic.states import OperationState, check_transition
from deconflict.workflows.declarations import Signed, check_declaration
from deconflict.workflows.disclosure import disclosed_entry, too_large
from deconflict.workflows.strategic_records import constraint_of, draft_for, operation_of


def buffers_for(settings: Settings) -> Buffers:
    """The buffers of the procedures' separation standard (``none``: InterUSS's rule)."""
    if settings.separation_standard == "none":
        return NO_BUFFERS
    from deconflict.predict.standards import get_standard

    return Buffers.from_standard(get_standard(settings.separation_standard))


class ConstraintError(ConflictError):
    """The operation enters an airspace constraint that the procedures close to it (409)."""


def _action(rule: str) -> Literal["reject", "flag"]:
    return "reject" if rule == "reject" else "flag"


SharedView = Callable[
    [Operation, Sequence[Operation], Callable[[str], Party | None]], dict[str, Any]
]


class Deconflictor:
    """The live-operation index and the write rules; one per service instance."""

    def __init__(self, settings: Settings, store: Store, shared_view: SharedView) -> None:
        self.settings = settings
        self.store = store
        self.buffers = buffers_for(settings)
        self.index = OperationIndex(self.buffers)
        self.shared_view = shared_view
        self.rule = rules.ConflictRule(rules.ConflictPolicy(settings.conflict_rule))
        self.bound = DisclosureBound(
            settings.disclosure_max_area_km2 * 1e6, settings.disclosure_max_duration_s
        )
        self.seq = -2  # never synced
        # the index is shared by the writes (inside the store's write transaction) and the reads
        # (``shared_with``): whoever touches it holds this lock, always after the store's own
        self.lock = threading.RLock()
        self.constraint_rule = ConstraintRule(
            no_fly=_action(settings.no_fly_rule), restricted=_action(settings.restricted_rule)
        )
        # every constraint and its compiled set, for the writes (replaced whole, in ``sync``,
        # when the list changes: constraints are added and deleted, never edited)
        self._constraints: tuple[list[ConstraintRecord], ConstraintSet] = ([], ConstraintSet(()))
        # the last set ``constraint_set`` compiled, with its ids (one attribute: read once, it
        # is consistent even while another thread replaces it)
        self._asked: tuple[tuple[str, ...], ConstraintSet] = ((), ConstraintSet(()))

    def constraint_set(self, records: Sequence[ConstraintRecord]) -> ConstraintSet:
        """The compiled set of these constraints (kept while the same ones are asked for)."""
        key = tuple(r.id for r in records)
        asked_key, cset = self._asked
        if key != asked_key:
            cset = ConstraintSet(constraint_of(r) for r in records)
            self._asked = (key, cset)
        return cset

    def model(self, record: OperationRecord) -> Operation:
        """The strategic model of a stored operation: the index's when it holds this very
        version, else parsed (and validated) from the record."""
        try:
            op = self.index.get(record.id)
        except NotFoundError:
            return operation_of(record)
        if op.version == record.version and op.token == record.token:
            return op
        return operation_of(record)

    def conflicts_of(
        self, candidate: Operation, owner_id: str, presented: set[str], *, f3548: bool = False
    ) -> tuple[list[Operation], rules.Decision]:
        """The other parties' live operations ``candidate`` conflicts with, and the procedures'
        verdict given the tokens ``presented`` (the check inside every write).

        ``f3548``: the rule of the ASTM F3548-21 DSS instead: proof of awareness of every
        relevant operation, one's own included (another instance of the same USS may have
        written it), and no verdict beyond that: in F3548 the USSs arbitrate conflicts by
        priority, the DSS only checks that the writer knew of them."""
        hits = conflicting_ids(self.index.query(candidate))
        found = [self.index.get(i) for i in hits if i != candidate.id]
        others = found if f3548 else [o for o in found if o.owner != owner_id]
        verdict = rules.decide(candidate, others, self.rule, presented)
        if f3548 and not verdict.accepted and not verdict.gaps:
            verdict = dataclasses.replace(
                verdict, accepted=True, reason="aware of every conflict (ASTM F3548-21 DSS)"
            )
        return others, verdict

    def refresh(self) -> None:
        """Bring the index up to the store's committed state, for a read (writes sync inside
        their own transaction)."""
        with self.store.snapshot() as view, self.lock:
            if view.seq > self.seq:
                try:
                    self.sync(view)
                except Exception:
                    self.seq = -2
                    raise

    def warm(self) -> None:
        """Build the index from the store before the first write (the write's own check then
        only catches up on what was committed since)."""
        with self.store.snapshot() as view:
            self.sync(view)

    def sync(self, view: WriteView) -> None:
        """Bring the index up to the store's committed state (inside a write transaction)."""
        if view.seq == self.seq:
            return
        for record in view.operations_since(self.seq):
            if record.state == OperationState.ENDED.value:  # never in the index: not parsed
                if record.id in self.index:
                    self.index.remove(record.id)
                continue
            self.index.add(self.model(record))
        # constraints change rarely; every change moves the log head, so they are read again
        # only when something other than this instance's own operation writes happened
        records = view.constraints(-1e12, 1e12)
        if [r.id for r in records] != [r.id for r in self._constraints[0]]:
            self._constraints = (records, ConstraintSet(constraint_of(r) for r in records))
        self.seq = view.seq

    def write(
        self,
        owner: Party,
        candidate: Operation,
        keys: Iterable[str],
        *,
        op_id: str | None = None,
        expected_token: str | None = None,
        signed: Signed | None = None,
        f3548: bool = False,
        also: Callable[[DssTx, OperationRecord], None] | None = None,
    ) -> OperationRecord:
        """Check ``candidate`` (a new operation, or a new version of ``op_id``) and write it;
        returns the record written. ``signed``: the owner's signature, checked first
        (``workflows.declarations``; None: the caller is the host's own code, nothing to check).

        ``f3548``: a write of the ASTM F3548-21 DSS API (``conflicts_of``'s rule; creating an
        id whose operation has ended replaces it; the standard has no party signature, so the
        entry is marked ``via: f3548`` with the USS that the OAuth token named: host-attested);
        ``also`` runs in the same transaction after the write (``Store.write_operation``)."""
        presented = set(keys)

        def decide(
            draft: OperationDraft, current: OperationRecord | None, view: WriteView
        ) -> Decision:
            entry: dict[str, Any] = {}
            if signed is not None:
                state = candidate.state.value
                entry = check_declaration(owner, draft, state, current, signed, time.time())
            elif f3548:  # F3548 has no party signature: the USS its OAuth token named
                entry = {DECLARED_BY_FIELD: owner.name, VIA_FIELD: VIA_F3548}
            with self.lock:
                decision = checked(draft, current, view)
            return dataclasses.replace(decision, entry=entry) if decision.commit else decision

        def checked(
            draft: OperationDraft, current: OperationRecord | None, view: WriteView
        ) -> Decision:
            try:
                self.sync(view)
            except Exception:
                self.seq = -2  # rebuild from scratch next time
                raise
            assert draft.id is not None
            cand = candidate.model_copy(update={"id": draft.id, "owner": owner.id})
            state = cand.state
            check_transition(None if current is None else OperationState(current.state), state)
            if state == OperationState.ENDED:
                return Decision(commit=True, state=state.value)
            flags: list[dict[str, Any]] = []
            events: list[EventDraft] = []
            constraints, cset = self._constraints
            if len(cset):  # the check keeps to the constraints active in the volumes' times
                entered = check_operation(cand, cset)
                if entered:
                    ids = sorted({h.constraint_id for h in entered})
                    refused = sorted(
                        {h.constraint_id for h in self.constraint_rule.rejects(entered)}
                    )
                    names = {r.id: r.name for r in constraints}
                    events.append(
                        EventDraft(
                            owner.id,
                            "operation.constraint",
                            {
                                "operation": cand.id,
                                "constraints": [{"id": i, "name": names[i]} for i in ids],
                                "outcome": "rejected" if refused else "accepted",
                            },
                            (owner.id,),
                        )
                    )
                    if refused:
                        return Decision(
                            commit=False,
                            events=events,
                            error=ConstraintError(
                                "the operation enters airspace constraint(s) the procedures "
                                "close to it: "
                                + ", ".join(f"{names[i]} ({i})" for i in refused)
                                + "; route it around them or change its times or altitudes"
                            ),
                        )
                    flags.append({"kind": "constraint", "constraints": ids})
            others, verdict = self.conflicts_of(cand, owner.id, presented, f3548=f3548)
            if others and (verdict.gaps or not verdict.accepted):
                excess = self.bound.excess(cand)  # shown others' operations, yet not written
                if excess is not None:
                    return Decision(commit=False, error=too_large(excess))
            if verdict.gaps:
                missing = [self.index.get(g.operation_id) for g in verdict.gaps]
                views = [self.shared_view(o, [cand], view.party) for o in missing]
                return Decision(
                    commit=False,
                    events=[
                        disclosed_entry(owner, o, v) for o, v in zip(missing, views, strict=True)
                    ],
                    error=AwarenessError(
                        str(rules.MissingAwarenessError(verdict.gaps)), missing=views
                    ),
                )
            if not others:
                return Decision(commit=True, state=state.value, flags=flags, events=events)
            outcome = "accepted" if verdict.accepted else "rejected"
            for o in (o for o in others if o.owner != owner.id):
                events.append(
                    EventDraft(
                        owner.id,
                        "operation.conflict",
                        {
                            "operation": o.id,
                            "outcome": outcome,
                            "reason": verdict.reason,
                            "other": self.shared_view(cand, [o], view.party),
                        },
                        (o.owner,),
                    )
                )
                events.append(
                    EventDraft(
                        owner.id,
                        "operation.conflict",
                        {
                            "operation": cand.id,
                            "outcome": outcome,
                            "reason": verdict.reason,
                            "other": self.shared_view(o, [cand], view.party),
                        },
                        (owner.id,),
                    )
                )
            if not verdict.accepted:
                return Decision(
                    commit=False,
                    events=events,
                    error=rules.ConflictRejectedError(
                        verdict.conflicting_ids,
                        f"refused: {verdict.reason}; change the volumes or times, or raise the "
                        "priority where the procedures allow",
                    ),
                )
            flags.append({"kind": "conflict", "operations": list(verdict.conflicting_ids)})
            return Decision(commit=True, state=state.value, flags=flags, events=events)

        draft = draft_for(candidate, owner, op_id)
        touched = False

        def written(record: OperationRecord, seq: int) -> None:
            # inside the transaction, under the write lock: the index follows the store
            nonlocal touched
            touched = True
            with self.lock:
                follow(record, seq)

        def follow(record: OperationRecord, seq: int) -> None:
            model = candidate.model_copy(
                update={
                    "id": record.id,
                    "owner": owner.id,
                    "version": record.version,
                    "token": record.token,
                    "state": OperationState(record.state),
                }
            )
            self.index.add(model)
            self.seq = seq

        try:
            record, _ = self.store.write_operation(
                draft,
                decide,
                expected_token=expected_token,
                on_written=written,
                also=also,
                replace_ended=f3548,
            )
        except Exception:
            if touched:  # the commit failed after the index took the write: rebuild it
                with self.lock:
                    self.index = OperationIndex(self.buffers)
                    self.seq = -2  # never synced
            raise
        assert record is not None
        return record
