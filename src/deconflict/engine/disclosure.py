"""Need-to-know: what one party may see of another's operation (degrees, feet, UTC).

Only the parts of its volumes that meet the viewer's own (``deconflict.strategic.need_to_know``),
its id, version and token (to prove awareness), and its owner's name and contact: never its
aircraft, priority, state or full volumes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from deconflict.errors import NotFoundError, ProbeTooLargeError
from deconflict.store import EventDraft, Party, Store
from deconflict.strategic.model import Buffers, Operation
from deconflict.strategic.need_to_know import intersection_view

if TYPE_CHECKING:
    from deconflict.engine.deconfliction import Deconflictor

Lookup = Callable[[str], Party | None]
#: Views kept (the oldest goes first): a listing of 1,000 operations shows a few hundred.
VIEW_CACHE_SIZE = 50_000
_UNSEEN: Any = object()


def shared_with(
    rules: Deconflictor, party_id: str, operation_id: str | None = None
) -> list[tuple[Operation, list[Operation]]]:
    """Every other party's live operation that meets one of ``party_id``'s live operations
    (or only ``operation_id``), each with those of the party's it meets, sorted by id: what
    need-to-know shows the party. One pass over the deconflictor's index (``conflicts_among``,
    the index brought up to the store's state first), not one check per pair of operations."""
    rules.refresh()
    meets: dict[str, set[str]] = {}
    with rules.lock:
        index = rules.index
        if operation_id is None:
            mine = [op.id for op in index if op.owner == party_id]
            for own_id, c in index.conflicts_among(mine):
                meets.setdefault(c.operation_id, set()).add(own_id)
        elif operation_id in index and index.get(operation_id).owner != party_id:
            for c in index.query(index.get(operation_id)):
                if index.get(c.operation_id).owner == party_id:
                    meets.setdefault(operation_id, set()).add(c.operation_id)
        return [
            (index.get(o), [index.get(m) for m in sorted(ms)]) for o, ms in sorted(meets.items())
        ]


class Disclosure:
    """Need-to-know views, with the owners' names and contacts from the store."""

    def __init__(self, store: Store, buffers: Buffers) -> None:
        self.store = store
        self.buffers = buffers
        self._parties: dict[str, Party] = {}
        # views computed, by (token of the other operation, tokens of the viewer's): a token
        # names one version, so a view is computed once per pair of versions
        self._views: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]] | None] = {}

    def _stored_party(self, party_id: str) -> Party | None:
        try:
            return self.store.get_party(party_id)
        except NotFoundError:
            return None

    def _party(self, party_id: str, lookup: Lookup | None) -> Party | None:
        party = self._parties.get(party_id)
        if party is None:
            party = (lookup or self._stored_party)(party_id)
            if party is not None:
                self._parties[party_id] = party
        return party

    def view(
        self, other: Operation, viewer_ops: Sequence[Operation], lookup: Lookup | None = None
    ) -> dict[str, Any] | None:
        """The viewer's view of ``other``; None where it meets none of ``viewer_ops``.

        ``lookup`` finds the owner's record (inside a write transaction, the write's own view of
        the store; by default the store)."""
        key = (other.token, tuple(o.token for o in viewer_ops))
        parts = self._views.get(key, _UNSEEN)
        if parts is _UNSEEN:
            seen = intersection_view(other, viewer_ops, self.buffers)
            parts = None if seen is None else [p.model_dump(mode="json") for p in seen.parts]
            if len(self._views) >= VIEW_CACHE_SIZE:
                with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                    del self._views[next(iter(self._views))]  # the oldest
            self._views[key] = parts
        if parts is None:
            return None
        return self._shape(other, parts, lookup)

    def describe(
        self, other: Operation, viewer_ops: Sequence[Operation], lookup: Lookup | None = None
    ) -> dict[str, Any]:
        """Like ``view``, but never None (no parts where the intersection is empty)."""
        shown = self.view(other, viewer_ops, lookup)
        return shown if shown is not None else self._shape(other, [], lookup)

    def _shape(
        self, other: Operation, parts: list[dict[str, Any]], lookup: Lookup | None
    ) -> dict[str, Any]:
        owner = self._party(other.owner, lookup)
        return {
            "shared": True,
            "id": other.id,
            "version": other.version,
            "token": other.token,
            "owner": owner.name if owner is not None else "",
            "contact": owner.contact if owner is not None else "",
            "parts": parts,
        }


def too_large(excess: str) -> ProbeTooLargeError:
    return ProbeTooLargeError(
        "this version meets other parties' operations whose tokens it does not carry (or that "
        f"the procedures refuse it beside), and {excess}: the service shows others' operations "
        "only to a declaration within the disclosure bound, or to your accepted operations. "
        "Declare it in parts within the bound, or GET /v1/operations for the tokens of the "
        "operations that meet your accepted ones"
    )


def disclosed_entry(viewer: Party, other: Operation, shown: dict[str, Any]) -> EventDraft:
    """The entry telling ``other``'s owner which parts of it ``viewer`` was shown, and why."""
    return EventDraft(
        viewer.id,
        "operation.disclosed",
        {
            "operation": other.id,
            "version": other.version,
            "to": viewer.name,
            "contact": viewer.contact,
            "reason": "awareness_required",
            "parts": shown["parts"],
        },
        (other.owner,),
    )
