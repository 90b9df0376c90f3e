"""The end-to-end channel for what follows the intersection (no units; bytes).

Each side of a check makes a fresh X25519 key pair; its public key travels in a relayed envelope
signed with the party's Ed25519 key (``blind.protocol``), so a relay that swapped keys would
break the signature. The shared secret goes through HKDF-SHA256, bound to the check's id, into a
ChaCha20-Poly1305 key; each sealed message carries its own random 12-byte nonce and has the
check id and round as associated data, so a message cannot be moved to another check or round.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from deconflict.errors import InputError, VerificationError


class Channel:
    """One side of one check's channel."""

    def __init__(self) -> None:
        self._key = X25519PrivateKey.generate()
        self._aead: ChaCha20Poly1305 | None = None
        self._check = ""

    @property
    def public_b64(self) -> str:
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def join(self, other_public_b64: str, check: str) -> None:
        """Derive the shared key with the other side's public key (from its signed envelope)."""
        try:
            other = X25519PublicKey.from_public_bytes(base64.b64decode(other_public_b64))
        except ValueError as exc:
            raise InputError(f"the other side's channel key is not an X25519 key ({exc})") from exc
        secret = self._key.exchange(other)
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=b"deconflict-blind/" + check.encode(),
        ).derive(secret)
        self._aead = ChaCha20Poly1305(key)
        self._check = check

    def seal(self, value: Any, round_no: int) -> str:
        """``value`` (JSON) encrypted for the other side, base64."""
        assert self._aead is not None, "join the channel first"
        nonce = os.urandom(12)
        data = json.dumps(value, separators=(",", ":")).encode("utf-8")
        ct = self._aead.encrypt(nonce, data, f"{self._check}/{round_no}".encode())
        return base64.b64encode(nonce + ct).decode("ascii")

    def open(self, sealed: str, round_no: int) -> Any:
        """The value the other side sealed (``VerificationError`` if it was altered)."""
        assert self._aead is not None, "join the channel first"
        try:
            raw = base64.b64decode(sealed, validate=True)
            data = self._aead.decrypt(raw[:12], raw[12:], f"{self._check}/{round_no}".encode())
        except (InvalidTag, ValueError) as exc:
            raise VerificationError(
                "a sealed message does not open: it was altered, or sealed for another check"
            ) from exc
        return json.loads(data)
