"""The write path's statements (run straight on the driver on SQLite) keep the store's rules."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from deconflict.errors import ConflictError
from deconflict.store import Decision, EventDraft, OperationDraft, OperationRecord, Store, WriteView


def _draft(owner: str, op_id: str | None = None) -> OperationDraft:
    return OperationDraft(
        owner_id=owner,
        state="Accepted",
        priority=3,
        volumes=[{"bbox": [8.5, 47.4, 8.51, 47.41], "note": "Zürich ü"}],
        aircraft=["abc123", "def456"],
        time_start_s=100.0,
        time_end_s=700.0,
        alt_lower_m=0.0,
        alt_upper_m=120.0,
        bbox=(8.5, 47.4, 8.51, 47.41),
        id=op_id,
    )


def _flagged(d: OperationDraft, cur: OperationRecord | None, view: WriteView) -> Decision:
    return Decision(
        commit=True,
        state=d.state,
        flags=[{"kind": "conflict", "operations": ["x"]}],
        events=[EventDraft(d.owner_id, "operation.note", {"n": 1, "text": "ü"}, ("p2", "p1"))],
    )


def test_a_taken_id_is_a_conflict_and_changes_nothing(store: Store) -> None:
    a, _ = store.add_party("alpha", public_key="k")
    first, _ = store.write_operation(_draft(a.id, "00ff"), _flagged)
    assert first is not None
    head = store.head()
    with pytest.raises(ConflictError, match="already exists"):
        store.write_operation(_draft(a.id, "00ff"), _flagged)
    assert store.head() == head  # rolled back: no log entry, head unmoved
    assert store.get_operation("00ff") == first
    store.write_operation(_draft(a.id), _flagged)  # the store still takes writes
    assert store.head()[0] == head[0] + 2


def test_json_columns_and_recipients_read_back_as_written(store: Store) -> None:
    a, _ = store.add_party("alpha", public_key="k")
    record, _ = store.write_operation(_draft(a.id), _flagged)
    assert record is not None
    got = store.get_operation(record.id)
    assert got.volumes == [{"bbox": [8.5, 47.4, 8.51, 47.41], "note": "Zürich ü"}]
    assert got.aircraft == ["abc123", "def456"]
    assert got.flags == [{"kind": "conflict", "operations": ["x"]}]
    log = store.log()
    note = [e for e in log if e.kind == "operation.note"]
    assert len(note) == 1 and note[0].payload["text"] == "ü"
    assert [e.seq for e in store.events_for("p1")] == [note[0].seq]
    assert [e.seq for e in store.events_for("p2")] == [note[0].seq]
    if store.backend == "sqlite":  # SQLite's own JSON functions read what was stored
        with store._reader.connect() as conn:
            lon = conn.execute(
                sa.text("SELECT json_extract(volumes, '$[0].bbox[2]') FROM operations")
            ).scalar_one()
        assert lon == 8.51


def test_a_message_is_found_by_its_id_through_the_index(store: Store) -> None:
    """Posting and finding a message look it up by its payload's id: the expression they query
    is the one migration 0006 indexed on this backend, so the lookup does not read the log."""
    from deconflict.store import hotline as log

    store.append_events(
        [
            EventDraft("host", log.MESSAGE, {"kind": "chat", "message_id": f"m{i}"})
            for i in range(300)
        ]
        + [EventDraft("host", log.REPEAT, {"message_id": "m7", "step": 1})]
    )
    found = log.find_message(store, "m7")
    assert found is not None and found.kind == log.MESSAGE and found.payload["message_id"] == "m7"
    assert log.find_message(store, "nope") is None
    query = log._entries([log.message_id_of(store).in_(["m1", "m2"])])
    with store._writer.connect() as conn:
        sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if store.backend == "sqlite":
            plan = str(conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).fetchall())
        else:
            conn.exec_driver_sql("SET enable_seqscan = off")  # whether the index can answer it
            plan = str(conn.exec_driver_sql("EXPLAIN " + sql).fetchall())
    assert "ix_events_message_id" in plan
