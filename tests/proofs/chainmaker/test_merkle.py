"""ChainMaker's Merkle tree on multi-leaf trees (every real block holds one transaction).

The root is checked against an independent transcription of ChainMaker's
array construction (pad to a power of two, ``H(l||l)`` where the right child
is missing, nothing where the left one is); paths for every index verify and
the forgeries the missing domain separation allows are refused.
"""

from __future__ import annotations

import pytest

from proofs.chainmaker import errors as E
from proofs.chainmaker.encoding import (
    compute_merkle_depth,
    compute_merkle_path,
    compute_merkle_root,
    verify_merkle_path,
)
from proofs.hashing import SHA256, SM3, HashFunction


def leaves(n: int) -> list[bytes]:
    return [SHA256(bytes([i])) for i in range(n)]


def chainmaker_array_root(hashes: list[bytes], hash_fn: HashFunction) -> bytes:
    """ChainMaker's BuildMerkleTree as an array of 2*nextPoT-1 nodes, root last."""
    pot = 1
    while pot < len(hashes):
        pot *= 2
    nodes: list[bytes | None] = [*hashes, *([None] * (pot - len(hashes)))]
    nodes += [None] * (pot - 1)
    offset = pot
    for i in range(0, 2 * pot - 2, 2):
        left, right = nodes[i], nodes[i + 1]
        if left is None:
            nodes[offset] = None
        elif right is None:
            nodes[offset] = hash_fn(left + left)
        else:
            nodes[offset] = hash_fn(left + right)
        offset += 1
    root = nodes[-1]
    assert root is not None
    return root


@pytest.mark.parametrize("hash_fn", [SHA256, SM3], ids=lambda h: h.name)
@pytest.mark.parametrize("n", range(1, 18))
def test_root_matches_chainmaker_array_and_every_path_verifies(
    n: int, hash_fn: HashFunction
) -> None:
    items = leaves(n)
    root = compute_merkle_root(items, hash_fn)
    assert root == chainmaker_array_root(items, hash_fn)
    for index in range(n):
        path = compute_merkle_path(items, index, hash_fn)
        assert len(path) == compute_merkle_depth(n)
        verify_merkle_path(items[index], index, path, root, n, hash_fn)


def test_depths() -> None:
    assert [compute_merkle_depth(n) for n in (1, 2, 3, 4, 5, 8, 9)] == [0, 1, 2, 2, 3, 3, 4]


def test_a_step_changed_folds_elsewhere() -> None:
    items = leaves(6)
    root = compute_merkle_root(items, SHA256)
    path = compute_merkle_path(items, 2, SHA256)
    path[1] = SHA256(b"other")
    with pytest.raises(E.ProofRootMismatch):
        verify_merkle_path(items[2], 2, path, root, 6, SHA256)


def test_a_wrong_index_folds_elsewhere() -> None:
    items = leaves(6)
    root = compute_merkle_root(items, SHA256)
    path = compute_merkle_path(items, 2, SHA256)
    with pytest.raises(E.ProofRootMismatch):
        verify_merkle_path(items[2], 3, path, root, 6, SHA256)


def test_the_padded_duplicate_past_tx_count_is_refused() -> None:
    """With 3 leaves the tree hashes H(c||c): c 'at index 3' folds to the root; refused."""
    items = leaves(3)
    root = compute_merkle_root(items, SHA256)
    forged = [items[2], SHA256(items[0] + items[1])]
    with pytest.raises(E.BadMerklePath) as caught:
        verify_merkle_path(items[2], 3, forged, root, 3, SHA256)
    assert caught.value.details["check"] == "index"
    # under a tx_count of 4 it would fold: the bound is what refuses it
    verify_merkle_path(items[2], 3, forged, root, 4, SHA256)


def test_an_inner_node_as_leaf_is_refused_by_the_path_length() -> None:
    items = leaves(4)
    root = compute_merkle_root(items, SHA256)
    inner = SHA256(items[0] + items[1])
    with pytest.raises(E.BadMerklePath) as caught:
        verify_merkle_path(inner, 0, [SHA256(items[2] + items[3])], root, 4, SHA256)
    assert caught.value.details["check"] == "path-length"


def test_a_lone_node_step_must_repeat_the_node() -> None:
    items = leaves(5)
    root = compute_merkle_root(items, SHA256)
    path = compute_merkle_path(items, 4, SHA256)
    assert path[0] == items[4]  # no right sibling: the node itself
    path[0] = items[3]
    with pytest.raises(E.BadMerklePath) as caught:
        verify_merkle_path(items[4], 4, path, root, 5, SHA256)
    assert caught.value.details["check"] == "step"


def test_a_short_step_is_refused() -> None:
    items = leaves(2)
    root = compute_merkle_root(items, SHA256)
    with pytest.raises(E.BadMerklePath) as caught:
        verify_merkle_path(items[0], 0, [items[1][:31]], root, 2, SHA256)
    assert caught.value.details["check"] == "step"
