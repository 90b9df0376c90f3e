"""Reading the log on: each entry of some kinds read and decoded once, from where the last read
stopped (the log only grows), by the checks that run every tick or every few seconds over every
safety message, identification request, answer or resolution; kept per store in this process,
with an index by the first field picked (a request id, say), so that a lookup by that field is
a dictionary lookup, not a query over a payload field of every entry of the kind."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from deconflict.store.hotline import MESSAGE, entries, messages_of_kinds
from deconflict.store.records import Event
from deconflict.store.store import Store


class _Followed:
    """What ``followed`` keeps of one store's entries of some kinds."""

    def __init__(
        self, kinds: Sequence[str], pick: Callable[[Event], tuple[Any, ...]], entry_kind: str
    ) -> None:
        self.kinds = frozenset(kinds)
        self.pick = pick
        self.entry_kind = entry_kind
        self.after = -1
        self.rows: list[tuple[Any, ...]] = []
        # pick's first field -> its rows; made when first asked for (``followed_index``)
        self.by_key: dict[Any, list[tuple[Any, ...]]] | None = None
        self.lock = threading.Lock()


_FOLLOWED: weakref.WeakKeyDictionary[Store, dict[str, _Followed]] = weakref.WeakKeyDictionary()
_FOLLOWED_LOCK: Final = threading.Lock()


def _follow(
    store: Store,
    kinds: Sequence[str],
    pick: Callable[[Event], tuple[Any, ...]],
    entry_kind: str,
    indexed: bool = False,
) -> _Followed:
    """The follower of ``store``'s entries of ``entry_kind`` (and, for messages, of the message
    kinds ``kinds``), read on to the log's end; ``indexed``: with its index by key from now on.
    Its rows only grow: copying them (``list``) or looking one up needs no lock."""
    key = entry_kind + ":" + ",".join(sorted(kinds))
    with _FOLLOWED_LOCK:
        followers = _FOLLOWED.setdefault(store, {})
        state = followers.get(key)
        if state is None:
            state = followers[key] = _Followed(kinds, pick, entry_kind)
    with state.lock:
        if indexed and state.by_key is None:
            state.by_key = {}
            for row in state.rows:
                state.by_key.setdefault(row[1], []).append(row)
        if entry_kind == MESSAGE:
            new = messages_of_kinds(store, kinds, after=state.after)
        else:
            new = entries(store, entry_kind, after=state.after)
        _take(state, new, new[-1].seq if new else state.after)
    return state


def _take(state: _Followed, new: Sequence[Event], last_seq: int) -> None:
    """Add ``new`` (the follower's kinds' entries after ``state.after``, in order) and read on to
    ``last_seq``. The caller holds ``state.lock``."""
    for e in new:
        row = (e.seq, *state.pick(e))
        state.rows.append(row)
        if state.by_key is not None:
            state.by_key.setdefault(row[1], []).append(row)
    state.after = max(state.after, last_seq)


def taken_from(cursor: int, after: int, read: Sequence[Event], kind: str) -> list[Event] | None:
    """What a reader of ``kind`` entries whose read stopped at seq ``cursor`` takes from
    ``read`` (every entry with seq > ``after``, in order, none left out): its kind's entries
    after ``cursor``, after which it has read to ``read[-1].seq``; None when it cannot take
    them (entries between ``cursor`` and ``read`` unseen, or nothing new)."""
    if not read or not after <= cursor < read[-1].seq:
        return None
    return [e for e in read if e.seq > cursor and e.kind == kind]


def offer(store: Store, after: int, read: Sequence[Event]) -> None:
    """Entries a reader of the whole log has just read and decoded: ``read`` is every entry of
    ``store`` with seq > ``after``, in order (``Store.log`` from ``after``, none left out). Each
    follower of ``store`` whose read stopped within them takes its kinds' entries from them,
    and the next ``followed`` call reads on from their end instead of decoding them again (the
    engine reads every new entry each tick; its checks follow some kinds of the same)."""
    if not read:
        return
    with _FOLLOWED_LOCK:
        states = list(_FOLLOWED.get(store, {}).values())
    for state in states:
        with state.lock:
            new = taken_from(state.after, after, read, state.entry_kind)
            if new is None:
                continue
            if state.entry_kind == MESSAGE:
                new = [e for e in new if e.payload.get("kind") in state.kinds]
            _take(state, new, read[-1].seq)


def followed(
    store: Store,
    kinds: Sequence[str],
    pick: Callable[[Event], tuple[Any, ...]],
    *,
    entry_kind: str = MESSAGE,
) -> list[tuple[Any, ...]]:
    """``(seq, *pick(entry))`` of every ``message`` entry of the message kinds ``kinds`` (or,
    with ``entry_kind``, of every entry of that kind, ``kinds`` empty), in order, each entry
    read and decoded once: the entries are read on from where the last call with the same
    kinds stopped (the log only grows). For the checks that run every few seconds over every
    safety message or request; ``pick`` must be the same for the same kinds."""
    return list(_follow(store, kinds, pick, entry_kind).rows)


def followed_by_key(
    store: Store,
    kinds: Sequence[str],
    pick: Callable[[Event], tuple[Any, ...]],
    key: Any,
    *,
    entry_kind: str = MESSAGE,
) -> list[tuple[Any, ...]]:
    """The rows of ``followed`` whose first picked field is ``key`` (a request id, say), in
    order: one dictionary lookup once the log is read on, where a query by a payload field
    would read every entry of the kind."""
    return list(followed_index(store, kinds, pick, entry_kind=entry_kind).get(key, ()))


def followed_index(
    store: Store,
    kinds: Sequence[str],
    pick: Callable[[Event], tuple[Any, ...]],
    *,
    entry_kind: str = MESSAGE,
) -> Mapping[Any, Sequence[tuple[Any, ...]]]:
    """The rows of ``followed`` by their first picked field, read on to the log's end once for
    many lookups: the follower's own index, to be read there and then (it grows as the log is
    read on), never changed."""
    by_key = _follow(store, kinds, pick, entry_kind, indexed=True).by_key
    assert by_key is not None
    return by_key
