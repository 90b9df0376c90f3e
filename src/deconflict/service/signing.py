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
    public_key_to_b64,
)
from deconflict.hotline.log import entry_hash
from deconflict.settings import Settings
from deconflict.store import EventDraft, Store, open_store


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


def store_host_signer(store: Store) -> Signer:
    """The host's signer from the key kept in the store, made there on the first start (every
    restart and every instance on the store then sign as one host)."""
    from deconflict.store import transparency

    pem = transparency.current_host_key(store)
    if pem is None:
        key = generate_private_key()
        made = Signer("host", key)
        pem = transparency.add_host_key(store, made.key_id, private_key_to_pem(key).decode())
    return Signer("host", private_key_from_pem(pem.encode()))


def host_signer(store: Store, path: str) -> Signer:
    """The host's signer: from ``path`` (the ``host_key_file`` setting) when set, else the key
    kept in the store."""
    return load_host_signer(path) if path else store_host_signer(store)


def log_host_key(store: Store, signer: Signer) -> None:
    """Log ``signer``'s public key as a ``host.key`` entry unless the log already names it
    (as a ``host.key`` or the new key of a ``host.key.rotated``)."""
    from deconflict.hotline.hostkey import HOST_KEY
    from deconflict.workflows.transparency import host_key_history

    for entry in host_key_history(store):
        if signer.key_id in (entry.payload.get("key_id"), entry.payload.get("new_key_id")):
            return
    key = {"key_id": signer.key_id, "public_key": public_key_to_b64(signer.public_key)}
    store.append_events([EventDraft("host", HOST_KEY, key)])


def open_signed_store(settings: Settings) -> tuple[Store, Signer]:
    """The store of ``settings`` (``database_url``, ``sqlite_synchronous``), every entry it
    writes sealed with the host's one stable key (``host_signer``), whose public half the log
    records once as a ``host.key`` entry, so an exported log verifies offline. Every command
    that writes to the store opens it so."""
    store = open_store(settings.database_url, synchronous=settings.sqlite_synchronous)
    try:
        signer = host_signer(store, settings.host_key_file)
        store.sealer = HostSealer(signer)
        log_host_key(store, signer)
    except BaseException:
        store.close()
        raise
    return store, signer
