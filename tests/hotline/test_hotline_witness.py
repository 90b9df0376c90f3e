"""Tests that attack the host: a test host (it holds the host's key, so everything it serves is
validly signed) shows two parties different histories, drops an entry after a party saw it,
rewrites one, rolls the tree back, signs a root that does not match the entries. Each is caught
by the witness at the first checkpoint after it, named in its refusal, and never cosigned."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Mapping
from typing import Any

import pytest

from deconflict.hotline.checkpoint import (
    Checkpoint,
    cosignature_time,
    parse_note,
    sign_checkpoint,
    vkey,
    witness_key,
)
from deconflict.hotline.hostkey import HOST_KEY_ROTATED, rotation_payload
from deconflict.hotline.keys import Signer, generate_private_key
from deconflict.hotline.log import append_entry, entry_bytes
from deconflict.hotline.merkle import (
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    range_hash,
)
from deconflict.hotline.witness import Refusal, WitnessState, witness_once

ORIGIN = "test.example/log"
PARTIES = ("blue", "red")


def _nodes(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    nodes: dict[tuple[int, int], bytes] = {}
    level, row = 0, list(leaves)
    while row:
        nodes.update({(level, i): h for i, h in enumerate(row)})
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
        level += 1
    return nodes


class TestHost:
    """A host with one history per party (honest: the same one), the host's key, and the
    cosignatures posted to it, per tree size (it serves them all, as the protocol says)."""

    __test__ = False

    def __init__(self) -> None:
        self.signer = Signer("host", generate_private_key())
        # (kind, payload, recipients, sealing key) of each entry, per party's view
        self.contents: dict[str, list[tuple[str, dict[str, Any], tuple[str, ...], Signer]]] = {
            p: [] for p in PARTIES
        }
        self.size_for: dict[str, int | None] = dict.fromkeys(PARTIES)
        self.bad_root_for: set[str] = set()
        self.cosignatures: dict[int, list[str]] = {}
        self.posted: list[tuple[str, int]] = []

    def append(self, kind: str, payload: dict[str, Any], to: tuple[str, ...] = PARTIES) -> None:
        for view in self.contents.values():
            view.append((kind, copy.deepcopy(payload), to, self.signer))

    def entries(self, party: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        prev = None
        for i, (kind, payload, _to, sealer) in enumerate(self.contents[party]):
            prev = append_entry(prev, sealer, time_s=1000.0 + i, kind=kind, payload=payload)
            out.append(prev.to_dict())
        return out

    def leaves(self, party: str) -> list[bytes]:
        return [leaf_hash(entry_bytes(e)) for e in self.entries(party)]

    def source(self, party: str) -> PartyView:
        return PartyView(self, party)


class PartyView:
    """The host's API as ``party`` is served it."""

    def __init__(self, host: TestHost, party: str) -> None:
        self.host, self.party = host, party

    def _size(self) -> int:
        forced = self.host.size_for[self.party]
        return len(self.host.contents[self.party]) if forced is None else forced

    def checkpoint(self) -> Mapping[str, Any]:
        size = self._size()
        nodes = _nodes(self.host.leaves(self.party))
        root = range_hash(0, size, nodes)
        if self.party in self.host.bad_root_for:
            root = hashlib.sha256(b"not the entries").digest()
        note = sign_checkpoint(Checkpoint(ORIGIN, size, root), ORIGIN, self.host.signer.private_key)
        text = note.text() + "".join(self.host.cosignatures.get(size, []))
        return {"note": text, "host_key": vkey(ORIGIN, self.host.signer.public_key)}

    def consistency(self, first: int, second: int) -> list[bytes]:
        nodes = _nodes(self.host.leaves(self.party))
        return [range_hash(s, e, nodes) for s, e in consistency_ranges(first, second)]

    def inclusion(self, index: int, size: int) -> list[bytes]:
        nodes = _nodes(self.host.leaves(self.party))
        return [range_hash(s, e, nodes) for s, e in inclusion_ranges(index, size)]

    def entries(self, after: int) -> list[Mapping[str, Any]]:
        held = self.host.contents[self.party]
        return [
            e
            for e, (_k, _p, to, _s) in zip(self.host.entries(self.party), held, strict=True)
            if e["seq"] > after and self.party in to
        ]

    def host_keys(self) -> list[Mapping[str, Any]]:
        return [e for e in self.host.entries(self.party) if e["kind"] == HOST_KEY_ROTATED]

    def post_cosignature(self, size: int, line: str) -> Mapping[str, Any]:
        self.host.posted.append((self.party, size))
        self.host.cosignatures.setdefault(size, []).append(line)
        return {"cosigned_by": [p for p, s in self.host.posted if s == size], "counts": True}


def witnesses(host: TestHost) -> dict[str, tuple[Signer, WitnessState]]:
    return {p: (Signer(p, generate_private_key()), WitnessState()) for p in PARTIES}


def cycle(host: TestHost, party: str, ws: dict[str, tuple[Signer, WitnessState]]) -> Any:
    signer, state = ws[party]
    return witness_once(host.source(party), state, signer, now_s=2e9)


def refused(host: TestHost, party: str, ws: dict[str, Any], *words: str) -> None:
    before = copy.deepcopy(ws[party][1])
    posted = len(host.posted)
    with pytest.raises(Refusal) as caught:
        cycle(host, party, ws)
    for word in words:
        assert word in str(caught.value), str(caught.value)
    assert len(host.posted) == posted, "a refused checkpoint was cosigned"
    assert ws[party][1] == before, "a refusal changed the witness's state"


