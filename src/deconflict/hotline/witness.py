"""A party as a witness of the host's log: check a checkpoint, then cosign it (times POSIX s).

One cycle (``witness_once``), against a ``LogSource`` (the host's API, or a test's host):

1. the latest checkpoint must be signed by the host key the witness trusts (kept in its state;
   trusted on first use, or pinned), or by a key a ``host.key.rotated`` entry of the log hands
   over to from it — an entry whose inclusion in this checkpoint is proved;
2. every other party's cosignature on it must verify over it (one made over another tree of
   the same size is a split view: the host showed that party another history);
3. it must extend the last checkpoint the witness cosigned: not smaller (a rollback), the same
   root at the same size, and otherwise a consistency proof that leads from that root to this
   one (a proof that does not lead back to the cosigned root is a fork; one that leads to
   another root, a checkpoint whose root does not match the entries);
4. every entry the party holds (addressed to it or authored by it), as it first saw it, must be
   included in it (an inclusion proof from the leaf the witness hashed itself);

then it cosigns (C2SP cosignature/v1) and posts the cosignature. Anything wrong raises
``Refusal`` naming it; nothing is cosigned then and the state is left as it was.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from deconflict.errors import InputError
from deconflict.hotline.checkpoint import (
    cosign,
    cosignature_time,
    note_signed_by,
    parse_checkpoint,
    parse_note,
    parse_vkey,
    witness_key,
    witness_name,
)
from deconflict.hotline.hostkey import HOST_KEY_ROTATED, rotation_verifies
from deconflict.hotline.keys import Signer, public_key_from_b64, public_key_to_b64
from deconflict.hotline.log import entry_bytes
from deconflict.hotline.merkle import consistency_roots, inclusion_root, leaf_hash


class Refusal(Exception):
    """The checkpoint is not cosigned: the message says what was wrong."""


class LogSource(Protocol):
    """What a witness asks the host (``GET``/``POST /v1/log/...``)."""

    def checkpoint(self) -> Mapping[str, Any]: ...

    def consistency(self, first: int, second: int) -> list[bytes]: ...

    def inclusion(self, index: int, size: int) -> list[bytes]: ...

    def entries(self, after: int) -> list[Mapping[str, Any]]: ...

    def host_keys(self) -> list[Mapping[str, Any]]: ...

    def post_cosignature(self, size: int, line: str) -> Mapping[str, Any]: ...


@dataclass
class WitnessState:
    """What a witness keeps between cycles (``DIR/state.json``)."""

    host_key: str = ""  # base64 raw Ed25519 key the witness trusts to sign checkpoints
    origin: str = ""
    size: int = 0  # the last checkpoint it cosigned
    root: str = ""  # its root, base64
    cursor: int = -1  # seq of the last entry it fetched
    pending: dict[str, str] = field(default_factory=dict)  # seq -> leaf hash (hex), unproved

    @classmethod
    def load(cls, folder: Path) -> WitnessState:
        path = folder / "state.json"
        if not path.exists():
            return cls()
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise InputError(f"witness state {path} is unreadable ({exc}): restore it") from exc

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".state.", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(asdict(self), out, sort_keys=True)
            os.replace(tmp, folder / "state.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class Cycle:
    """What one cycle checked and did."""

    size: int
    root: str
    previous: int
    included: int
    cosigned_by: tuple[str, ...]
    counts: bool

    def line(self) -> str:
        quorum = "counts" if self.counts else "below quorum"
        who = ", ".join(self.cosigned_by) or "nobody"
        return (
            f"checkpoint {self.size} root {self.root[:12]}…: consistent with {self.previous}, "
            f"{self.included} held entries included; cosigned (by {who}: {quorum})"
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _leaf(entry: Mapping[str, Any]) -> bytes:
    return leaf_hash(entry_bytes(entry))


def _trusted_key(source: LogSource, state: WitnessState, note: Any, origin: str, size: int) -> str:
    """The host key (base64) that signed ``note``: the trusted one, or one a proved rotation
    hands over to; Refusal otherwise."""
    key = public_key_from_b64(state.host_key)
    if note_signed_by(note, origin, key):
        return state.host_key
    current, handed = state.host_key, False
    for entry in source.host_keys():
        if entry.get("kind") != HOST_KEY_ROTATED or not isinstance(entry.get("payload"), Mapping):
            continue
        new = rotation_verifies(entry["payload"], current)
        if new is None:
            continue
        seq = int(entry["seq"])
        if seq >= size or inclusion_root(seq, size, _leaf(entry), source.inclusion(seq, size)) != (
            parse_checkpoint(note.body).root
        ):
            raise Refusal(
                f"the host key rotation at seq {seq} is not included in checkpoint {size}"
            )
        current, handed = new, True
    if handed and note_signed_by(note, origin, public_key_from_b64(current)):
        return current
    raise Refusal(
        f"checkpoint {size} is not signed by the host key you trust ({state.host_key[:12]}…) "
        "nor by a key a rotation in the log hands over to: the host signature fails"
    )


def _check_cosignatures(note: Any, body: str, own: str, size: int) -> None:
    for sig in note.signatures:
        key = witness_key(sig.name)
        if key is None or sig.name == own:
            continue
        if cosignature_time(body, sig, sig.name, key) is None:
            raise Refusal(
                f"split view: the cosignature of {sig.name} on checkpoint {size} was made over "
                "another tree (the host shows that party a different history)"
            )


def _check_extends(source: LogSource, state: WitnessState, size: int, root: bytes) -> None:
    last_root = base64.b64decode(state.root) if state.root else b""
    if size < state.size:
        raise Refusal(
            f"rollback: the tree shrank from {state.size} entries (which you cosigned) to {size}"
        )
    if size == state.size:
        if state.size and root != last_root:
            raise Refusal(f"fork: checkpoint {size} has another root than the one you cosigned")
        return
    if state.size == 0:
        return
    roots = consistency_roots(state.size, size, last_root, source.consistency(state.size, size))
    if roots is None or roots[0] != last_root:
        raise Refusal(
            f"fork: checkpoint {size} is not consistent with checkpoint {state.size} you "
            "cosigned (the history you cosigned was changed)"
        )
    if roots[1] != root:
        raise Refusal(
            f"checkpoint {size}'s signed root does not match the entries (the consistency "
            f"proof from {state.size} leads to another root)"
        )


def _fetch_entries(source: LogSource, state: WitnessState) -> None:
    while page := source.entries(state.cursor):
        for entry in page:
            seq = int(entry["seq"])
            state.pending[str(seq)] = _leaf(entry).hex()
            state.cursor = max(state.cursor, seq)


def _check_held(source: LogSource, state: WitnessState, size: int, root: bytes) -> int:
    proved = 0
    for key in sorted(state.pending, key=int):
        seq = int(key)
        if seq >= size:
            continue
        leaf = bytes.fromhex(state.pending[key])
        if inclusion_root(seq, size, leaf, source.inclusion(seq, size)) != root:
            raise Refusal(
                f"entry seq {seq}, which you hold, is missing or changed in checkpoint {size} "
                "(dropped or rewritten after you saw it, or a root that does not match it)"
            )
        del state.pending[key]
        proved += 1
    return proved


def witness_once(
    source: LogSource,
    state: WitnessState,
    signer: Signer,
    *,
    now_s: float,
    host_key: str = "",
) -> Cycle:
    """Check the host's latest checkpoint and cosign it; updates ``state`` only on success."""
    work = WitnessState(**{**asdict(state), "pending": dict(state.pending)})
    served = source.checkpoint()
    try:
        note = parse_note(str(served["note"]))
        checkpoint = parse_checkpoint(note.body)
        if not work.host_key:
            name, key = parse_vkey(host_key or str(served["host_key"]))
            if name != checkpoint.origin:
                raise Refusal(f"the host key is named {name!r}, the log {checkpoint.origin!r}")
            work.host_key, work.origin = public_key_to_b64(key), checkpoint.origin
    except (InputError, KeyError, binascii.Error, ValueError) as exc:
        raise Refusal(f"the checkpoint is malformed: {exc}") from exc
    if checkpoint.origin != work.origin:
        raise Refusal(f"the log's origin changed from {work.origin!r} to {checkpoint.origin!r}")
    size, root = checkpoint.size, checkpoint.root
    work.host_key = _trusted_key(source, work, note, checkpoint.origin, size)
    own = witness_name(public_key_to_b64(signer.public_key))
    _check_cosignatures(note, note.body, own, size)
    _check_extends(source, work, size, root)
    _fetch_entries(source, work)
    included = _check_held(source, work, size, root)
    line = cosign(note.body, own, signer.private_key, int(now_s)).line()
    answer = source.post_cosignature(size, line)
    previous = work.size
    work.size, work.root = size, _b64(root)
    for name, value in asdict(work).items():
        setattr(state, name, value)
    return Cycle(
        size,
        _b64(root),
        previous,
        included,
        tuple(answer.get("cosigned_by", ())),
        bool(answer.get("counts", False)),
    )
