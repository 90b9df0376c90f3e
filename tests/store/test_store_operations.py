"""Operations, awareness checks and the event log in the store, on every backend."""

from __future__ import annotations

import itertools
import threading

import pytest
import sqlalchemy as sa

from deconflict.errors import ConflictError
from deconflict.store import (
    Decision,
    EventDraft,
    OperationDraft,
    OperationRecord,
    Store,
    WriteView,
    hash_token,
)


def draft(
    owner: str,
    bbox: tuple[float, float, float, float],
    t0: float = 0.0,
    t1: float = 600.0,
    op_id: str | None = None,
    state: str = "Accepted",
) -> OperationDraft:
    return OperationDraft(
        owner_id=owner,
        state=state,
        priority=0,
        volumes=[{"bbox": list(bbox)}],
        aircraft=["abc123"],
        time_start_s=t0,
        time_end_s=t1,
        alt_lower_m=0.0,
        alt_upper_m=120.0,
        bbox=bbox,
        id=op_id,
    )


def accept_all(d: OperationDraft, cur: OperationRecord | None, view: WriteView) -> Decision:
    return Decision(commit=True, state=d.state)


def test_tokens_are_stored_only_hashed(store: Store) -> None:
    party, token = store.add_party("alpha", public_key="k", contact="ops@alpha")
    assert store.party_by_token(token) == party
    assert store.party_by_token(token + "x") is None
    with store._writer.connect() as conn:
        dump = [tuple(r) for r in conn.execute(sa.text("SELECT * FROM parties"))]
    assert token not in repr(dump)
    assert hash_token(token) in repr(dump)


def test_duplicate_party_name_is_a_conflict(store: Store) -> None:
    store.add_party("alpha", public_key="k")
    with pytest.raises(ConflictError, match="already registered"):
        store.add_party("alpha", public_key="k")


def test_candidates_are_the_operations_meeting_box_and_time(store: Store) -> None:
    a, _ = store.add_party("alpha", public_key="k")
    near, _ = store.write_operation(
        draft(a.id, (8.50, 47.40, 8.51, 47.41)),
        accept_all,
    )
    far, _ = store.write_operation(
        draft(a.id, (9.50, 47.40, 9.51, 47.41)),
        accept_all,
    )
    later, _ = store.write_operation(
        draft(a.id, (8.50, 47.40, 8.51, 47.41), 1000, 2000),
        accept_all,
    )
    # a continent-sized operation is filed on the coarse grid and still found
    big, _ = store.write_operation(
        draft(a.id, (-10.0, 35.0, 30.0, 60.0)),
        accept_all,
    )
    assert near and far and later and big
    seen: list[list[str]] = []

    def spy(d: OperationDraft, cur: OperationRecord | None, view: WriteView) -> Decision:
        seen.append(sorted(c.id for c in view.candidates(d.bbox, d.time_start_s, d.time_end_s)))
        return Decision(commit=False)

    record, _ = store.write_operation(
        draft(a.id, (8.505, 47.405, 8.52, 47.42), 100, 200),
        spy,
    )
    assert record is None
    assert seen == [sorted([near.id, big.id])]
    assert {o.id for o in store.query_operations((9.4, 47.3, 9.6, 47.5), 0, 10)} == {far.id, big.id}


def test_update_needs_the_current_token_and_ended_is_kept(store: Store) -> None:
    a, _ = store.add_party("alpha", public_key="k")
    box = (8.5, 47.4, 8.51, 47.41)
    first, _ = store.write_operation(draft(a.id, box), accept_all)
    assert first is not None and first.version == 1
    with pytest.raises(ConflictError, match="not its current one"):
        store.write_operation(draft(a.id, box, op_id=first.id), accept_all, expected_token="stale")
    second, _ = store.write_operation(
        draft(a.id, box, op_id=first.id, state="Ended"),
        accept_all,
        expected_token=first.token,
    )
    assert second is not None and second.version == 2 and second.token != first.token
    assert store.get_operation(first.id).state == "Ended"
    assert store.query_operations(box, 0, 600) == []
    assert [o.id for o in store.query_operations(box, 0, 600, include_ended=True)] == [first.id]


def test_events_are_hash_chained_and_addressed(store: Store) -> None:
    a, _ = store.add_party("alpha", public_key="k")
    b, _ = store.add_party("bravo", public_key="k")
    store.append_events(
        [
            EventDraft("host", "note", {"n": 1}, (a.id,)),
            EventDraft("host", "note", {"n": 2}, (a.id, b.id)),
        ]
    )
    log = store.log()
    assert [e.seq for e in log] == list(range(len(log)))
    assert log[0].prev_hash == "0" * 64
    for prev, cur in itertools.pairwise(log):
        assert cur.prev_hash == prev.hash
    assert store.head() == (log[-1].seq, log[-1].hash)
    to_a = store.events_for(a.id)
    assert [e.payload["n"] for e in to_a] == [1, 2]
    assert [e.payload["n"] for e in store.events_for(a.id, after=to_a[0].seq)] == [2]
    assert [e.payload["n"] for e in store.events_for(b.id)] == [2]


