"""The host's identity in the log: a key rotation is a statement both keys sign (no units).

``host.key.rotated`` entries carry ``rotation_content(old_key_id, new_public_key)`` — ``{action,
old_key_id, new_key_id, new_public_key}`` — and the Ed25519 signatures of its canonical JSON by
the old key (``old_signature``) and the new (``new_signature``), base64. The entry itself is
sealed by the old key. So whoever trusts the old key learns the new one from the log alone, and a
key no rotation hands over to is not the host's.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidSignature

from deconflict.errors import InputError
from deconflict.hotline.canonical import canonical_json
from deconflict.hotline.keys import Signer, key_id, public_key_from_b64, public_key_to_b64

HOST_KEY: Final = "host.key"
HOST_KEY_ROTATED: Final = "host.key.rotated"


def rotation_content(old_key_id: str, new_public_key: str) -> dict[str, Any]:
    """What both the old and the new host key sign to rotate (as canonical JSON)."""
    return {
        "action": HOST_KEY_ROTATED,
        "old_key_id": old_key_id,
        "new_key_id": key_id(public_key_from_b64(new_public_key)),
        "new_public_key": new_public_key,
    }


def rotation_payload(old: Signer, new: Signer) -> dict[str, Any]:
    """The payload of the ``host.key.rotated`` entry handing over from ``old`` to ``new``."""
    content = rotation_content(old.key_id, public_key_to_b64(new.public_key))
    data = canonical_json(content)
    return {**content, "old_signature": old.sign(data), "new_signature": new.sign(data)}


def rotation_verifies(payload: Mapping[str, Any], old_public_key: str) -> str | None:
    """The new key (base64) a ``host.key.rotated`` payload hands over to, when it rotates away
    from ``old_public_key`` and both signatures verify; None otherwise."""
    try:
        old = public_key_from_b64(old_public_key)
        content = rotation_content(str(payload["old_key_id"]), str(payload["new_public_key"]))
        if content != {k: payload.get(k) for k in content} or content["old_key_id"] != key_id(old):
            return None
        new = public_key_from_b64(content["new_public_key"])
        data = canonical_json(content)
        old.verify(base64.b64decode(str(payload["old_signature"]), validate=True), data)
        new.verify(base64.b64decode(str(payload["new_signature"]), validate=True), data)
    except (KeyError, InputError, InvalidSignature, binascii.Error, ValueError):
        return None
    return str(content["new_public_key"])
