"""An exported log checked against a cosigned checkpoint (no units): the checkpoint is the
host's (a host key of the key ring signed it), its cosignatures are the parties' (each by a key
the ring holds for that party), and the export's first ``size`` entries are exactly the tree
whose root it signed. Used by ``deconflict audit verify --checkpoint``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from deconflict.errors import InputError
from deconflict.hotline.checkpoint import (
    cosignature_time,
    note_signed_by,
    parse_checkpoint,
    parse_note,
    witness_key,
)
from deconflict.hotline.keys import KeyRing, key_id
from deconflict.hotline.log import entry_bytes
from deconflict.hotline.merkle import leaf_hash, root_of


@dataclass(frozen=True)
class CheckpointReport:
    """What the check found: ok, the checkpoint's size, who cosigned it, what failed."""

    size: int
    cosigned_by: tuple[str, ...]
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "size": self.size,
            "cosigned_by": list(self.cosigned_by),
            "problem": self.problem,
        }


def _owner(ring: KeyRing, kid: str) -> str | None:
    for party, keys in ring.keys.items():
        if party != "host" and kid in keys:
            return party
    return None


def check_against_checkpoint(
    records: Iterable[Mapping[str, Any] | None], note_text: str, ring: KeyRing, quorum: int = 0
) -> CheckpointReport:
    """Check the export ``records`` (in order) against the signed note ``note_text``."""
    try:
        note = parse_note(note_text)
        checkpoint = parse_checkpoint(note.body)
    except InputError as exc:
        return CheckpointReport(0, (), f"the checkpoint is malformed: {exc}")
    size = checkpoint.size
    hosts = ring.keys.get("host", {}).values()
    if not any(note_signed_by(note, checkpoint.origin, k) for k in hosts):
        return CheckpointReport(
            size, (), "the checkpoint is not signed by a host key of the key ring"
        )
    cosigners: list[str] = []
    for sig in note.signatures:
        key = witness_key(sig.name)
        if key is None:
            continue
        party = _owner(ring, key_id(key))
        if party is None:
            continue  # a key the ring does not hold vouches for nothing
        if cosignature_time(note.body, sig, sig.name, key) is None:
            return CheckpointReport(
                size, tuple(cosigners), f"{party}'s cosignature does not verify over it"
            )
        cosigners.append(party)
    if len(cosigners) < quorum:
        return CheckpointReport(
            size,
            tuple(cosigners),
            f"cosigned by {len(cosigners)} parties of the ring, the quorum is {quorum}",
        )
    leaves = []
    for position, record in enumerate(records):
        if position >= size:
            break
        if record is None:
            return CheckpointReport(size, tuple(cosigners), f"line {position + 1} is not JSON")
        leaves.append(leaf_hash(entry_bytes(record)))
    if len(leaves) < size:
        return CheckpointReport(
            size,
            tuple(cosigners),
            f"the export has {len(leaves)} entries, the checkpoint covers {size}: entries "
            "were dropped from its end",
        )
    if root_of(leaves)[1] != checkpoint.root:
        return CheckpointReport(
            size,
            tuple(cosigners),
            f"the export's first {size} entries do not make the checkpoint's root: an entry "
            "was altered, dropped, inserted or reordered",
        )
    return CheckpointReport(size, tuple(cosigners))
