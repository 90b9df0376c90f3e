"""The log's RFC 9162 Merkle tree in the store: one leaf per entry, perfect subtrees stored.

Each entry appended to the log (``Store.append_entry``, inside its write transaction) becomes leaf
``seq`` of the tree, whose hash is SHA-256(0x00 ‖ canonical JSON of the whole entry in its log
format) — the bytes of its line in an export (``hotline.merkle``, ``hotline.log.entry_bytes``).
The nodes that become complete are written in the
same transaction (``log_tree``: two rows an entry on average), so the tree and the log commit
together. Roots and proofs read O(log² n) of those rows, never the entries.

The append needs the left siblings of the new leaf (the frontier of the tree before it). They are
remembered between appends keyed by the hash of the entry they end at: an entry's ``prev_hash``
names the whole history before it (the hash chain), so a remembered frontier is used only for the
very history it was computed from, and read from the table otherwise (another instance wrote, or a
transaction rolled back).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deconflict.errors import InputError
from deconflict.hotline.log import entry_bytes
from deconflict.hotline.merkle import (
    Node,
    append_nodes,
    consistency_ranges,
    frontier,
    inclusion_ranges,
    leaf_hash,
    nodes_for,
    range_hash,
    root_hash,
)
from deconflict.store.schema import events, log_tree

if TYPE_CHECKING:
    from deconflict.store.connection import Database
    from deconflict.store.records import Event
    from deconflict.store.store import Store

_BACKFILL_PAGE = 5000


def leaf_bytes(entry: Event | dict[str, Any]) -> bytes:
    """The bytes of an entry as a leaf: the canonical JSON of the whole entry in its log format
    (``hotline.log.entry_bytes``), its line in an export."""
    if isinstance(entry, dict):
        return entry_bytes(entry)
    return entry_bytes({**entry.to_dict(), "payload": entry.payload})  # the payload as sealed


_LEVELS = 64  # node key = idx * 64 + level: one indexed integer column


def node_key(node: Node) -> int:
    """The ``log_tree.node`` key of a perfect subtree (level, index)."""
    return node[1] * _LEVELS + node[0]


def _fetch(conn: Connection, nodes: Iterable[Node]) -> dict[Node, bytes]:
    wanted = sorted({node_key(n) for n in nodes})
    found: dict[Node, bytes] = {}
    for i in range(0, len(wanted), 500):
        rows = conn.execute(
            sa.select(log_tree.c.node, log_tree.c.hash).where(
                log_tree.c.node.in_(wanted[i : i + 500])
            )
        )
        for r in rows:
            idx, level = divmod(int(r.node), _LEVELS)
            found[(level, idx)] = bytes(r.hash)
    return found


def append_leaves(
    store: Database,
    conn: Connection,
    entries: Sequence[Event],
    leaves: Sequence[bytes] | None = None,
) -> None:
    """Write the leaves of ``entries`` (consecutive, in order) and the nodes they complete,
    inside the entries' transaction, in one INSERT. ``leaves``: each entry's bytes
    (``leaf_bytes``), when the caller made them as it sealed the entries."""
    if not entries:
        return
    first = entries[0]
    cached = store.tree_tail
    if cached is not None and cached[0] == first.seq and cached[1] == first.prev_hash:
        known = cached[2]
    else:
        known = _fetch(conn, frontier(first.seq))
    rows: list[dict[str, Any]] = []
    for k, entry in enumerate(entries):
        index = entry.seq
        data = leaves[k] if leaves is not None else leaf_bytes(entry)
        written = append_nodes(index, leaf_hash(data), known.__getitem__)
        rows += [{"node": node_key(node), "hash": h} for node, h in written]
        nodes = {**known, **dict(written)}
        known = {n: nodes[n] for n in frontier(index + 1)}
    store.insert_rows(conn, "log_tree", rows)
    last = entries[-1]
    store.tree_tail = (last.seq + 1, last.hash, known)


def tree_size(store: Store) -> int:
    """Leaves in the tree: the entries of the log (the head's seq + 1)."""
    return store.head()[0] + 1


def _check_size(store: Store, size: int) -> None:
    current = tree_size(store)
    if size > current:
        raise InputError(
            f"tree size {size} is beyond the log's {current} entries: ask for a size at most "
            f"{current} (GET /v1/log/checkpoint gives the latest)"
        )


def root(store: Store, size: int) -> bytes:
    """The root hash of the tree of the first ``size`` entries."""
    if size < 0:
        raise InputError(f"tree size {size} is negative: give 0 or more")
    _check_size(store, size)
    with store.read_transaction() as conn:
        return root_hash(size, _fetch(conn, frontier(size)))


def inclusion_proof(store: Store, index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise InputError(f"leaf {index} is not in a tree of {size} entries: give 0 <= index < size")
    _check_size(store, size)
    ranges = inclusion_ranges(index, size)
    with store.read_transaction() as conn:
        nodes = _fetch(conn, nodes_for(ranges))
    return [range_hash(start, end, nodes) for start, end in ranges]


def consistency_proof(store: Store, first: int, second: int) -> list[bytes]:
    """RFC 9162 consistency proof from the tree of ``first`` leaves to that of ``second``."""
    if not 0 <= first <= second:
        raise InputError(
            f"no consistency proof from {first} to {second} entries: give 0 <= from <= to"
        )
    _check_size(store, second)
    ranges = consistency_ranges(first, second)
    with store.read_transaction() as conn:
        nodes = _fetch(conn, nodes_for(ranges))
    return [range_hash(start, end, nodes) for start, end in ranges]


def leaf_count(store: Store) -> int:
    """Leaves the tree holds (the log's entries once ``backfill`` ran). Leaves are written in
    order, so it is found by bisection over the leaves' keys: O(log n) indexed lookups."""
    head = store.head()[0]
    with store.read_transaction() as conn:
        return _leaf_count(conn, head)


def _leaf_count(conn: Connection, head: int) -> int:
    """``leaf_count`` on ``conn`` (a read, or the write transaction) for a log of ``head``."""
    lo, hi = 0, head + 1  # leaves [0, lo) exist; none at hi or beyond

    def present(index: int) -> bool:
        found = conn.execute(
            sa.select(log_tree.c.node).where(log_tree.c.node == node_key((0, index)))
        ).first()
        return found is not None

    if hi and present(hi - 1):
        return hi
    while lo < hi:
        mid = (lo + hi) // 2
        if present(mid):
            lo = mid + 1
        else:
            hi = mid
    return lo


def backfill(store: Store) -> int:
    """Build the tree of the entries written before it existed (a store of the previous
    version), page by page; returns the leaves added."""
    from deconflict.store.rows import _event

    added = 0
    while True:
        if leaf_count(store) > store.head()[0]:  # the common case: no write lock taken
            return added
        with store.write_transaction() as (conn, head):
            # counted again under the writers' lock: another process (a service instance, the
            # engine) may have appended entries, and their leaves, since
            start = _leaf_count(conn, int(head[0]))
            if start > int(head[0]):
                return added
            rows = conn.execute(
                sa.select(events)
                .where(events.c.seq >= start)
                .order_by(events.c.seq)
                .limit(_BACKFILL_PAGE)
            )
            for row in rows:
                append_leaves(store, conn, [_event(row)])
                added += 1
