"""Checkpoints and cosignatures as C2SP specifies them: signed-note, tlog-checkpoint and
tlog-cosignature (cosignature/v1, Ed25519); times are POSIX seconds.

A checkpoint's *body* is three lines, each ending in a newline: the log's origin, the tree size
in decimal, the root hash in standard base64. A *signed note* is the body, an empty line, then
one line per signature: ``— <key name> base64(key id ‖ signature)`` (U+2014, a space). For the
host's Ed25519 signature the key id is SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] and the
signature is over the body's bytes. A witness's cosignature line has the key id SHA-256(name ‖
0x0A ‖ 0x04 ‖ public key)[:4] and, after it, an 8-byte big-endian timestamp and the Ed25519
signature over ``cosignature/v1\\ntime <timestamp>\\n`` followed by the body.

A verifier key (C2SP vkey) is ``<name>+<key id in hex>+base64(0x01 ‖ public key)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from deconflict.errors import InputError

DASH: Final = "\u2014 "
NOTE_ED25519: Final = 0x01
COSIGNATURE_V1: Final = 0x04
MAX_LINE: Final = 1024
WITNESS_PREFIX: Final = "deconflict.witness/"


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise InputError(f"key name {name!r} must be non-empty, without spaces or '+'")


def note_key_id(name: str, key: Ed25519PublicKey, kind: int = NOTE_ED25519) -> bytes:
    """The 4-byte key id of ``key`` named ``name`` (0x01: a note signature, 0x04: a
    cosignature/v1)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + _raw(key)).digest()[:4]


def vkey(name: str, key: Ed25519PublicKey) -> str:
    """The C2SP verifier key of a note signer."""
    _check_name(name)
    encoded = base64.b64encode(bytes([NOTE_ED25519]) + _raw(key)).decode()
    return f"{name}+{note_key_id(name, key).hex()}+{encoded}"


def parse_vkey(text: str) -> tuple[str, Ed25519PublicKey]:
    """(name, key) of a verifier key; InputError naming what is wrong."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise InputError(f"verifier key {text!r} is not NAME+KEYID+BASE64")
    name, kid, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"verifier key {text!r}: its key is not base64") from exc
    if len(raw) != 33 or raw[0] != NOTE_ED25519:
        raise InputError(f"verifier key {text!r} is not an Ed25519 (type 0x01) key")
    key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if note_key_id(name, key).hex() != kid.lower():
        raise InputError(f"verifier key {text!r}: its key id does not match its name and key")
    return name, key


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint body: origin, tree size, root hash (32 bytes), extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "".join(f"{line}\n" for line in (*lines, *self.extensions))


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: key name, 4-byte key id, the rest (signature bytes)."""

    name: str
    key_id: bytes
    data: bytes

    def line(self) -> str:
        return f"{DASH}{self.name} {base64.b64encode(self.key_id + self.data).decode()}\n"


@dataclass(frozen=True)
class Note:
    """A signed note: its body text and its signature lines."""

    body: str
    signatures: tuple[Signature, ...]

    def text(self) -> str:
        return self.body + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(text: str) -> Note:
    """Split a signed note into body and signatures; InputError naming what is malformed."""
    if "\n\n" not in text:
        raise InputError("not a signed note: no empty line between the body and the signatures")
    body, _, rest = text.partition("\n\n")
    body += "\n"
    if not rest.endswith("\n"):
        raise InputError("signed note does not end with a newline")
    signatures = []
    for line in rest[:-1].split("\n"):
        if not line.startswith(DASH) or len(line) > MAX_LINE:
            raise InputError(f"note signature line {line[:60]!r} does not start with '— '")
        name, _, encoded = line[len(DASH) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InputError(f"note signature of {name!r} is not base64") from exc
        if len(raw) < 5:
            raise InputError(f"note signature of {name!r} is too short")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return Note(body, tuple(signatures))


def parse_checkpoint(body: str) -> Checkpoint:
    """The checkpoint a note body holds; InputError naming the bad line."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise InputError("a checkpoint body has an origin, a size and a root hash line")
    origin, size_text, root_text, *extensions = lines[:-1]
    if not origin:
        raise InputError("checkpoint origin line is empty")
    if not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
        raise InputError(f"checkpoint size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"checkpoint root {root_text!r} is not base64") from exc
    if len(root) != 32:
        raise InputError(f"checkpoint root is {len(root)} bytes, not a SHA-256 hash")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, name: str, key: Ed25519PrivateKey) -> Note:
    """The checkpoint as a note signed by ``key`` named ``name``."""
    _check_name(name)
    body = checkpoint.body()
    sig = Signature(name, note_key_id(name, key.public_key()), key.sign(body.encode()))
    return Note(body, (sig,))


def note_signed_by(note: Note, name: str, key: Ed25519PublicKey) -> bool:
    """Whether a signature line of ``note`` is ``key``'s (named ``name``) and verifies."""
    kid = note_key_id(name, key)
    for sig in note.signatures:
        if sig.name == name and sig.key_id == kid:
            try:
                key.verify(sig.data, note.body.encode())
            except InvalidSignature:
                return False
            return True
    return False


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign(body: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> Signature:
    """A witness's cosignature/v1 of a checkpoint body at ``timestamp``."""
    _check_name(name)
    if not 0 <= timestamp < 2**63:
        raise InputError(f"cosignature time {timestamp} is not a POSIX time")
    signature = key.sign(cosigned_message(body, timestamp))
    kid = note_key_id(name, key.public_key(), COSIGNATURE_V1)
    return Signature(name, kid, struct.pack(">Q", timestamp) + signature)


def cosignature_time(body: str, sig: Signature, name: str, key: Ed25519PublicKey) -> int | None:
    """The time of ``sig`` when it is ``key``'s cosignature/v1 (named ``name``) of ``body``
    and verifies; None otherwise."""
    if sig.name != name or sig.key_id != note_key_id(name, key, COSIGNATURE_V1):
        return None
    if len(sig.data) != 8 + 64:
        return None
    (timestamp,) = struct.unpack(">Q", sig.data[:8])
    try:
        key.verify(sig.data[8:], cosigned_message(body, timestamp))
    except InvalidSignature:
        return None
    return int(timestamp)


def parse_signature_line(line: str) -> Signature:
    """One ``— name base64`` line (a cosignature a witness posts)."""
    note = parse_note("x\n\n" + line.rstrip("\n") + "\n")
    if len(note.signatures) != 1:
        raise InputError("give exactly one signature line")
    return note.signatures[0]


def witness_name(public_key: str) -> str:
    """The C2SP key name a party cosigns under: ``deconflict.witness/`` and its public key
    (base64, as registered) in unpadded base64url, so anyone can check a cosignature from the
    line alone."""
    raw = base64.b64decode(public_key)
    return WITNESS_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def witness_key(name: str) -> Ed25519PublicKey | None:
    """The public key a ``deconflict.witness/`` key name carries, or None."""
    if not name.startswith(WITNESS_PREFIX):
        return None
    text = name[len(WITNESS_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        return None
