"""The store's Merkle tree: one leaf per entry, written in the entry's transaction, on every
backend; roots and proofs from the stored nodes equal RFC 9162's definitions over the entries."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deconflict.errors import InputError
from deconflict.hotline.merkle import leaf_hash, verify_consistency, verify_inclusion
from deconflict.store import EventDraft, Store, open_store
from deconflict.store import tree as store_tree
from deconflict.store.schema import log_tree


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:  # RFC 9162 §2.1.1, literally
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def leaves_of(store: Store) -> list[bytes]:
    return [leaf_hash(store_tree.leaf_bytes(e)) for e in store.log(limit=100_000)]


def fill(store: Store, n: int, per_write: int = 3) -> None:
    for i in range(0, n, per_write):
        store.append_events(
            [EventDraft("host", "note", {"i": j}) for j in range(i, min(n, i + per_write))]
        )


def test_tree_follows_the_log_and_proofs_verify(store: Store) -> None:
    fill(store, 37)
    leaves = leaves_of(store)
    n = len(leaves)
    assert store_tree.tree_size(store) == n == store_tree.leaf_count(store) == 37
    for size in (1, 2, 7, 16, 33, n):
        assert store_tree.root(store, size) == mth(leaves[:size])
    root = mth(leaves)
    for i in (0, 5, 16, n - 1):
        proof = store_tree.inclusion_proof(store, i, n)
        assert verify_inclusion(i, n, leaves[i], proof, root)
    for m in (1, 4, 20, n):
        proof = store_tree.consistency_proof(store, m, n)
        assert verify_consistency(m, n, mth(leaves[:m]), root, proof)


def test_one_write_of_many_entries_is_one_insert_per_table(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write of many entries (the engine's tick) goes to the database as one INSERT per table
    (entries, recipients, tree nodes: one statement of many rows), not three round trips an
    entry; the chain, the tree and its proofs are those of the entries appended one by one."""
    fill(store, 5, per_write=1)
    inserts: list[tuple[str, int]] = []
    insert_rows = store.insert_rows

    def counted(conn: Any, table: str, rows: Any) -> None:
        inserts.append((table, len(rows)))
        insert_rows(conn, table, rows)

    monkeypatch.setattr(store, "insert_rows", counted)
    store.append_events([EventDraft("host", "note", {"i": i}, ("p1", "p2")) for i in range(40)])
    monkeypatch.undo()
    assert sorted(t for t, _ in inserts) == ["event_recipients", "events", "log_tree"]
    assert dict(inserts)["events"] == 40 and dict(inserts)["event_recipients"] == 80
    log = store.log(limit=1000)
    assert [e.seq for e in log] == list(range(len(log))) and len(log) == 45
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(log))
    assert [e.seq for e in store.events_for("p2")] == [e.seq for e in log[5:]]
    leaves = leaves_of(store)
    root = mth(leaves)
    assert store_tree.root(store, 45) == root
    for i in (4, 5, 30, 44):
        assert verify_inclusion(i, 45, leaves[i], store_tree.inclusion_proof(store, i, 45), root)


def test_bad_sizes_are_refused_with_the_fix(store: Store) -> None:
    fill(store, 4)
    with pytest.raises(InputError, match="beyond the log's 4 entries"):
        store_tree.root(store, 5)
    with pytest.raises(InputError, match="0 <= index < size"):
        store_tree.inclusion_proof(store, 4, 4)
    with pytest.raises(InputError, match="0 <= from <= to"):
        store_tree.consistency_proof(store, 3, 2)


def test_a_rolled_back_write_leaves_no_node_behind(store: Store) -> None:
    fill(store, 5)
    with pytest.raises(RuntimeError), store.write_transaction() as (conn, head):
        store.append_entry(conn, head, EventDraft("host", "note", {"lost": True}))
        raise RuntimeError("the write fails after its entry was appended")
    fill(store, 6)
    leaves = leaves_of(store)
    assert len(leaves) == 11 and store_tree.root(store, 11) == mth(leaves)


def test_two_instances_on_one_file_keep_one_tree(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'two.db'}"
    a, b = open_store(url), open_store(url)
    try:
        for _ in range(4):
            fill(a, 3)
            fill(b, 2, per_write=1)
        leaves = leaves_of(a)
        assert store_tree.root(b, len(leaves)) == mth(leaves)
    finally:
        a.close()
        b.close()


def test_a_store_of_the_previous_version_gets_its_tree_when_opened(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = open_store(url)
    fill(store, 12)
    root = store_tree.root(store, 12)
    with store._writer.begin() as conn:  # as if written before the tree existed
        conn.execute(sa.delete(log_tree))
    store.close()
    reopened = open_store(url)
    try:
        assert store_tree.leaf_count(reopened) == 12
        assert store_tree.root(reopened, 12) == root
    finally:
        reopened.close()
