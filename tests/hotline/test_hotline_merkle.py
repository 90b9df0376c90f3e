"""The log's Merkle tree against RFC 9162: the Certificate Transparency test vectors, the RFC's
own recursive definitions written out on lists, pymerkle (an independent implementation), and
hypothesis over random trees and cut points."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.hotline.merkle import (
    EMPTY_ROOT,
    consistency_ranges,
    fold,
    frontier,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    range_hash,
    range_nodes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962/9162 test vectors of Certificate Transparency (transparency-dev/merkle
# testonly), used as data: leaves, the root at each size 1..8, some proofs.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_CONSISTENCY = {
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


# -- RFC 9162 §2.1 written out literally, on lists of leaf hashes --------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


class Nodes(dict[tuple[int, int], bytes]):
    """Every perfect subtree of a list of leaf hashes, as the store keeps them."""

    def __init__(self, leaves: list[bytes]) -> None:
        super().__init__()
        level, row = 0, list(leaves)
        while row:
            self.update({(level, i): h for i, h in enumerate(row)})
            row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
            level += 1


def proof_of(ranges: list[tuple[int, int]], nodes: Nodes) -> list[bytes]:
    return [range_hash(s, e, nodes) for s, e in ranges]


# -- the published vectors -----------------------------------------------------------------


def test_hand_built_trees_of_one_two_and_three_leaves() -> None:
    a, b, c = (leaf_hash(x) for x in (b"a", b"b", b"c"))
    assert a == hashlib.sha256(b"\x00a").digest()
    nodes = Nodes([a, b, c])
    assert root_hash(0, nodes) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert root_hash(1, nodes) == a
    assert root_hash(2, nodes) == hashlib.sha256(b"\x01" + a + b).digest()
    ab = hashlib.sha256(b"\x01" + a + b).digest()
    assert root_hash(3, nodes) == hashlib.sha256(b"\x01" + ab + c).digest()  # split at k = 2
    assert proof_of(inclusion_ranges(2, 3), nodes) == [ab]
    assert proof_of(inclusion_ranges(0, 3), nodes) == [b, c]
    assert proof_of(consistency_ranges(2, 3), nodes) == [c]
    assert proof_of(consistency_ranges(1, 3), nodes) == [b, c]


def test_certificate_transparency_vectors() -> None:
    leaves = [leaf_hash(x) for x in CT_LEAVES]
    nodes = Nodes(leaves)
    for n in range(1, 9):
        assert root_hash(n, nodes).hex() == CT_ROOTS[n - 1]
    for (i, n), want in CT_INCLUSION.items():
        got = proof_of(inclusion_ranges(i, n), nodes)
        assert [h.hex() for h in got] == want
        assert verify_inclusion(i, n, leaves[i], got, bytes.fromhex(CT_ROOTS[n - 1]))
    for (m, n), want in CT_CONSISTENCY.items():
        got = proof_of(consistency_ranges(m, n), nodes)
        assert [h.hex() for h in got] == want
        roots = bytes.fromhex(CT_ROOTS[m - 1]), bytes.fromhex(CT_ROOTS[n - 1])
        assert verify_consistency(m, n, *roots, got)


def test_frontier_and_range_decomposition() -> None:
    assert frontier(0) == []
    assert frontier(5) == [(2, 0), (0, 4)]
    assert frontier(8) == [(3, 0)]
    assert range_nodes(4, 7) == [(1, 2), (0, 6)]
    with pytest.raises(ValueError, match="not aligned"):
        range_nodes(1, 5)
    with pytest.raises(ValueError, match="empty"):
        range_nodes(3, 3)
    assert fold([b"x" * 32]) == b"x" * 32


# -- hypothesis: random trees and cut points -------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 300), st.data())
def test_proofs_equal_the_rfc_definitions_and_verify(n: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    nodes = Nodes(leaves)
    root = mth(leaves)
    assert root_hash(n, nodes) == root
    i = data.draw(st.integers(0, n - 1), label="index")
    proof = proof_of(inclusion_ranges(i, n), nodes)
    assert proof == path(i, leaves)
    assert verify_inclusion(i, n, leaves[i], proof, root)
    m = data.draw(st.integers(1, n), label="first")
    cons = proof_of(consistency_ranges(m, n), nodes)
    assert cons == (subproof(m, leaves, True) if m < n else [])
    assert verify_consistency(m, n, mth(leaves[:m]), root, cons)


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 200), st.data())
def test_a_changed_leaf_proof_or_root_never_verifies(n: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    nodes = Nodes(leaves)
    root = mth(leaves)
    i = data.draw(st.integers(0, n - 1))
    proof = proof_of(inclusion_ranges(i, n), nodes)
    other = leaf_hash(b"rewritten")
    assert not verify_inclusion(i, n, other, proof, root)  # a rewritten entry
    assert not verify_inclusion((i + 1) % n, n, leaves[i], proof, root) or n == 1
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:k], hashlib.sha256(proof[k]).digest(), *proof[k + 1 :]]
        assert not verify_inclusion(i, n, leaves[i], bad, root)
    m = data.draw(st.integers(1, n - 1))
    cons = proof_of(consistency_ranges(m, n), nodes)
    forked = [*leaves[: m - 1], other]  # the first m leaves, the last one changed
    assert not verify_consistency(m, n, mth(forked), root, cons)
    rewritten = [*leaves[:m], *[leaf_hash(b"x" + x) for x in leaves[m:]]]
    assert not verify_consistency(m, n, mth(leaves[:m]), mth(rewritten), cons) or m == n
    assert not verify_consistency(n, m, root, mth(leaves[:m]), cons)  # shrinking


# -- an independent implementation ---------------------------------------------------------


def test_roots_equal_pymerkle() -> None:
    pymerkle = pytest.importorskip("pymerkle", reason="pymerkle (the test extra) not installed")
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    data = [f"entry {i}".encode() for i in range(130)]
    for x in data:
        tree.append_entry(x)
    leaves = [leaf_hash(x) for x in data]
    nodes = Nodes(leaves)
    for n in (1, 2, 3, 5, 8, 17, 64, 65, 129, 130):
        assert tree.get_root(n) == root_hash(n, nodes)
        assert tree.get_leaf(n) == leaves[n - 1]
