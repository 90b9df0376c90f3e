"""An export checked against a cosigned checkpoint: a host that rewrites an entry and re-seals
and re-chains the whole log with its own key passes the chain check, and is caught here."""

from __future__ import annotations

from typing import Any

from deconflict.hotline.checkpoint import Checkpoint, Note, cosign, sign_checkpoint, witness_name
from deconflict.hotline.keys import KeyRing, Signer, generate_private_key, public_key_to_b64
from deconflict.hotline.log import append_entry, entry_bytes, verify_log
from deconflict.hotline.log_checkpoint import check_against_checkpoint
from deconflict.hotline.merkle import leaf_hash, root_of

HOST = Signer("host", generate_private_key())
BLUE = Signer("blue", generate_private_key())
STRANGER = Signer("x", generate_private_key())
RING = KeyRing.from_public_keys({"host": HOST.public_key, "blue": BLUE.public_key})


def log(texts: list[str]) -> list[dict[str, Any]]:
    out, prev = [], None
    for i, text in enumerate(texts):
        prev = append_entry(prev, HOST, time_s=10.0 + i, kind="note", payload={"text": text})
        out.append(prev.to_dict())
    return out


def cosigned(records: list[dict[str, Any]], *witnesses: Signer) -> str:
    size, root = root_of(leaf_hash(entry_bytes(r)) for r in records)
    note = sign_checkpoint(
        Checkpoint("o.example/log", size, root), "o.example/log", HOST.private_key
    )
    lines = [
        cosign(note.body, witness_name(public_key_to_b64(w.public_key)), w.private_key, 5)
        for w in witnesses
    ]
    return Note(note.body, (*note.signatures, *lines)).text()


def test_a_matching_export_passes_and_names_its_cosigners() -> None:
    records = log(["a", "b", "c", "d"])
    note = cosigned(records[:3], BLUE, STRANGER)
    found = check_against_checkpoint(records, note, RING, quorum=1)
    assert found.ok and found.size == 3 and found.cosigned_by == ("blue",)  # x is not in the ring
    assert not check_against_checkpoint(records, note, RING, quorum=2).ok


def test_a_rewritten_resealed_log_passes_the_chain_but_not_the_checkpoint() -> None:
    records = log(["a", "b", "c", "d"])
    note = cosigned(records, BLUE)
    rewritten = log(["a", "we never said b", "c", "d"])
    assert verify_log(rewritten, RING).ok  # the host re-sealed and re-chained it all
    found = check_against_checkpoint(rewritten, note, RING)
    assert not found.ok and "do not make the checkpoint's root" in found.problem


def test_forged_signatures_are_named() -> None:
    records = log(["a", "b"])
    note = cosigned(records, BLUE)
    forged_cosig = note.replace(note.split("\n")[-2].split(" ")[-1], "A" * 96)
    assert (
        "blue's cosignature does not verify"
        in check_against_checkpoint(records, forged_cosig, RING).problem
    )
    other_host = KeyRing.from_public_keys({"host": STRANGER.public_key, "blue": BLUE.public_key})
    assert "not signed by a host key" in check_against_checkpoint(records, note, other_host).problem
    assert "malformed" in check_against_checkpoint(records, "nonsense", RING).problem
