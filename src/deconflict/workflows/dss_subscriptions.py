"""The ASTM F3548-21 DSS's subscriptions on the store and their notification indices (seconds,
metres, degrees): reading, creating, updating and deleting a USS's subscriptions; the
subscription an intent asks for (an existing one, or a new implicit one that follows its
intent), and the bump of the notification index of every subscription a change meets.

``Dss`` (``workflows.dss``) delegates to these functions. ``subscription_for`` and ``notify``
run inside the caller's write transaction (an intent's or a constraint reference's), so the
subscriptions' changes and the indices commit with it or not at all; ``put_subscription`` and
``delete_subscription`` are each one write transaction with its log entry.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from deconflict.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from deconflict.store import Party
from deconflict.store.dss import DssStore, DssTx, IntentWire, SubscriptionRecord, new_version
from deconflict.store.records import EventDraft
from deconflict.strategic.model import Operation, Volume4D
from deconflict.strategic.volumes import VolumeArrays, compile_volumes
from deconflict.workflows.dss_volumes import CompiledCache, covers, meets, span
from deconflict.workflows.strategic_records import footprint_bbox


@dataclass(frozen=True)
class SubscriptionRequest:
    """What an intent asks of its subscription: an existing one, or a new implicit one."""

    subscription_id: str | None = None
    new_uss_base_url: str | None = None
    new_notify_for_constraints: bool = False


def subscription_volumes(compiled: CompiledCache, s: SubscriptionRecord) -> VolumeArrays:
    return compiled.get(("s:" + s.id, s.version), s.volumes)


# -- in an intent's or a constraint reference's transaction ------------------------------------


def subscription_for(
    tx: DssTx,
    compiled: CompiledCache,
    party: Party,
    op_id: str,
    op: Operation,
    request: SubscriptionRequest,
    old: IntentWire | None,
) -> SubscriptionRecord | None:
    t0, t1 = span(op.volumes)
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
            chosen = cover(tx, compiled, chosen, op)  # an implicit one follows its intent
        elif chosen.time_start_s > t0 + 1e-3 or chosen.time_end_s < t1 - 1e-3:
            raise InputError(
                f"subscription {chosen.id} does not cover the times of the operational "
                "intent: extend the subscription or shorten the extents"
            )
        elif not covers(chosen.bbox, footprint_bbox(op.volumes)):
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
        compiled.put(("s:" + chosen.id, chosen.version), compile_volumes(op.volumes))
    if (
        previous is not None
        and previous.implicit
        and (chosen is None or chosen.id != previous.id)
        and not [d for d in tx.dependents(previous.id) if d != op_id]
    ):
        tx.delete_subscription(previous.id)
    return chosen


def cover(
    tx: DssTx, compiled: CompiledCache, sub: SubscriptionRecord, op: Operation
) -> SubscriptionRecord:
    t0, t1 = span(op.volumes)
    grown = replace(
        sub,
        volumes=[v.model_dump(mode="json") for v in op.volumes],
        time_start_s=t0,
        time_end_s=t1,
        bbox=footprint_bbox(op.volumes),
        version=new_version(),
    )
    tx.put_subscription(grown, creating=False)
    compiled.put(("s:" + grown.id, grown.version), compile_volumes(op.volumes))
    return grown


def notify(
    tx: DssTx, compiled: CompiledCache, volumes: Sequence[Volume4D], *, for_constraints: bool
) -> list[SubscriptionRecord]:
    """Add one to the notification index of every subscription (of any USS) whose volumes
    meet ``volumes`` and that asked for this kind of change; those subscriptions."""
    if not volumes:
        return []
    t0, t1 = span(volumes)
    arrays = compile_volumes(volumes)
    hits = [
        s
        for s in tx.subscriptions_meeting(footprint_bbox(volumes), t0, t1)
        if (s.notify_for_constraints if for_constraints else s.notify_for_operations)
        and meets(arrays, subscription_volumes(compiled, s))
    ]
    indices = tx.bump([s.id for s in hits])
    return [replace(s, notification_index=indices[s.id]) for s in hits]


# -- a USS's subscriptions -----------------------------------------------------------------


def subscription(tables: DssStore, party: Party, sub_id: str) -> SubscriptionRecord:
    with tables.read() as tx:
        sub = tx.subscription(sub_id)
    if sub is None:
        raise NotFoundError(f"no subscription {sub_id}")
    if sub.time_end_s < time.time():
        raise NotFoundError(f"subscription {sub_id} has expired")
    if sub.owner_id != party.id:
        raise PermissionDeniedError(f"subscription {sub_id} belongs to another USS")
    return sub


def dependents(tables: DssStore, sub_id: str) -> list[str]:
    with tables.read() as tx:
        return tx.dependents(sub_id)


def subscriptions_meeting(
    tables: DssStore, compiled: CompiledCache, party: Party, area: Volume4D
) -> list[SubscriptionRecord]:
    with tables.read() as tx:
        found = tx.subscriptions_meeting(
            footprint_bbox([area]), area.start_s, area.end_s, owner_id=party.id
        )
    now = time.time()  # an expired subscription is gone
    return [
        s for s in found if s.time_end_s >= now and meets([area], subscription_volumes(compiled, s))
    ]


def put_subscription(
    tables: DssStore,
    party: Party,
    sub_id: str,
    volume: Volume4D,
    uss_base_url: str,
    notify_for_operations: bool,
    notify_for_constraints: bool,
    version: str | None,
) -> SubscriptionRecord:
    """Create (``version`` None) or update a subscription."""
    with tables.write() as tx:
        current = tx.subscription(sub_id)
        if version is None and current is not None:
            raise ConflictError(f"subscription {sub_id} already exists: update it with its version")
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
        tx.append(EventDraft(party.id, "dss.subscription", {"subscription": sub_id}, (party.id,)))
    return sub


def delete_subscription(
    tables: DssStore, party: Party, sub_id: str, version: str
) -> SubscriptionRecord:
    with tables.write() as tx:
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
