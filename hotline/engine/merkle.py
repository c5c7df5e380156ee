"""The Merkle tree a seal commits to: one leaf per ticket (its id and chain head), in id order.

The seal file keeps only the root and the leaf count, so it stays the same size however many
tickets there are; one ticket is proved against it by the ~log2(n) sibling hashes on its path
(an inclusion proof), and the whole history by recomputing the root.

Shape: level 0 holds the leaves; each level above pairs neighbours, and a last node without a
partner is carried up unchanged. Leaves and inner nodes hash with different prefixes, so a
node can never pass for a leaf (the second-preimage trick RFC 6962 guards against).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence

LEAF, NODE = b"\x00", b"\x01"
EMPTY = hashlib.sha256(b"").hexdigest()  # the root of a seal over no tickets


def leaf(ticket_id: int, seq: int, head: str) -> str:
    """A ticket's leaf: its id and the last event (seq and hash) of its chain."""
    return hashlib.sha256(LEAF + f"{ticket_id}:{seq}:{head}".encode()).hexdigest()


def parent(left: str, right: str) -> str:
    return hashlib.sha256(NODE + bytes.fromhex(left) + bytes.fromhex(right)).hexdigest()


def level_sizes(count: int) -> list[int]:
    """How many nodes each level holds, from the leaves up to the root."""
    sizes = [count]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


def path(pos: int, count: int) -> list[tuple[int, int]]:
    """The (level, position) of each sibling on leaf ``pos``'s way to the root, bottom first;
    a level where the node has no partner (it is carried up) has no entry."""
    siblings = []
    for level, size in enumerate(level_sizes(count)[:-1]):
        if pos ^ 1 < size:
            siblings.append((level, pos ^ 1))
        pos //= 2
    return siblings


def root_from_proof(leaf_hash: str, pos: int, count: int, siblings: Sequence[str]) -> str:
    """The root reached from a leaf at ``pos`` with the hashes of ``path(pos, count)``;
    "" if there are not exactly that many (a proof for another place or size)."""
    if not 0 <= pos < count or len(siblings) != len(path(pos, count)):
        return ""
    node, given = leaf_hash, iter(siblings)
    for size in level_sizes(count)[:-1]:
        if pos ^ 1 < size:
            other = next(given)
            node = parent(node, other) if pos % 2 == 0 else parent(other, node)
        pos //= 2
    return node


def nodes(leaves: Iterable[str]) -> Iterator[tuple[int, int, str]]:
    """Every inner node (level >= 1, position, hash) of the tree over ``leaves``, streaming:
    memory holds one hash per level, not the tree. The root is the last node yielded."""
    peaks: list[tuple[int, int, str]] = []  # (height, first leaf, hash) of complete subtrees
    count = 0
    for hashed in leaves:
        peaks.append((0, count, hashed))
        count += 1
        while len(peaks) > 1 and peaks[-1][0] == peaks[-2][0]:
            (height, start, left), (_, _, right) = peaks[-2], peaks[-1]
            peaks[-2:] = [(height + 1, start, parent(left, right))]
            yield height + 1, start >> (height + 1), peaks[-1][2]
    yield from _right_edge(peaks, count)


def _right_edge(peaks: list[tuple[int, int, str]], count: int) -> Iterator[tuple[int, int, str]]:
    """The nodes over the incomplete right end of each level: the complete subtrees left
    there (peaks) folded from the right, as carrying a lone node up makes them."""
    for level in range(1, len(level_sizes(count))):
        pos = (count - 1) >> level
        start = pos << level
        if start + (1 << level) <= count:
            continue  # a complete subtree: already yielded while merging
        covered = [hashed for _, first, hashed in peaks if first >= start]
        folded = covered[-1]
        for hashed in reversed(covered[:-1]):
            folded = parent(hashed, folded)
        yield level, pos, folded


def root(leaves: Iterable[str]) -> str:
    """The root over ``leaves`` (EMPTY for none, the leaf itself for one)."""
    first: list[str] = []

    def remembering() -> Iterator[str]:
        for hashed in leaves:
            first[:] = first or [hashed]
            yield hashed

    top = None
    for _, _, hashed in nodes(remembering()):
        top = hashed
    return top or (first[0] if first else EMPTY)
