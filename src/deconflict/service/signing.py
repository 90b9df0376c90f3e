"""The host's signing key and the sealer that signs the service's log entries with it.

Entries follow the hotline log's rule (``deconflict.hotline.log``): the hash is SHA-256 of the
body's canonical JSON, the signature Ed25519 over the hash's 32 raw bytes, in base64.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from deconflict.hotline.keys import (
    Signer,
    generate_private_key,
    private_key_from_pem,
    private_key_to_pem,
)
from deconflict.hotline.log import entry_hash


class HostSealer:
    """Seals store log entries as ``author`` with the host's key."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    @property
    def author(self) -> str:
        return self.signer.party

    @property
    def key_id(self) -> str:
        return self.signer.key_id

    def seal(self, body: dict[str, Any]) -> tuple[str, str]:
        digest = entry_hash(body)
        return digest, self.signer.sign(bytes.fromhex(digest))


def load_host_signer(path: str) -> Signer:
    """The host's signer from a PEM file, made (mode 0600) if missing; ephemeral if ``path``
    is empty."""
    if not path:
        return Signer("host", generate_private_key())
    file = Path(path)
    if file.exists():
        return Signer("host", private_key_from_pem(file.read_bytes()))
    key = generate_private_key()
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_key_to_pem(key))
    return Signer("host", key)
