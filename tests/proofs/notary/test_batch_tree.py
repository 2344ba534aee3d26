"""The batch tree and statement (core.batches, proofs.notary.batch): roots, proofs, refusals."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.batches import (
    MAX_BATCH_SIZE,
    BatchKind,
    BatchStatement,
    BatchTooLarge,
    MixedBatch,
    check_one_route,
)
from core.errors import BadEncoding, BadProof, InvalidInput, RootMismatch
from proofs.hashing import KECCAK256, SHA256, keccak256
from proofs.merkle import node_hash
from proofs.notary.batch import compute_batch_proofs, compute_batch_root, verify_batch_member

LEAVES = [bytes([i]) * 32 for i in range(1, 6)]


def statement(leaves: list[bytes], **changes: object) -> BatchStatement:
    base = BatchStatement(
        "devnet-1",
        "anvil-31337",
        1,
        BatchKind.DELIVERY,
        len(leaves),
        compute_batch_root(leaves, hash_fn=KECCAK256),
    )
    return dataclasses.replace(base, **changes)


def test_a_batch_of_one_is_the_leaf_hash_with_an_empty_proof() -> None:
    leaf = b"\x07" * 32
    assert compute_batch_root([leaf], hash_fn=KECCAK256) == keccak256(b"\x00" + leaf)
    assert compute_batch_proofs([leaf], hash_fn=KECCAK256) == [()]
    verify_batch_member(leaf, 0, (), statement([leaf]), hash_fn=KECCAK256)


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40))
def test_every_member_verifies_at_its_own_index_and_no_other(leaves: list[bytes]) -> None:
    s = statement(leaves)
    proofs = compute_batch_proofs(leaves, hash_fn=KECCAK256)
    for i, (leaf, proof) in enumerate(zip(leaves, proofs, strict=True)):
        verify_batch_member(leaf, i, proof, s, hash_fn=KECCAK256)
        if len(leaves) > 1 and leaves[(i + 1) % len(leaves)] != leaf:
            with pytest.raises((BadProof, RootMismatch)):
                verify_batch_member(leaf, (i + 1) % len(leaves), proof, s, hash_fn=KECCAK256)


def test_the_tree_hash_is_the_acting_chains() -> None:
    assert compute_batch_root(LEAVES, hash_fn=SHA256) != compute_batch_root(
        LEAVES, hash_fn=KECCAK256
    )


# One broken field per row; the exact refusal.
MEMBER_ROWS = [
    ("packet not in the root", lambda p: (b"\xee" * 32, 2, p[2]), RootMismatch),
    ("proof for another index", lambda p: (LEAVES[2], 3, p[2]), RootMismatch),
    ("index outside the size", lambda p: (LEAVES[2], 5, p[2]), BadProof),
    ("proof one hash short", lambda p: (LEAVES[2], 2, p[2][:-1]), BadProof),
    ("leaf of 31 bytes", lambda p: (LEAVES[2][:31], 2, p[2]), BadEncoding),
]


@pytest.mark.parametrize(
    ("name", "malleate", "refusal"), MEMBER_ROWS, ids=[r[0] for r in MEMBER_ROWS]
)
def test_member_malleations_are_refused(name: str, malleate, refusal: type[Exception]) -> None:
    proofs = compute_batch_proofs(LEAVES, hash_fn=KECCAK256)
    leaf, index, proof = malleate(proofs)
    with pytest.raises(refusal):
        verify_batch_member(leaf, index, proof, statement(LEAVES), hash_fn=KECCAK256)


def test_an_inner_node_cannot_pass_as_a_leaf() -> None:
    # Leaves 0 and 1 hash to the left child of the left subtree; presenting that node's
    # preimage halves, or the node itself, as a member of a smaller claimed tree fails.
    leaves = LEAVES[:4]
    h = [keccak256(b"\x00" + leaf) for leaf in leaves]
    inner = node_hash(h[0], h[1], hash_fn=KECCAK256)
    proof = (node_hash(h[2], h[3], hash_fn=KECCAK256),)
    s = statement(leaves)
    with pytest.raises(BadProof):  # a 1-hash proof is too short for index 0 of 4
        verify_batch_member(inner, 0, proof, s, hash_fn=KECCAK256)
    forged = dataclasses.replace(s, size=2)
    with pytest.raises(RootMismatch):  # the node is re-hashed as a leaf: another root
        verify_batch_member(inner, 0, proof, forged, hash_fn=KECCAK256)


STATEMENT_ROWS = [
    ("same chain both ends", {"dest_chain": "devnet-1"}, InvalidInput),
    ("empty source", {"source_chain": ""}, InvalidInput),
    ("epoch zero", {"epoch": 0}, InvalidInput),
    ("epoch a bool", {"epoch": True}, InvalidInput),
    ("kind a plain int", {"kind": 0}, InvalidInput),
    ("size zero", {"size": 0}, BatchTooLarge),
    ("size over the limit", {"size": MAX_BATCH_SIZE + 1}, BatchTooLarge),
    ("root of 31 bytes", {"root": b"\x01" * 31}, BadEncoding),
]


@pytest.mark.parametrize(
    ("name", "changes", "refusal"), STATEMENT_ROWS, ids=[r[0] for r in STATEMENT_ROWS]
)
def test_statement_malleations_are_refused(
    name: str, changes: dict, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        statement(LEAVES, **changes)


def test_batch_size_bounds_are_enforced_on_the_tree() -> None:
    with pytest.raises(BatchTooLarge):
        compute_batch_root([], hash_fn=KECCAK256)
    with pytest.raises(BatchTooLarge):
        compute_batch_root([b"\x01" * 32] * (MAX_BATCH_SIZE + 1), hash_fn=KECCAK256)
    with pytest.raises(BadEncoding):
        compute_batch_root([b"\x01" * 32, b"\x02" * 33], hash_fn=KECCAK256)


def test_a_batch_mixing_routes_names_the_first_other_packet() -> None:
    assert check_one_route([("a", "b"), ("a", "b")]) == ("a", "b")
    with pytest.raises(MixedBatch) as refused:
        check_one_route([("a", "b"), ("a", "b"), ("a", "c")])
    assert refused.value.details["position"] == 2
