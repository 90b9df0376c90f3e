"""Ed25519 keys of the parties: generation, serialisation, key ids and the key ring (no units).

Formats: a public key travels as its raw 32 bytes in standard base64 (44 characters); a private
key is stored as unencrypted PKCS#8 PEM (protect the file, not the bytes). A key id is the first
16 hex characters of SHA-256 over the raw public key. A key ring file (``KEYS.json``) maps each
party to one public key or a list of them (to allow rotation)::

    {"alpha": "base64...", "bravo": ["base64-old...", "base64-new..."]}
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from deconflict.errors import InputError
from deconflict.hotline.canonical import canonical_json_for, sha256_hex


def generate_private_key() -> Ed25519PrivateKey:
    """A new random Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def public_key_to_b64(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key in standard base64."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    """Read a public key written by ``public_key_to_b64``."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"public key {text!r} is not base64: give the raw 32-byte key") from exc
    if len(raw) != 32:
        raise InputError(f"public key is {len(raw)} bytes, expected the raw 32-byte Ed25519 key")
    return Ed25519PublicKey.from_public_bytes(raw)


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    """The private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def private_key_from_pem(data: bytes) -> Ed25519PrivateKey:
    """Read a PKCS#8 PEM private key; it must be Ed25519."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"private key is {type(key).__name__}, expected an Ed25519 key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    """Short id of a public key: the first 16 hex chars of SHA-256 over its raw bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256_hex(raw)[:16]


@dataclass(frozen=True)
class Signer:
    """A party and the private key it signs log entries with."""

    party: str
    private_key: Ed25519PrivateKey

    @cached_property
    def key_id(self) -> str:
        return key_id(self.private_key.public_key())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def author(self) -> str:
        """The signing party (the name the store's ``Sealer`` protocol uses)."""
        return self.party

    def sign(self, data: bytes) -> str:
        """Ed25519 signature of ``data`` in standard base64."""
        return base64.b64encode(self.private_key.sign(data)).decode("ascii")

    def seal(self, body: Mapping[str, Any]) -> tuple[str, str]:
        """(hash, signature) of a log entry body (``hotline.log.append_entry`` and the store seal
        with it): SHA-256 hex of the body's canonical JSON in its log format (``format``, 1 when
        absent), signed as 32 raw bytes."""
        digest = sha256_hex(canonical_json_for(body.get("format", 1))(dict(body)))
        return digest, self.sign(bytes.fromhex(digest))


@dataclass(frozen=True)
class KeyRing:
    """The public keys each party may sign with: party -> {key id -> key}."""

    keys: Mapping[str, Mapping[str, Ed25519PublicKey]] = field(default_factory=dict)

    @classmethod
    def from_public_keys(
        cls, keys: Mapping[str, Ed25519PublicKey | list[Ed25519PublicKey]]
    ) -> KeyRing:
        ring: dict[str, dict[str, Ed25519PublicKey]] = {}
        for party, value in keys.items():
            items = value if isinstance(value, list) else [value]
            ring[party] = {key_id(k): k for k in items}
        return cls(ring)

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        """Parse the ``KEYS.json`` format (see the module docstring)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"key ring is not JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise InputError('key ring must be a JSON object {"party": "base64 key" | [...]}')
        keys: dict[str, Ed25519PublicKey | list[Ed25519PublicKey]] = {}
        for party, value in data.items():
            texts = value if isinstance(value, list) else [value]
            if not all(isinstance(t, str) for t in texts):
                raise InputError(f"key ring entry for {party!r} must be a base64 string or a list")
            keys[party] = [public_key_from_b64(t) for t in texts]
        return cls.from_public_keys(keys)

    @classmethod
    def load(cls, path: str | Path) -> KeyRing:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read key ring {path}: {exc}") from exc
        return cls.from_json(text)

    def with_key(self, party: str, key: Ed25519PublicKey) -> KeyRing:
        """This ring with ``key`` added to ``party``'s keys (kept when already there)."""
        return KeyRing({**self.keys, party: {**self.keys.get(party, {}), key_id(key): key}})

    def to_json(self) -> str:
        return json.dumps(
            {p: [public_key_to_b64(k) for k in ks.values()] for p, ks in self.keys.items()},
            indent=2,
            sort_keys=True,
        )

    def lookup(self, party: str, kid: str) -> Ed25519PublicKey | None:
        """The key ``kid`` of ``party``, or None when the party or key is not registered."""
        return self.keys.get(party, {}).get(kid)
