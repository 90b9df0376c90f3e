"""Need-to-know: what one party may see of another's operation (degrees, feet, UTC).

Only the parts of its volumes that meet the viewer's own (``deconflict.strategic.need_to_know``),
its id, version and token (to prove awareness), and its owner's name and contact: never its
aircraft, priority, state or full volumes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from deconflict.errors import NotFoundError
from deconflict.store import Party, Store
from deconflict.strategic.model import Buffers, Operation
from deconflict.strategic.need_to_know import intersection_view

Lookup = Callable[[str], Party | None]


class Disclosure:
    """Need-to-know views, with the owners' names and contacts from the store."""

    def __init__(self, store: Store, buffers: Buffers) -> None:
        self.store = store
        self.buffers = buffers
        self._parties: dict[str, Party] = {}

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
        seen = intersection_view(other, viewer_ops, self.buffers)
        if seen is None:
            return None
        return self._shape(other, [p.model_dump(mode="json") for p in seen.parts], lookup)

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
