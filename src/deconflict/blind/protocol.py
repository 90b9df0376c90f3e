"""What the parties and the host exchange in a blind check (times Unix s UTC; no geometry).

A check between the *declarer* A (who declares or changes an operation) and the *answerer* B
(a party with live blind operations) is four messages through the host:

1. A → B: A's blinded cells (``psi`` request) and A's channel key; ``meta``: A's commitment;
2. B → A: B's blinded cells and A's blinded again, B's channel key; ``meta``: B's live
   operations (id and commitment) that the cells stand for;
3. A → B: sealed: the meeting cells A learnt and A's parts inside them (``strategic.parts``);
4. B → A: sealed: B's parts inside the meeting cells; ``meta``: the outcome, signed by B.

A checks B's outcome against its own exact check of the parts, co-signs it and hands it to the
host, which logs it and holds A's declaration to it (proof of awareness).

Each message travels as an *envelope*: ``{check, round, sender, recipient, time_s, body, meta,
signature}``; ``body`` (base64 strings) is what the host relays unread, ``meta`` what it may
read. The sender signs ``envelope_content`` (the body only by its SHA-256) with its registered
Ed25519 key; the host checks that signature, the round order and the time, and logs the hash
of that content. A *commitment* is SHA-256 of the canonical JSON of ``{salt, volumes}``: it binds
the party to its volumes without showing them (the salt makes it impossible to guess).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Final

from deconflict.hotline.canonical import canonical_json, sha256_hex
from deconflict.strategic.model import Volume4D

ROUNDS: Final = 4
#: Who sends each round: the declarer ("a") or the answerer ("b").
SENDER_OF_ROUND: Final = {1: "a", 2: "b", 3: "a", 4: "b"}


def new_salt() -> str:
    return secrets.token_hex(16)


def new_check_id() -> str:
    return secrets.token_hex(16)


def volumes_json(volumes: Sequence[Volume4D]) -> list[dict[str, Any]]:
    return [v.model_dump(mode="json") for v in volumes]


def commitment(volumes: Sequence[Volume4D], salt: str) -> str:
    """SHA-256 (hex) of the canonical JSON of the volumes and a secret salt."""
    return sha256_hex(canonical_json({"salt": salt, "volumes": volumes_json(volumes)}))


def envelope_content(
    check: str,
    round_no: int,
    sender: str,
    recipient: str,
    time_s: float,
    body: Mapping[str, str],
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """What the sender of a relayed message signs (and whose hash the host logs)."""
    return {
        "action": "blind_message",
        "check": check,
        "round": int(round_no),
        "sender": sender,
        "recipient": recipient,
        "time_s": float(time_s),
        "body_sha256": sha256_hex(canonical_json(dict(body))),
        "meta": dict(meta),
    }


def content_of(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The signed content of an envelope as received."""
    return envelope_content(
        str(envelope["check"]),
        int(envelope["round"]),
        str(envelope["sender"]),
        str(envelope["recipient"]),
        float(envelope["time_s"]),
        envelope["body"],
        envelope["meta"],
    )


def message_hash(content: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(dict(content)))


def outcome_content(
    check: str,
    a: str,
    b: str,
    a_commitment: str,
    b_operations: Sequence[Mapping[str, str]],
    cells: int,
    conflicts: Sequence[str],
    time_s: float,
) -> dict[str, Any]:
    """The outcome of one check, as both parties sign it: which operations (A's candidate by
    commitment, B's live ones by id and commitment), when, how many cells met, which of B's
    operations conflict after the exact check of the parts."""
    ops = sorted(
        ({"id": str(o["id"]), "commitment": str(o["commitment"])} for o in b_operations),
        key=lambda o: o["id"],
    )
    return {
        "action": "blind_outcome",
        "check": check,
        "a": a,
        "b": b,
        "a_commitment": a_commitment,
        "b_operations": ops,
        "cells": int(cells),
        "conflicts": sorted(str(c) for c in conflicts),
        "conflict": bool(conflicts),
        "time_s": float(time_s),
    }
