"""The RFC 9162 Merkle tree over the log's entries: hashes, node addresses, proofs (no units).

Definitions (RFC 9162 §2.1.1): a leaf's hash is SHA-256(0x00 ‖ leaf bytes), an interior node's
SHA-256(0x01 ‖ left ‖ right); the tree of n > 1 leaves splits at k, the largest power of two
below n. A leaf of the log is the canonical JSON of one whole entry (``LogEntry.to_dict()``: body,
hash and signature), exactly the bytes of its line in an export, so leaf index = the entry's seq.

Storage: only *perfect* subtrees are kept, addressed by ``(level, index)``: the node covering
leaves ``[index·2^level, (index+1)·2^level)``. Every subtree the RFC's recursions name is either
one of them (left children are perfect and aligned) or a right-edge range, which is a few
perfect ones folded right to left (``range_nodes``). So a root, an inclusion proof or a
consistency proof reads O(log² n) stored nodes at most and never the log itself; an append
writes the leaf and one node per trailing one bit of its index (two rows on average).

Proof generation (``inclusion_ranges``, ``consistency_ranges``) follows PATH and SUBPROOF of
§2.1.3.1 and §2.1.4.1 literally; verification (``verify_inclusion``, ``verify_consistency``) the
algorithms of §2.1.3.2 and §2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final

Node = tuple[int, int]  # (level, index) of a perfect subtree
Range = tuple[int, int]  # leaves [start, end)
HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()  # MTH({}) (RFC 9162 §2.1.1)


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ data): the hash of one leaf."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right): the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees that make up leaves ``[start, end)``, left to right (the binary
    decomposition of its width); ``start`` must be aligned to the widest one, as every range the
    RFC's recursions name is."""
    if not 0 <= start < end:
        raise ValueError(f"empty or negative leaf range [{start}, {end})")
    nodes: list[Node] = []
    pos, width = start, end - start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            if pos % (1 << level):
                raise ValueError(f"leaf range [{start}, {end}) is not aligned at {pos}")
            nodes.append((level, pos >> level))
            pos += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from its perfect subtrees' hashes (left to right): right to left,
    each one the left child of the fold of those after it (MTH's recursion)."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def frontier(size: int) -> list[Node]:
    """The perfect subtrees of a tree of ``size`` leaves (its compact range), left to right."""
    return range_nodes(0, size) if size else []


def append_nodes(
    index: int, leaf: bytes, fetch: Callable[[Node], bytes]
) -> list[tuple[Node, bytes]]:
    """The nodes that become complete when leaf ``index`` (hash ``leaf``) is appended: the leaf
    itself and one parent per trailing one bit of ``index``; ``fetch`` gives the left siblings
    (nodes of the frontier of ``index`` leaves)."""
    out: list[tuple[Node, bytes]] = [((0, index), leaf)]
    level, pos, current = 0, index, leaf
    while pos & 1:
        current = node_hash(fetch((level, pos - 1)), current)
        level, pos = level + 1, pos >> 1
        out.append(((level, pos), current))
    return out


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The leaf ranges whose hashes make up PATH(index, D[size]), leaf's sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    out: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The leaf ranges whose hashes make up PROOF(first, D[second]) (SUBPROOF with b = true);
    empty when first == second (nothing to prove) and for first == 0 (any tree extends the
    empty one)."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    if first in (0, second):
        return []
    out: list[Range] = []
    start, m, n, complete = 0, first, second, True
    while m != n:
        k = split_point(n)
        if m <= k:
            out.append((start + k, start + n))
            n = k
        else:
            out.append((start, start + k))
            start, m, n, complete = start + k, m - k, n - k, False
    if not complete:
        out.append((start, start + n))
    out.reverse()
    return out


def nodes_for(ranges: Iterable[Range]) -> set[Node]:
    """Every stored node the hashes of ``ranges`` need."""
    return {node for start, end in ranges for node in range_nodes(start, end)}


def range_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]) from the stored perfect subtrees in ``nodes``."""
    return fold([nodes[n] for n in range_nodes(start, end)])


def root_hash(size: int, nodes: Mapping[Node, bytes]) -> bytes:
    """The root of a tree of ``size`` leaves from its frontier's nodes."""
    return range_hash(0, size, nodes) if size else EMPTY_ROOT


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: whether ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree of
    ``size`` leaves whose root is ``root``."""
    return inclusion_root(index, size, leaf, proof) == root


def inclusion_root(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root ``proof`` leads to from leaf ``index`` (RFC 9162 §2.1.3.2), or None when the
    proof does not fit a tree of ``size`` leaves."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: whether ``proof`` shows that the tree of ``first`` leaves (root
    ``first_root``) is a prefix of the tree of ``second`` leaves (root ``second_root``)."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof  # every tree extends the empty one
    return consistency_roots(first, second, first_root, proof) == (first_root, second_root)


def consistency_roots(
    first: int, second: int, first_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes] | None:
    """The two roots ``proof`` leads to (RFC 9162 §2.1.4.2, 0 < first < second), or None when
    it does not fit: the first names a changed history, the second a root that does not match
    the tree."""
    if not 0 < first < second or not proof:
        return None
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: its root is the first hash
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return (fr, sr) if sn == 0 else None


def root_of(leaves: Iterable[bytes]) -> tuple[int, bytes]:
    """(size, root) of the tree of ``leaves`` (leaf hashes), streamed: only the frontier is
    kept, O(log n) memory."""
    nodes: dict[Node, bytes] = {}
    size = 0
    for leaf in leaves:
        for node, h in append_nodes(size, leaf, nodes.__getitem__):
            nodes[node] = h
        size += 1
        nodes = {n: nodes[n] for n in frontier(size)}
    return size, root_hash(size, nodes)
