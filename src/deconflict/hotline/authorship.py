"""What a party signs for the entries it authors, and which log entries a party authored (time s).

The host seals every log entry with its own key (``hotline.log``); an entry a *party* authored
also carries that party's Ed25519 signature, so a host cannot alter or forge it without the
verification naming it. A party-authored entry is a hotline message entry (entry kind
``message`` in the service's log, ``hotline.message`` in the live engine's) whose ``sender`` is
a party (not ``host``), except identification requests (the engine opens those on an observing
party's behalf; they stay host-signed). Its payload holds ``client_signature`` (standard base64
of the 64-byte Ed25519 signature) and ``client_key_id`` (``hotline.keys.key_id`` of the key).

The signed bytes are ``canonical_json(content)`` (``hotline.canonical``: RFC 8785, log format 2;
a party-signed entry of format 1 was signed over that format's canonical form) of:

* a message (free text, operation change, incident report, ...): ``message_content`` —
  ``{sender, to, kind, body, time_s, priority}``, the fields its message id is the hash of;
* an acknowledgement: ``{"action": "acknowledgement", "message_id": ..., "party": ...,
  "time_s": ...}`` (``acknowledgement_content``);
* an identification answer: ``{"action": "identification_answer", "request_id": ...,
  "party": ..., "answer": ..., "aircraft": ..., "operation": ..., "time_s": ...}``
  (``answer_content``).

An operation declaration (entry kind ``operation.written``: a new operation, a new version, a
change of state) is party-authored too, always: its payload names the declaring party in
``declared_by`` and carries its signature over ``operation_content`` —
``{"action": "operation", "party", "operation" ("" for a new one), "version", "volumes" (as
stored: the normalised JSON of each volume), "priority", "aircraft_ids", "state", "time_s"}``.

``time_s`` is a float and ``priority`` an integer (RFC 8785 writes a whole float as an integer:
``1700000000``, as any JCS library does).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from deconflict.hotline.canonical import LOG_FORMAT, canonical_json, canonical_json_for
from deconflict.hotline.keys import Signer
from deconflict.hotline.messages import Message, MessageKind

#: The name the host signs and sends as.
HOST: Final = "host"
#: Log entry kinds that hold a hotline message (the service's store, the live engine's events).
MESSAGE_ENTRY_KINDS: Final = frozenset({"message", "hotline.message"})
#: Message kinds a party's name may carry without its signature: made by the engine for it.
ENGINE_MADE_KINDS: Final = frozenset({MessageKind.IDENTIFICATION_REQUEST.value})
SIGNATURE_FIELD: Final = "client_signature"
KEY_ID_FIELD: Final = "client_key_id"
#: The log entry kind of an operation declaration, and its field naming the declaring party.
OPERATION_ENTRY_KIND: Final = "operation.written"
DECLARED_BY_FIELD: Final = "declared_by"


def message_content(message: Message | Mapping[str, Any]) -> dict[str, Any]:
    """What a message's id is the hash of, and what its sender signs (as canonical JSON)."""
    m = message.to_dict() if isinstance(message, Message) else message
    return {
        "sender": m["sender"],
        "to": list(m["to"]),
        "kind": str(m["kind"]),
        "body": dict(m["body"]),
        "time_s": float(m["time_s"]),
        "priority": int(m["priority"]),
    }


def acknowledgement_content(message_id: str, party: str, time_s: float) -> dict[str, Any]:
    """What ``party`` signs to acknowledge message ``message_id`` at ``time_s``."""
    return {
        "action": MessageKind.ACKNOWLEDGEMENT.value,
        "message_id": message_id,
        "party": party,
        "time_s": float(time_s),
    }


def answer_content(
    request_id: str,
    party: str,
    answer: str,
    *,
    aircraft: str = "",
    operation: str = "",
    time_s: float,
) -> dict[str, Any]:
    """What ``party`` signs to answer identification request ``request_id`` at ``time_s``."""
    return {
        "action": MessageKind.IDENTIFICATION_ANSWER.value,
        "request_id": request_id,
        "party": party,
        "answer": answer,
        "aircraft": aircraft,
        "operation": operation,
        "time_s": float(time_s),
    }


def operation_content(
    party: str,
    operation: str,
    version: int,
    volumes: list[Any],
    priority: int,
    aircraft_ids: list[str],
    state: str,
    time_s: float,
) -> dict[str, Any]:
    """What ``party`` signs to declare version ``version`` of ``operation`` ("" for a new one)."""
    return {
        "action": "operation",
        "party": party,
        "operation": operation,
        "version": int(version),
        "volumes": list(volumes),
        "priority": int(priority),
        "aircraft_ids": list(aircraft_ids),
        "state": state,
        "time_s": float(time_s),
    }


def party_author(entry_kind: str, payload: Mapping[str, Any]) -> str | None:
    """The party that authored a log entry and must have signed it, or None for host entries."""
    if entry_kind == OPERATION_ENTRY_KIND:  # always a party's: unsigned, it is named unsigned
        author = payload.get(DECLARED_BY_FIELD, payload.get("by"))
        return author if isinstance(author, str) and author != HOST else "(unnamed party)"
    if entry_kind not in MESSAGE_ENTRY_KINDS:
        return None
    sender = payload.get("sender")
    if not isinstance(sender, str) or sender == HOST:
        return None
    if payload.get("kind") in ENGINE_MADE_KINDS and SIGNATURE_FIELD not in payload:
        return None
    return sender


def signed_content(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The content the author of a party-authored entry (its payload) signed."""
    if DECLARED_BY_FIELD in payload:  # an operation declaration
        version = int(payload["version"])
        return operation_content(
            payload[DECLARED_BY_FIELD],
            "" if version == 1 else str(payload["operation"]),
            version,
            list(payload["volumes"]),
            int(payload["priority"]),
            list(payload["aircraft"]),
            str(payload["state"]),
            float(payload["time_s"]),
        )
    kind, body = payload["kind"], payload["body"]
    if kind == MessageKind.ACKNOWLEDGEMENT.value:
        return acknowledgement_content(str(body["ref"]), payload["sender"], payload["time_s"])
    if kind == MessageKind.IDENTIFICATION_ANSWER.value:
        return answer_content(
            str(body["request_id"]),
            payload["sender"],
            str(body["answer"]),
            aircraft=str(body.get("aircraft", "")),
            operation=str(body.get("operation", "")),
            time_s=payload["time_s"],
        )
    return message_content(payload)


def sign_content(signer: Signer, content: Mapping[str, Any]) -> str:
    """The party's signature (base64) over ``canonical_json(content)``."""
    return signer.sign(canonical_json(dict(content)))


def signature_verifies(
    key: Ed25519PublicKey, signature: str, content: Mapping[str, Any], *, fmt: int = LOG_FORMAT
) -> bool:
    """Whether ``signature`` (base64) is ``key``'s over the canonical JSON of ``content`` in log
    format ``fmt`` (the format of the entry that carries it: 2, RFC 8785, for every new one)."""
    try:
        data = canonical_json_for(fmt)(dict(content))
        key.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
