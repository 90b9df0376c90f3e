"""Operation declarations signed by the declaring party, as parties sign their hotline messages
(times Unix s UTC).

A party declares an operation (``POST /v1/operations``), a new version of one (``PUT``) or a
change of its state (``POST .../state``) with its registered Ed25519 key, over the canonical
JSON of ``hotline.authorship.operation_content``: its name, the operation's id ("" for a new
one), the version it makes, the volumes as the store keeps them (each one normalised: ring
closed and counter-clockwise, times in UTC; ``declared_volumes`` computes them from what the
party sends), priority, aircraft, state and the ``time_s`` it signed at (within 300 s of the
service clock). The signature goes into the ``operation.written`` log entry
(``declared_by``, ``time_s``, ``client_signature``, ``client_key_id``), so ``audit verify``
names a declaration the host altered, even re-sealed with the host's key.

Unsigned, a write is refused (422) with ``to_sign``, the exact content to sign: a client may
send once without a signature, sign what comes back and send again with ``time_s``,
``signature`` and ``key_id``. Signed by another key: 403; not verifying: 401.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deconflict.engine.hotline import require_party_signature, signed_time
from deconflict.errors import UnsignedError
from deconflict.hotline.authorship import (
    DECLARED_BY_FIELD,
    KEY_ID_FIELD,
    SIGNATURE_FIELD,
    operation_content,
    sign_content,
)
from deconflict.hotline.canonical import canonical_json
from deconflict.hotline.keys import Signer
from deconflict.store import OperationDraft, OperationRecord, Party
from deconflict.strategic.model import DeclaredVolume, Volume4D

_WHAT = (
    "operation_content(party, operation, version, volumes, priority, aircraft_ids, state, time_s)"
)


@dataclass(frozen=True, slots=True)
class Signed:
    """What a party sends with a declaration: the time it signed at, its signature (base64) and
    its key's id (all None from a party that did not sign)."""

    time_s: float | None = None
    signature: str | None = None
    key_id: str | None = None


def declared_volumes(volumes: Sequence[Any]) -> list[dict[str, Any]]:
    """The volumes as the store keeps (and the party signs) them, from what a party sends
    (or from parsed volumes)."""
    return [
        (v if isinstance(v, Volume4D) else DeclaredVolume.model_validate(v)).model_dump(mode="json")
        for v in volumes
    ]


def signed_declaration(
    signer: Signer,
    party: str,
    body: Mapping[str, Any],
    *,
    time_s: float,
    operation: str = "",
    version: int = 1,
) -> dict[str, Any]:
    """``body`` (a declaration as sent: volumes, priority, aircraft_ids, state, ...) with the
    party's ``time_s``, ``signature`` and ``key_id`` added."""
    content = operation_content(
        party,
        operation,
        version,
        declared_volumes(body["volumes"]),
        int(body.get("priority", 0)),
        list(body.get("aircraft_ids", [])),
        str(body.get("state", "Accepted")),
        time_s,
    )
    signature = sign_content(signer, content)
    return {**body, "time_s": float(time_s), "signature": signature, "key_id": signer.key_id}


def check_declaration(
    owner: Party,
    draft: OperationDraft,
    state: str,
    current: OperationRecord | None,
    signed: Signed,
    now_s: float,
) -> dict[str, Any]:
    """Check that ``owner`` signed this declaration (the version ``current`` is replaced by, or
    a new operation); the fields its ``operation.written`` entry then carries."""
    when = signed_time(now_s, signed.time_s, signed.signature)
    content = operation_content(
        owner.name,
        "" if current is None else str(draft.id),
        1 if current is None else current.version + 1,
        draft.volumes,
        draft.priority,
        draft.aircraft,
        state,
        when,
    )
    if not signed.signature:
        raise UnsignedError(
            f"unsigned: an operation declaration is signed by its party; sign canonical_json("
            f"{_WHAT}) = {canonical_json(content).decode()} with {owner.name!r}'s registered "
            "Ed25519 key and send it again with 'time_s', 'signature' (base64) and 'key_id' "
            "(the content is in 'to_sign'; see deconflict.engine.declarations)",
            content,
        )
    kid = require_party_signature(
        owner.name, owner.public_key, content, signed.signature, signed.key_id, what=_WHAT
    )
    return {
        DECLARED_BY_FIELD: owner.name,
        "time_s": when,
        SIGNATURE_FIELD: signed.signature,
        KEY_ID_FIELD: kid,
    }