@pytest.fixture()
def host() -> TestHost:
    h = TestHost()
    for i in range(5):
        h.append("message", {"text": f"m{i}"})
    return h


def test_honest_host_is_cosigned_by_every_witness(host: TestHost) -> None:
    ws = witnesses(host)
    for party in PARTIES:
        done = cycle(host, party, ws)
        assert done.size == 5 and done.included == 5
    host.append("message", {"text": "later"}, to=("red",))
    assert cycle(host, "red", ws).included == 1
    assert cycle(host, "blue", ws).included == 0
    served = parse_note(str(host.source("blue").checkpoint()["note"]))
    cosigners = [s for s in served.signatures if witness_key(s.name) is not None]
    assert len(cosigners) == 2
    for sig in cosigners:
        key = witness_key(sig.name)
        assert (
            key is not None and cosignature_time(served.body, sig, sig.name, key) == 2_000_000_000
        )


def test_split_view_is_caught(host: TestHost) -> None:
    ws = witnesses(host)
    for party in PARTIES:
        cycle(host, party, ws)
    # from size 5 on, Red is shown another history than Blue
    host.contents["blue"].append(("message", {"text": "blue's view"}, PARTIES, host.signer))
    host.contents["red"].append(("message", {"text": "red's view"}, PARTIES, host.signer))
    cycle(host, "blue", ws)  # first to see size 6: its own view is consistent
    refused(host, "red", ws, "split view", "deconflict.witness/")


def test_an_entry_dropped_after_a_party_saw_it_is_caught(host: TestHost) -> None:
    ws = witnesses(host)
    cycle(host, "blue", ws)
    host.append("message", {"text": "seen"}, to=("blue",))
    host.size_for["blue"] = 5  # a checkpoint before it: Blue holds seq 5, not yet proved
    cycle(host, "blue", ws)
    assert ws["blue"][1].pending == {"5": ws["blue"][1].pending["5"]}
    del host.contents["blue"][5]  # dropped...
    host.append("message", {"text": "after"}, to=("red",))  # ...and the tree grows past it
    host.size_for["blue"] = None
    refused(host, "blue", ws, "entry seq 5", "missing or changed", "checkpoint 6")


def test_an_entry_dropped_from_a_cosigned_tree_is_a_fork(host: TestHost) -> None:
    ws = witnesses(host)
    cycle(host, "red", ws)
    del host.contents["red"][2]
    host.append("message", {"text": "x"})
    host.append("message", {"text": "y"})
    refused(host, "red", ws, "fork", "checkpoint 5 you cosigned")


def test_a_rewritten_entry_is_caught(host: TestHost) -> None:
    ws = witnesses(host)
    cycle(host, "blue", ws)
    kind, payload, to, sealer = host.contents["blue"][3]
    host.contents["blue"][3] = (kind, {**payload, "text": "we never said that"}, to, sealer)
    host.append("message", {"text": "z"})
    refused(host, "blue", ws, "fork")


def test_a_rewritten_entry_not_yet_cosigned_is_caught(host: TestHost) -> None:
    ws = witnesses(host)
    host.size_for["red"] = 2  # Red fetches all 5 entries, proves 2
    cycle(host, "red", ws)
    kind, payload, to, sealer = host.contents["red"][4]
    host.contents["red"][4] = (kind, {**payload, "text": "rewritten"}, to, sealer)
    host.size_for["red"] = None
    refused(host, "red", ws, "entry seq 4", "missing or changed")


def test_a_rollback_is_caught(host: TestHost) -> None:
    ws = witnesses(host)
    cycle(host, "blue", ws)
    host.size_for["blue"] = 3
    refused(host, "blue", ws, "rollback", "from 5 entries", "to 3")


def test_a_root_that_does_not_match_the_entries_is_caught(host: TestHost) -> None:
    ws = witnesses(host)
    cycle(host, "red", ws)
    host.append("message", {"text": "n"})
    host.bad_root_for.add("red")
    refused(host, "red", ws, "signed root does not match the entries")


def test_a_checkpoint_signed_by_another_key_is_refused(host: TestHost) -> None:
    ws = witnesses(host)
    cycle(host, "blue", ws)
    host.signer = Signer("host", generate_private_key())  # a key the log never handed over to
    host.append("message", {"text": "k"})
    refused(host, "blue", ws, "host signature fails")


def test_a_rotation_signed_by_both_keys_is_followed(host: TestHost) -> None:
    ws = witnesses(host)
    cycle(host, "blue", ws)
    old, new = host.signer, Signer("host", generate_private_key())
    host.append(HOST_KEY_ROTATED, rotation_payload(old, new), to=())
    host.signer = new  # the rotation entry is the old key's; what follows, the new key's
    host.append("message", {"text": "under the new key"})
    done = cycle(host, "blue", ws)
    assert done.size == 7
    assert ws["blue"][1].host_key == base64.b64encode(new.public_key.public_bytes_raw()).decode()


def test_a_rotation_the_old_key_did_not_sign_is_refused(host: TestHost) -> None:
    ws = witnesses(host)
    cycle(host, "blue", ws)
    old, new = host.signer, Signer("host", generate_private_key())
    forged = rotation_payload(old, new)
    forged["old_signature"] = new.sign(b"anything")
    host.append(HOST_KEY_ROTATED, forged, to=())
    host.signer = new
    refused(host, "blue", ws, "host signature fails")
