"""The Merkle tree of a seal: every leaf's proof reaches the root, and nothing else does."""

from __future__ import annotations

import pytest

from hotline.engine import merkle


def tree(count: int) -> tuple[list[str], dict[tuple[int, int], str]]:
    leaves = [merkle.leaf(i + 1, 3, f"{i:064x}") for i in range(count)]
    inner = {(level, pos): hashed for level, pos, hashed in merkle.nodes(leaves)}
    return leaves, inner


def siblings(leaves, inner, pos, count):
    return [leaves[p] if lv == 0 else inner[(lv, p)] for lv, p in merkle.path(pos, count)]


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13, 33])
def test_every_leaf_proves_its_place_and_no_other_leaf_does(count):
    # Given the tree over some leaves, its inner nodes as stored
    leaves, inner = tree(count)
    top = merkle.root(leaves)

    for pos in range(count):
        proof = siblings(leaves, inner, pos, count)
        # Then the leaf's own proof reaches the root ...
        assert merkle.root_from_proof(leaves[pos], pos, count, proof) == top
        # ... and a changed leaf, or the same leaf claimed at another place, does not
        forged = merkle.leaf(pos + 1, 4, f"{pos:064x}")
        assert merkle.root_from_proof(forged, pos, count, proof) != top
        if count > 1:
            other = (pos + 1) % count
            assert merkle.root_from_proof(leaves[pos], other, count, proof) != top


def test_the_root_commits_to_the_number_and_order_of_leaves():
    leaves, _ = tree(6)
    assert merkle.root(leaves) != merkle.root(leaves[:-1])
    assert merkle.root(leaves) != merkle.root([*leaves[:2], leaves[3], leaves[2], *leaves[4:]])
    assert merkle.root([]) == merkle.EMPTY
    assert merkle.root(leaves[:1]) == leaves[0]


def test_an_inner_node_cannot_pass_for_a_leaf():
    # A leaf and a node hash with different prefixes, so a node is never a ticket's leaf,
    # and a shortened proof (from a node, as if the tree were smaller) is refused
    leaves, inner = tree(4)
    assert inner[(1, 0)] not in leaves
    assert merkle.root_from_proof(inner[(1, 0)], 0, 4, [inner[(1, 1)]]) == ""
    assert merkle.root_from_proof(leaves[0], 4, 4, siblings(leaves, inner, 0, 4)) == ""
