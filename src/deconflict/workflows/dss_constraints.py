"""The ASTM F3548-21 DSS's constraint references on the store (seconds, metres, degrees):
reading one or those meeting an area, creating, updating and deleting a USS's own.

``Dss`` (``workflows.dss``) delegates to these functions. Each change is one write transaction
with its log entry, in which the subscriptions that asked for constraint changes and meet the
reference's volumes (before and after) have their notification indices bumped
(``workflows.dss_subscriptions.notify``).
"""

from __future__ import annotations

from collections.abc import Sequence

from deconflict.errors import ConflictError, NotFoundError, PermissionDeniedError
from deconflict.store import Party
from deconflict.store.dss import (
    ConstraintReferenceRecord,
    DssStore,
    SubscriptionRecord,
    new_version,
)
from deconflict.store.records import EventDraft
from deconflict.strategic.model import Volume4D
from deconflict.strategic.volumes import VolumeArrays
from deconflict.workflows.dss_subscriptions import notify
from deconflict.workflows.dss_volumes import CompiledCache, meets, span, volumes_of
from deconflict.workflows.strategic_records import footprint_bbox


def constraint_ref_volumes(compiled: CompiledCache, c: ConstraintReferenceRecord) -> VolumeArrays:
    return compiled.get(("c:" + c.id, c.ovn), c.volumes)


def constraint_ref(tables: DssStore, ref_id: str) -> ConstraintReferenceRecord:
    with tables.read() as tx:
        ref = tx.constraint_ref(ref_id)
    if ref is None:
        raise NotFoundError(f"no constraint reference {ref_id}")
    return ref


def constraint_refs_meeting(
    tables: DssStore, compiled: CompiledCache, area: Volume4D
) -> list[ConstraintReferenceRecord]:
    with tables.read() as tx:
        found = tx.constraint_refs_meeting(footprint_bbox([area]), area.start_s, area.end_s)
    return [c for c in found if meets([area], constraint_ref_volumes(compiled, c))]


def put_constraint_ref(
    tables: DssStore,
    compiled: CompiledCache,
    party: Party,
    ref_id: str,
    volumes: Sequence[Volume4D],
    uss_base_url: str,
    ovn: str | None,
) -> tuple[ConstraintReferenceRecord, list[SubscriptionRecord]]:
    t0, t1 = span(volumes)
    with tables.write() as tx:
        current = tx.constraint_ref(ref_id)
        if ovn is None and current is not None:
            raise ConflictError(
                f"constraint reference {ref_id} already exists: update it with its OVN"
            )
        if ovn is not None:
            if current is None:
                raise NotFoundError(f"no constraint reference {ref_id}")
            if current.owner_id != party.id:
                raise PermissionDeniedError(f"constraint reference {ref_id} belongs to another USS")
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
        notified = notify(tx, compiled, [*before, *volumes], for_constraints=True)
        tx.append(EventDraft(party.id, "dss.constraint", {"constraint": ref_id}, (party.id,)))
    return ref, notified


def delete_constraint_ref(
    tables: DssStore, compiled: CompiledCache, party: Party, ref_id: str, ovn: str
) -> tuple[ConstraintReferenceRecord, list[SubscriptionRecord]]:
    with tables.write() as tx:
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
        notified = notify(tx, compiled, volumes_of(ref.volumes), for_constraints=True)
        tx.append(
            EventDraft(
                party.id,
                "dss.constraint",
                {"constraint": ref_id, "deleted": True},
                (party.id,),
            )
        )
    return ref, notified
