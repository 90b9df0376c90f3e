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

    def __init__(self) -> None:
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
        state = _FOLLOWED.setdefault(store, {}).setdefault(key, _Followed())
    with state.lock:
        if indexed and state.by_key is None:
            state.by_key = {}
            for row in state.rows:
                state.by_key.setdefault(row[1], []).append(row)
        if entry_kind == MESSAGE:
            new = messages_of_kinds(store, kinds, after=state.after)
        else:
            new = entries(store, entry_kind, after=state.after)
        for e in new:
            row = (e.seq, *pick(e))
            state.rows.append(row)
            if state.by_key is not None:
                state.by_key.setdefault(row[1], []).append(row)
        state.after = new[-1].seq if new else state.after
    return state


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