def test_hash_is_the_hotline_entry_hash(store: Store) -> None:
    from deconflict.hotline.log import entry_hash

    store.add_party("alpha", public_key="k")
    (entry,) = store.log()
    assert entry_hash(entry.to_dict()) == entry.hash


def test_a_failed_check_writes_nothing(store: Store) -> None:
    a, _ = store.add_party("alpha", public_key="k")
    box = (8.5, 47.4, 8.51, 47.41)

    def boom(d: OperationDraft, cur: OperationRecord | None, view: WriteView) -> Decision:
        raise ConflictError("refused")

    before = store.head()
    with pytest.raises(ConflictError):
        store.write_operation(draft(a.id, box), boom)
    assert store.head() == before
    assert store.query_operations(box, 0, 600) == []


def test_racing_writers_never_both_commit_unaware(store: Store) -> None:
    """Each writer commits only if it saw no conflicting operation: one must lose."""
    parties = [
        store.add_party(n, public_key="k")[0] for n in ("alpha", "bravo", "charlie", "delta")
    ]
    box = (8.5, 47.4, 8.51, 47.41)
    barrier = threading.Barrier(len(parties))
    committed: list[str] = []
    refused: list[str] = []

    def unaware_only(d: OperationDraft, cur: OperationRecord | None, view: WriteView) -> Decision:
        if view.candidates(d.bbox, d.time_start_s, d.time_end_s):
            return Decision(commit=False, error=ConflictError("missing awareness"))
        return Decision(commit=True, state=d.state)

    def run(owner: str) -> None:
        barrier.wait()
        try:
            store.write_operation(draft(owner, box), unaware_only)
            committed.append(owner)
        except ConflictError:
            refused.append(owner)

    threads = [threading.Thread(target=run, args=(p.id,)) for p in parties]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(committed) == 1 and len(refused) == len(parties) - 1
    assert len(store.query_operations(box, 0, 600)) == 1


def test_operations_since_follows_the_log(store: Store) -> None:
    a, _ = store.add_party("alpha", public_key="k")
    box = (8.5, 47.4, 8.51, 47.41)
    marks: list[int] = []

    def note(d: OperationDraft, cur: OperationRecord | None, view: WriteView) -> Decision:
        marks.append(view.seq)
        return Decision(commit=True, state=d.state)

    first, _ = store.write_operation(draft(a.id, box), note)
    second, _ = store.write_operation(draft(a.id, box), note)
    assert first is not None and second is not None
    seen: list[list[str]] = []

    def since(d: OperationDraft, cur: OperationRecord | None, view: WriteView) -> Decision:
        seen.append([o.id for o in view.operations_since(marks[1])])
        seen.append([o.id for o in view.operations_since(-1)])
        return Decision(commit=False)

    store.write_operation(draft(a.id, box), since)
    assert seen == [[second.id], [first.id, second.id]]
    written = [e for e in store.log() if e.kind == "operation.written"]
    assert [e.payload["operation"] for e in written] == [first.id, second.id]
    assert [e.seq for e in written] == [first.seq, second.seq]


def test_a_listing_shows_each_operations_current_version(store: Store) -> None:
    """The party's listing reads whole only the versions it has not parsed before: after a
    revision the new version comes back, never the one listed before it."""
    a, _ = store.add_party("alpha", public_key="k")
    box = (8.5, 47.4, 8.51, 47.41)
    first, _ = store.write_operation(draft(a.id, box), accept_all)
    other, _ = store.write_operation(draft(a.id, box, t0=100.0), accept_all)
    assert first is not None and other is not None
    assert [(o.id, o.version) for o in store.operations_of(a.id)] == [
        (first.id, 1),
        (other.id, 1),
    ]
    moved = (9.5, 47.4, 9.51, 47.41)
    second, _ = store.write_operation(
        draft(a.id, moved, op_id=first.id), accept_all, expected_token=first.token
    )
    assert second is not None
    listed = store.operations_of(a.id)
    assert [(o.id, o.version, o.bbox) for o in listed] == [
        (first.id, 2, moved),
        (other.id, 1, box),
    ]
    assert listed == [store.get_operation(first.id), store.get_operation(other.id)]
    assert store.operations_of(a.id) == listed  # from the parsed versions, the same records
