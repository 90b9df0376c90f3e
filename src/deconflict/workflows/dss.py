"""The ASTM F3548-21 DSS on the store: operational intent references (which *are* operations,
written by ``Deconflictor.write``), subscriptions and their notification indices, constraint
references and USS availability (seconds, metres, degrees; volumes already converted to
barometric by the wire layer, ``deconflict.service.dss.wire``).

Every change is one write transaction of the store with its log entry: an intent's awareness
check, its write, its subscription's changes and the subscribers' notification indices commit
together or not at all (``also`` hook of ``Store.write_operation``).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from deconflict.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
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
from deconflict.strategic.model import NO_BUFFERS, Operation, Volume4D, parse_volume
from deconflict.strategic.states import OperationState
from deconflict.strategic.volumes import VolumeArrays, compile_volumes, conflict_pairs
from deconflict.workflows.deconfliction import Deconflictor, footprint_bbox, operation_of

#: F3548's "no subscription" id (InterUSS's NullV4UUID).
NULL_SUBSCRIPTION = "00000000-0000-4000-8000-000000000000"


class MissingConstraintsError(ConflictError):
    """Proof of awareness of constraint references missing from the key (409)."""

    def __init__(self, message: str, missing: Sequence[ConstraintReferenceRecord]) -> None:
        super().__init__(message)
        self.missing = list(missing)


def meets(a: Sequence[Volume4D] | VolumeArrays, b: Sequence[Volume4D] | VolumeArrays) -> bool:
    """Whether two sets of volumes intersect (InterUSS's rule: interiors overlap)."""
    ca = a if isinstance(a, VolumeArrays) else compile_volumes(a)
    cb = b if isinstance(b, VolumeArrays) else compile_volumes(b)
    if not len(ca) or not len(cb):
        return False
    ia, _ = conflict_pairs(ca, cb, NO_BUFFERS)
    return len(ia) > 0


class CompiledCache:
    """Compiled volumes of stored subscriptions and constraint references, by (id, version):
    each version is parsed and compiled once, not at every write it is checked against."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], VolumeArrays] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], volumes: Sequence[dict[str, Any]]) -> VolumeArrays:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        compiled = compile_volumes(volumes_of(volumes))
        self.put(key, compiled)
        return compiled

    def put(self, key: tuple[str, str], compiled: VolumeArrays) -> None:
        with self._lock:
            self._items[key] = compiled
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def volumes_of(data: Sequence[dict[str, Any]]) -> list[Volume4D]:
    return [parse_volume(v) for v in data]


def _span(volumes: Sequence[Volume4D]) -> tuple[float, float]:
    return min(v.start_s for v in volumes), max(v.end_s for v in volumes)


@dataclass(frozen=True)
class SubscriptionRequest:
    """What an intent asks of its subscription: an existing one, or a new implicit one."""

    subscription_id: str | None = None
    new_uss_base_url: str | None = None
    new_notify_for_constraints: bool = False


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

    def _sub_volumes(self, s: SubscriptionRecord) -> VolumeArrays:
        return self.compiled.get(("s:" + s.id, s.version), s.volumes)

    def _ref_volumes(self, c: ConstraintReferenceRecord) -> VolumeArrays:
        return self.compiled.get(("c:" + c.id, c.ovn), c.volumes)

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
            sub = self._subscription_for(tx, party, op_id, candidate, subscription, old)
            if (
                sub is not None
                and sub.notify_for_constraints
                and state
                in (
                    OperationState.ACCEPTED,
                    OperationState.ACTIVATED,
                )
            ):
                t0, t1 = _span(volumes)
                missing = [
                    c
                    for c in tx.constraint_refs_meeting(footprint_bbox(volumes), t0, t1)
                    if c.ovn not in presented and meets(volumes, self._ref_volumes(c))
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
            notified = self._notify(tx, [*before, *volumes], for_constraints=False)
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
            notified = self._notify(tx, old_volumes, for_constraints=False)
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

    def _subscription_for(
        self,
        tx: DssTx,
        party: Party,
        op_id: str,
        op: Operation,
        request: SubscriptionRequest,
        old: IntentWire | None,
    ) -> SubscriptionRecord | None:
        t0, t1 = _span(op.volumes)
        previous = None
        if old is not None and old.subscription_id is not None:
            previous = tx.subscription(old.subscription_id)
        chosen: SubscriptionRecord | None = None
        if request.subscription_id is not None:
            chosen = tx.subscription(request.subscription_id)
            if chosen is None:
                raise InputError(
                    f"subscription_id {request.subscription_id} does not exist: create the "
                    "subscription first, or give new_subscription instead"
                )
            if chosen.owner_id != party.id:
                raise PermissionDeniedError(
                    f"subscription {chosen.id} belongs to another USS: give one of yours"
                )
            if chosen.implicit and previous is not None and chosen.id == previous.id:
                chosen = self._cover(tx, chosen, op)  # an implicit one follows its intent
            elif chosen.time_start_s > t0 + 1e-3 or chosen.time_end_s < t1 - 1e-3:
                raise InputError(
                    f"subscription {chosen.id} does not cover the times of the operational "
                    "intent: extend the subscription or shorten the extents"
                )
            elif not _covers(chosen.bbox, footprint_bbox(op.volumes)):
                raise InputError(
                    f"subscription {chosen.id} does not cover the area of the operational "
                    "intent: widen the subscription or give new_subscription"
                )
        elif request.new_uss_base_url is not None:
            chosen = SubscriptionRecord(
                id=str(uuid.uuid4()),
                owner_id=party.id,
                version=new_version(),
                notification_index=0,
                volumes=[v.model_dump(mode="json") for v in op.volumes],
                uss_base_url=request.new_uss_base_url,
                notify_for_operations=True,
                notify_for_constraints=request.new_notify_for_constraints,
                implicit=True,
                time_start_s=t0,
                time_end_s=t1,
                bbox=footprint_bbox(op.volumes),
            )
            tx.put_subscription(chosen, creating=True)
            self.compiled.put(("s:" + chosen.id, chosen.version), compile_volumes(op.volumes))
        if (
            previous is not None
            and previous.implicit
            and (chosen is None or chosen.id != previous.id)
            and not [d for d in tx.dependents(previous.id) if d != op_id]
        ):
            tx.delete_subscription(previous.id)
        return chosen

    def _cover(self, tx: DssTx, sub: SubscriptionRecord, op: Operation) -> SubscriptionRecord:
        t0, t1 = _span(op.volumes)
        grown = replace(
            sub,
            volumes=[v.model_dump(mode="json") for v in op.volumes],
            time_start_s=t0,
            time_end_s=t1,
            bbox=footprint_bbox(op.volumes),
            version=new_version(),
        )
        tx.put_subscription(grown, creating=False)
        self.compiled.put(("s:" + grown.id, grown.version), compile_volumes(op.volumes))
        return grown

    def _notify(
        self, tx: DssTx, volumes: Sequence[Volume4D], *, for_constraints: bool
    ) -> list[SubscriptionRecord]:
        """Add one to the notification index of every subscription (of any USS) whose volumes
        meet ``volumes`` and that asked for this kind of change; those subscriptions."""
        if not volumes:
            return []
        t0, t1 = _span(volumes)
        compiled = compile_volumes(volumes)
        hits = [
            s
            for s in tx.subscriptions_meeting(footprint_bbox(volumes), t0, t1)
            if (s.notify_for_constraints if for_constraints else s.notify_for_operations)
            and meets(compiled, self._sub_volumes(s))
        ]
        indices = tx.bump([s.id for s in hits])
        return [replace(s, notification_index=indices[s.id]) for s in hits]

    # -- subscriptions ------------------------------------------------------------------

    def subscription(self, party: Party, sub_id: str) -> SubscriptionRecord:
        with self.tables.read() as tx:
            sub = tx.subscription(sub_id)
        if sub is None:
            raise NotFoundError(f"no subscription {sub_id}")
        if sub.time_end_s < time.time():
            raise NotFoundError(f"subscription {sub_id} has expired")
        if sub.owner_id != party.id:
            raise PermissionDeniedError(f"subscription {sub_id} belongs to another USS")
        return sub

    def dependents(self, sub_id: str) -> list[str]:
        with self.tables.read() as tx:
            return tx.dependents(sub_id)

    def subscriptions_meeting(self, party: Party, area: Volume4D) -> list[SubscriptionRecord]:
        with self.tables.read() as tx:
            found = tx.subscriptions_meeting(
                footprint_bbox([area]), area.start_s, area.end_s, owner_id=party.id
            )
        now = time.time()  # an expired subscription is gone
        return [s for s in found if s.time_end_s >= now and meets([area], self._sub_volumes(s))]

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
        with self.tables.write() as tx:
            current = tx.subscription(sub_id)
            if version is None and current is not None:
                raise ConflictError(
                    f"subscription {sub_id} already exists: update it with its version"
                )
            if version is not None:
                if current is None:
                    raise NotFoundError(f"no subscription {sub_id}")
                if current.owner_id != party.id:
                    raise PermissionDeniedError(f"subscription {sub_id} belongs to another USS")
                if current.version != version:
                    raise ConflictError(
                        f"subscription {sub_id} is not at version {version}: GET it and "
                        "retry with its current version"
                    )
            sub = SubscriptionRecord(
                id=sub_id,
                owner_id=party.id,
                version=new_version(),
                notification_index=0 if current is None else current.notification_index,
                volumes=[volume.model_dump(mode="json")],
                uss_base_url=uss_base_url,
                notify_for_operations=notify_for_operations,
                notify_for_constraints=notify_for_constraints,
                implicit=False if current is None else current.implicit,
                time_start_s=volume.start_s,
                time_end_s=volume.end_s,
                bbox=footprint_bbox([volume]),
            )
            tx.put_subscription(sub, creating=current is None)
            tx.append(
                EventDraft(party.id, "dss.subscription", {"subscription": sub_id}, (party.id,))
            )
        return sub

    def delete_subscription(self, party: Party, sub_id: str, version: str) -> SubscriptionRecord:
        with self.tables.write() as tx:
            sub = tx.subscription(sub_id)
            if sub is None:
                raise NotFoundError(f"no subscription {sub_id}")
            if sub.owner_id != party.id:
                raise PermissionDeniedError(f"subscription {sub_id} belongs to another USS")
            if sub.version != version:
                raise ConflictError(
                    f"subscription {sub_id} is not at version {version}: GET it and retry "
                    "with its current version"
                )
            if tx.dependents(sub_id):
                raise InputError(
                    f"subscription {sub_id} keeps operational intents informed: end them or "
                    "move them to another subscription first"
                )
            tx.delete_subscription(sub_id)
            tx.append(
                EventDraft(
                    party.id,
                    "dss.subscription",
                    {"subscription": sub_id, "deleted": True},
                    (party.id,),
                )
            )
        return sub

    # -- constraint references -------------------------------------------------------------

    def constraint_ref(self, ref_id: str) -> ConstraintReferenceRecord:
        with self.tables.read() as tx:
            ref = tx.constraint_ref(ref_id)
        if ref is None:
            raise NotFoundError(f"no constraint reference {ref_id}")
        return ref

    def constraint_refs_meeting(self, area: Volume4D) -> list[ConstraintReferenceRecord]:
        with self.tables.read() as tx:
            found = tx.constraint_refs_meeting(footprint_bbox([area]), area.start_s, area.end_s)
        return [c for c in found if meets([area], self._ref_volumes(c))]

    def put_constraint_ref(
        self,
        party: Party,
        ref_id: str,
        volumes: Sequence[Volume4D],
        uss_base_url: str,
        ovn: str | None,
    ) -> tuple[ConstraintReferenceRecord, list[SubscriptionRecord]]:
        t0, t1 = _span(volumes)
        with self.tables.write() as tx:
            current = tx.constraint_ref(ref_id)
            if ovn is None and current is not None:
                raise ConflictError(
                    f"constraint reference {ref_id} already exists: update it with its OVN"
                )
            if ovn is not None:
                if current is None:
                    raise NotFoundError(f"no constraint reference {ref_id}")
                if current.owner_id != party.id:
                    raise PermissionDeniedError(
                        f"constraint reference {ref_id} belongs to another USS"
                    )
                if current.ovn != ovn:
                    raise ConflictError(
                        f"constraint reference {ref_id} is not at OVN {ovn}: GET it and retry"
                    )
            ref = ConstraintReferenceRecord(
                id=ref_id,
                owner_id=party.id,
                version=1 if current is None else current.version + 1,
                ovn=new_version(),
                uss_base_url=uss_base_url,
                volumes=[v.model_dump(mode="json") for v in volumes],
                time_start_s=t0,
                time_end_s=t1,
                bbox=footprint_bbox(volumes),
            )
            tx.put_constraint_ref(ref, creating=current is None)
            before = [] if current is None else volumes_of(current.volumes)
            notified = self._notify(tx, [*before, *volumes], for_constraints=True)
            tx.append(EventDraft(party.id, "dss.constraint", {"constraint": ref_id}, (party.id,)))
        return ref, notified

    def delete_constraint_ref(
        self, party: Party, ref_id: str, ovn: str
    ) -> tuple[ConstraintReferenceRecord, list[SubscriptionRecord]]:
        with self.tables.write() as tx:
            ref = tx.constraint_ref(ref_id)
            if ref is None:
                raise NotFoundError(f"no constraint reference {ref_id}")
            if ref.owner_id != party.id:
                raise PermissionDeniedError(f"constraint reference {ref_id} belongs to another USS")
            if ref.ovn != ovn:
                raise ConflictError(
                    f"constraint reference {ref_id} is not at OVN {ovn}: GET it and retry"
                )
            tx.delete_constraint_ref(ref_id)
            notified = self._notify(tx, volumes_of(ref.volumes), for_constraints=True)
            tx.append(
                EventDraft(
                    party.id,
                    "dss.constraint",
                    {"constraint": ref_id, "deleted": True},
                    (party.id,),
                )
            )
        return ref, notified

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


def _covers(outer: tuple[float, float, float, float], inner: tuple[float, ...]) -> bool:
    eps = 1e-9
    return (
        outer[0] <= inner[0] + eps
        and outer[1] <= inner[1] + eps
        and outer[2] >= inner[2] - eps
        and outer[3] >= inner[3] - eps
    )
