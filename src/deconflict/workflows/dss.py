"""The ASTM F3548-21 DSS on the store: ``Dss``, the DSS workflows of one service instance
(seconds, metres, degrees; volumes already converted to barometric by the wire layer,
``deconflict.service.dss.wire``). This module holds operational intent references (which *are*
operations, written by ``Deconflictor.write``), USS availability and reports; ``Dss``
delegates subscriptions and their notification indices to ``workflows.dss_subscriptions``,
constraint references to ``workflows.dss_constraints``, and the volume geometry they share
(``meets``, the compiled-volume cache) is in ``workflows.dss_volumes``.

Every change is one write transaction of the store with its log entry: an intent's awareness
check, its write, its subscription's changes and the subscribers' notification indices commit
together or not at all (``also`` hook of ``Store.write_operation``).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from deconflict.errors import ConflictError, NotFoundError
from deconflict.store import OperationRecord, Party, Store
from deconflict.store.dss import (
    ConstraintReferenceRecord,
    DssStore,
    DssTx,
    IntentWire,
    SubscriptionRecord,
    new_version,
)
from deconflict.store.records import EventDraft
from deconflict.strategic.model import Operation, Volume4D
from deconflict.strategic.states import OperationState
from deconflict.workflows import dss_constraints, dss_subscriptions
from deconflict.workflows.deconfliction import Deconflictor
from deconflict.workflows.dss_subscriptions import (  # re-exported: the routes' import
    SubscriptionRequest as SubscriptionRequest,
)
from deconflict.workflows.dss_volumes import CompiledCache, meets, span, volumes_of
from deconflict.workflows.strategic_records import footprint_bbox, operation_of

#: F3548's "no subscription" id (InterUSS's NullV4UUID).
NULL_SUBSCRIPTION = "00000000-0000-4000-8000-000000000000"


class MissingConstraintsError(ConflictError):
    """Proof of awareness of constraint references missing from the key (409)."""

    def __init__(self, message: str, missing: Sequence[ConstraintReferenceRecord]) -> None:
        super().__init__(message)
        self.missing = list(missing)


@dataclass
class IntentResult:
    record: OperationRecord
    wire: IntentWire
    subscribers: list[SubscriptionRecord] = field(default_factory=list)
    availability: str = "Unknown"  # of the manager, read in the same transaction


class Dss:
    """The DSS workflows of one service instance (stateless beyond the deconflictor)."""

    def __init__(self, store: Store, deconflictor: Deconflictor) -> None:
        self.store = store
        self.tables = DssStore(store)
        self.deconflictor = deconflictor
        self.compiled = CompiledCache()

    # -- reading ------------------------------------------------------------------------

    def intent(self, op_id: str) -> tuple[OperationRecord, IntentWire]:
        """A live intent written through the DSS; NotFoundError otherwise."""
        try:
            record = self.store.get_operation(op_id)
        except NotFoundError:
            record = None
        if record is None or record.state == OperationState.ENDED.value:
            raise NotFoundError("no such operational intent reference")
        with self.tables.read() as tx:
            wire = tx.intent_wire(op_id)
        if wire is None:
            raise NotFoundError("no such operational intent reference")
        return record, wire

    def intents_meeting(self, area: Volume4D) -> list[tuple[OperationRecord, IntentWire | None]]:
        """Live operations (DSS-written or not) whose volumes meet ``area``."""
        records = self.store.query_operations(footprint_bbox([area]), area.start_s, area.end_s)
        hits = [r for r in records if meets([area], list(self.deconflictor.model(r).volumes))]
        with self.tables.read() as tx:
            wires = tx.intent_wires([r.id for r in hits])
        return [(r, wires.get(r.id)) for r in hits]

    def availabilities(self, names: Sequence[str]) -> dict[str, str]:
        with self.tables.read() as tx:
            return tx.availabilities(names)

    # -- intents ------------------------------------------------------------------------

    def put_intent(
        self,
        party: Party,
        op_id: str,
        volumes: Sequence[Volume4D],
        state: OperationState,
        key: Sequence[str],
        uss_base_url: str,
        extents: list[dict[str, Any]],
        subscription: SubscriptionRequest,
        ovn: str | None = None,
    ) -> IntentResult:
        """Create (``ovn`` None) or update an intent: the deconflictor's awareness check
        (F3548's rule), then, in the same transaction, its subscription, the constraint
        references it must know of, and the subscribers' notification indices."""
        candidate = Operation(
            id=op_id, owner=party.id, contact=party.contact, volumes=tuple(volumes), state=state
        )
        out: dict[str, Any] = {}
        presented = set(key)

        def also(tx: DssTx, record: OperationRecord) -> None:
            old = tx.intent_wire(op_id) if ovn is not None else None
            sub = dss_subscriptions.subscription_for(
                tx, self.compiled, party, op_id, candidate, subscription, old
            )
            if (
                sub is not None
                and sub.notify_for_constraints
                and state
                in (
                    OperationState.ACCEPTED,
                    OperationState.ACTIVATED,
                )
            ):
                t0, t1 = span(volumes)
                missing = [
                    c
                    for c in tx.constraint_refs_meeting(footprint_bbox(volumes), t0, t1)
                    if c.ovn not in presented
                    and meets(volumes, dss_constraints.constraint_ref_volumes(self.compiled, c))
                ]
                if missing:
                    raise MissingConstraintsError(
                        "key lacks the OVN of constraint reference(s) "
                        + ", ".join(c.id for c in missing)
                        + ": add their OVNs to `key` and retry",
                        missing,
                    )
            wire = IntentWire(op_id, uss_base_url, None if sub is None else sub.id, extents)
            tx.put_intent_wire(wire)
            before = [] if old is None else self._old_volumes(record, out)
            notified = dss_subscriptions.notify(
                tx, self.compiled, [*before, *volumes], for_constraints=False
            )
            tx.append(
                EventDraft(
                    party.id,
                    "dss.intent",
                    {
                        "operation": op_id,
                        "state": state.value,
                        "subscription": wire.subscription_id,
                        "notified": {s.id: s.notification_index for s in notified},
                    },
                    (party.id,),
                )
            )
            availability = tx.availability(party.name)[0]
            out["result"] = IntentResult(record, wire, notified, availability)

        if ovn is not None:  # the volumes before the change, for the notifications
            with contextlib.suppress(NotFoundError):
                out["previous"] = self.store.get_operation(op_id)
        self.deconflictor.write(
            party,
            candidate,
            presented,
            op_id=op_id,
            expected_token=ovn,
            f3548=True,
            also=also,
        )
        result: IntentResult = out["result"]
        return result

    def _old_volumes(self, record: OperationRecord, out: dict[str, Any]) -> list[Volume4D]:
        prev: OperationRecord | None = out.get("previous")
        if prev is None or prev.version != record.version - 1:
            return []
        return volumes_of(prev.volumes)

    def delete_intent(self, party: Party, op_id: str, ovn: str) -> IntentResult:
        """End an intent (kept as a record, as every Deconflict operation): its implicit
        subscription goes with it, the subscribers of its volumes are notified."""
        record, _ = self.intent(op_id)
        old_volumes = volumes_of(record.volumes)
        candidate = operation_of(record).model_copy(update={"state": OperationState.ENDED})
        out: dict[str, Any] = {}

        def also(tx: DssTx, written: OperationRecord) -> None:
            wire = tx.intent_wire(op_id)
            assert wire is not None
            if wire.subscription_id is not None:
                sub = tx.subscription(wire.subscription_id)
                if sub is not None and sub.implicit and not tx.dependents(sub.id):
                    tx.delete_subscription(sub.id)
            notified = dss_subscriptions.notify(
                tx, self.compiled, old_volumes, for_constraints=False
            )
            tx.append(
                EventDraft(
                    party.id,
                    "dss.intent",
                    {
                        "operation": op_id,
                        "state": "Ended",
                        "notified": {s.id: s.notification_index for s in notified},
                    },
                    (party.id,),
                )
            )
            availability = tx.availability(party.name)[0]
            out["result"] = IntentResult(written, wire, notified, availability)

        self.deconflictor.write(
            party, candidate, (), op_id=op_id, expected_token=ovn, f3548=True, also=also
        )
        result: IntentResult = out["result"]
        return result

    # -- subscriptions (workflows.dss_subscriptions) ------------------------------------------

    def subscription(self, party: Party, sub_id: str) -> SubscriptionRecord:
        return dss_subscriptions.subscription(self.tables, party, sub_id)

    def dependents(self, sub_id: str) -> list[str]:
        return dss_subscriptions.dependents(self.tables, sub_id)

    def subscriptions_meeting(self, party: Party, area: Volume4D) -> list[SubscriptionRecord]:
        return dss_subscriptions.subscriptions_meeting(self.tables, self.compiled, party, area)

    def put_subscription(
        self,
        party: Party,
        sub_id: str,
        volume: Volume4D,
        uss_base_url: str,
        notify_for_operations: bool,
        notify_for_constraints: bool,
        version: str | None,
    ) -> SubscriptionRecord:
        """Create (``version`` None) or update a subscription."""
        return dss_subscriptions.put_subscription(
            self.tables,
            party,
            sub_id,
            volume,
            uss_base_url,
            notify_for_operations,
            notify_for_constraints,
            version,
        )

    def delete_subscription(self, party: Party, sub_id: str, version: str) -> SubscriptionRecord:
        return dss_subscriptions.delete_subscription(self.tables, party, sub_id, version)

    # -- constraint references (workflows.dss_constraints) ----------------------------------

    def constraint_ref(self, ref_id: str) -> ConstraintReferenceRecord:
        return dss_constraints.constraint_ref(self.tables, ref_id)

    def constraint_refs_meeting(self, area: Volume4D) -> list[ConstraintReferenceRecord]:
        return dss_constraints.constraint_refs_meeting(self.tables, self.compiled, area)

    def put_constraint_ref(
        self,
        party: Party,
        ref_id: str,
        volumes: Sequence[Volume4D],
        uss_base_url: str,
        ovn: str | None,
    ) -> tuple[ConstraintReferenceRecord, list[SubscriptionRecord]]:
        return dss_constraints.put_constraint_ref(
            self.tables, self.compiled, party, ref_id, volumes, uss_base_url, ovn
        )

    def delete_constraint_ref(
        self, party: Party, ref_id: str, ovn: str
    ) -> tuple[ConstraintReferenceRecord, list[SubscriptionRecord]]:
        return dss_constraints.delete_constraint_ref(self.tables, self.compiled, party, ref_id, ovn)

    # -- USS availability and reports --------------------------------------------------------

    def availability(self, uss: str) -> tuple[str, str]:
        with self.tables.read() as tx:
            return tx.availability(uss)

    def set_availability(
        self, party: Party, uss: str, availability: str, old_version: str
    ) -> tuple[str, str]:
        with self.tables.write() as tx:
            _, version = tx.availability(uss)
            if version != old_version:
                raise ConflictError(
                    f"the availability of {uss} is at version {version!r}, not "
                    f"{old_version!r}: GET it and retry with its version"
                )
            new = new_version()
            tx.put_availability(uss, availability, new)
            tx.append(
                EventDraft(party.id, "dss.availability", {"uss": uss, "availability": availability})
            )
        return availability, new

    def report(self, party: Party, report: dict[str, Any]) -> str:
        report_id = str(uuid.uuid4())
        with self.tables.write() as tx:
            tx.append(
                EventDraft(
                    party.id, "dss.report", {"report_id": report_id, "report": report}, ("host",)
                )
            )
        return report_id
