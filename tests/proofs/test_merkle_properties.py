"""proofs.merkle: properties that must hold for every tree (hypothesis).

Proofs built by the module verify; changing any one of leaf, index, size,
root or a proof hash makes them fail with a typed error; an inner node never
passes as leaf data. Trees use distinct leaves wherever a property needs it:
with two equal leaves, the proof of one honestly verifies for the other.

The one exception to "any other size fails" is inherent to RFC 6962: a root
does not commit to its size, so a proof also verifies at another size whose
path has the same shape (see ``test_tree_size_is_not_bound_by_the_root``).
The size property below checks exactly that characterisation, with the shape
derived independently from the RFC's recursive ``PATH`` definition.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.errors import BadProof, RootMismatch
from proofs.hashing import KECCAK256, SHA256, SM3, HashFunction
from proofs.merkle import (
    consistency_proof,
    inclusion_proof,
    is_valid_consistency,
    is_valid_inclusion,
    leaf_hash,
    merkle_root,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

PROFILE = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

leaf_data = st.binary(max_size=12)
distinct_leaves = st.lists(leaf_data, min_size=1, max_size=40, unique=True)
hash_functions = st.sampled_from([SHA256, KECCAK256, SM3])
digests = st.binary(min_size=32, max_size=32)
positions = st.integers(-3, 48) | st.integers(-3, 2**64)  # mostly near the tree, some far off


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int]:
    leaves = draw(distinct_leaves)
    return leaves, draw(st.integers(0, len(leaves) - 1))


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[list[bytes], int]:
    leaves = draw(distinct_leaves)
    return leaves, draw(st.integers(1, len(leaves)))


def reference_root(leaves: Sequence[bytes], hash_fn: HashFunction) -> bytes:
    """MTH exactly as RFC 6962 §2.1 writes it (recursive split), for comparison."""
    if not leaves:
        return hash_fn(b"")
    if len(leaves) == 1:
        return leaf_hash(leaves[0], hash_fn=hash_fn)
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(
        reference_root(leaves[:k], hash_fn), reference_root(leaves[k:], hash_fn), hash_fn=hash_fn
    )


def path_shape(index: int, size: int) -> list[bool]:
    """Bottom-up: is the sibling on the right? From RFC 6962 ``PATH(m, D[n])``."""
    shape = []
    while size > 1:
        k = 1 << ((size - 1).bit_length() - 1)
        if index < k:
            shape.append(True)
            size = k
        else:
            shape.append(False)
            index, size = index - k, size - k
    return shape[::-1]


@PROFILE
@given(leaves=st.lists(leaf_data, max_size=40), hash_fn=hash_functions)
def test_root_equals_the_recursive_rfc_definition(
    leaves: list[bytes], hash_fn: HashFunction
) -> None:
    assert merkle_root(leaves, hash_fn=hash_fn) == reference_root(leaves, hash_fn)


@PROFILE
@given(case=tree_and_index(), hash_fn=hash_functions)
def test_every_inclusion_proof_verifies(
    case: tuple[list[bytes], int], hash_fn: HashFunction
) -> None:
    leaves, index = case
    root = merkle_root(leaves, hash_fn=hash_fn)
    proof = inclusion_proof(leaves, index, hash_fn=hash_fn)
    verify_inclusion(leaves[index], index, len(leaves), proof, root, hash_fn=hash_fn)
    assert is_valid_inclusion(
        leaf_hash(leaves[index], hash_fn=hash_fn),
        index,
        len(leaves),
        proof,
        root,
        hash_fn=hash_fn,
        prehashed=True,
    )


@PROFILE
@given(case=tree_and_index(), other=leaf_data)
def test_inclusion_proof_fails_for_any_other_leaf(
    case: tuple[list[bytes], int], other: bytes
) -> None:
    leaves, index = case
    assume(other != leaves[index])
    proof = inclusion_proof(leaves, index)
    with pytest.raises(RootMismatch):
        verify_inclusion(other, index, len(leaves), proof, merkle_root(leaves))
    assert not is_valid_inclusion(other, index, len(leaves), proof, merkle_root(leaves))


@PROFILE
@given(case=tree_and_index(), other=positions)
def test_inclusion_proof_fails_for_any_other_index(
    case: tuple[list[bytes], int], other: int
) -> None:
    leaves, index = case
    assume(other != index)
    proof, root = inclusion_proof(leaves, index), merkle_root(leaves)
    with pytest.raises((BadProof, RootMismatch)):
        verify_inclusion(leaves[index], other, len(leaves), proof, root)
    assert not is_valid_inclusion(leaves[index], other, len(leaves), proof, root)


@PROFILE
@given(case=tree_and_index(), other=positions)
def test_inclusion_proof_at_another_size_verifies_only_for_the_same_path_shape(
    case: tuple[list[bytes], int], other: int
) -> None:
    leaves, index = case
    size = len(leaves)
    assume(other != size)
    proof, root = inclusion_proof(leaves, index), merkle_root(leaves)
    same_shape = index < other <= 2**63 and path_shape(index, other) == path_shape(index, size)
    assert is_valid_inclusion(leaves[index], index, other, proof, root) == same_shape
    if not same_shape:
        with pytest.raises((BadProof, RootMismatch)):
            verify_inclusion(leaves[index], index, other, proof, root)


@PROFILE
@given(case=tree_and_index(), other=digests)
def test_inclusion_proof_fails_for_any_other_root(
    case: tuple[list[bytes], int], other: bytes
) -> None:
    leaves, index = case
    assume(other != merkle_root(leaves))
    proof = inclusion_proof(leaves, index)
    with pytest.raises(RootMismatch):
        verify_inclusion(leaves[index], index, len(leaves), proof, other)
    assert not is_valid_inclusion(leaves[index], index, len(leaves), proof, other)


@PROFILE
@given(case=tree_and_index(), data=st.data())
def test_inclusion_proof_fails_with_any_proof_hash_altered(
    case: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, index = case
    proof = inclusion_proof(leaves, index)
    assume(proof)
    i = data.draw(st.integers(0, len(proof) - 1))
    replacement = data.draw(digests.filter(lambda d: d != proof[i]))
    bent = [*proof[:i], replacement, *proof[i + 1 :]]
    with pytest.raises(RootMismatch):
        verify_inclusion(leaves[index], index, len(leaves), bent, merkle_root(leaves))


@PROFILE
@given(case=tree_and_sizes(), hash_fn=hash_functions)
def test_every_consistency_proof_verifies(
    case: tuple[list[bytes], int], hash_fn: HashFunction
) -> None:
    leaves, old_size = case
    old_root = merkle_root(leaves[:old_size], hash_fn=hash_fn)
    new_root = merkle_root(leaves, hash_fn=hash_fn)
    proof = consistency_proof(leaves, old_size, hash_fn=hash_fn)
    verify_consistency(old_size, len(leaves), old_root, new_root, proof, hash_fn=hash_fn)
    assert is_valid_consistency(old_size, len(leaves), old_root, new_root, proof, hash_fn=hash_fn)


@PROFILE
@given(leaves=distinct_leaves)
def test_consistency_holds_for_every_pair_of_sizes(leaves: list[bytes]) -> None:
    """All (m, n) with 0 < m <= n within one tree: exhaustive, not sampled."""
    roots = [merkle_root(leaves[:size]) for size in range(len(leaves) + 1)]
    for new in range(1, min(len(leaves), 12) + 1):
        for old in range(1, new + 1):
            proof = consistency_proof(leaves[:new], old)
            verify_consistency(old, new, roots[old], roots[new], proof)


@PROFILE
@given(case=tree_and_sizes(), data=st.data())
def test_consistency_proof_fails_for_swapped_or_altered_roots(
    case: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, old_size = case
    new_size = len(leaves)
    old_root, new_root = merkle_root(leaves[:old_size]), merkle_root(leaves)
    proof = consistency_proof(leaves, old_size)
    if old_size < new_size:  # distinct leaves: different sizes have different roots
        with pytest.raises(RootMismatch):
            verify_consistency(old_size, new_size, new_root, old_root, proof)
    other = data.draw(digests)
    assume(other not in (old_root, new_root))
    with pytest.raises(RootMismatch):
        verify_consistency(old_size, new_size, other, new_root, proof)
    with pytest.raises(RootMismatch):
        verify_consistency(old_size, new_size, old_root, other, proof)
    assert not is_valid_consistency(old_size, new_size, old_root, other, proof)


@PROFILE
@given(case=tree_and_sizes(), data=st.data())
def test_consistency_proof_fails_with_any_proof_hash_altered(
    case: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, old_size = case
    proof = consistency_proof(leaves, old_size)
    assume(proof)
    i = data.draw(st.integers(0, len(proof) - 1))
    replacement = data.draw(digests.filter(lambda d: d != proof[i]))
    bent = [*proof[:i], replacement, *proof[i + 1 :]]
    old_root, new_root = merkle_root(leaves[:old_size]), merkle_root(leaves)
    with pytest.raises(RootMismatch):
        verify_consistency(old_size, len(leaves), old_root, new_root, bent)


@PROFILE
@given(
    leaves=st.integers(1, 5).flatmap(
        lambda k: st.lists(leaf_data, min_size=2**k, max_size=2**k, unique=True)
    ),
    data=st.data(),
)
def test_inner_node_presented_as_leaf_never_verifies(
    leaves: list[bytes], data: st.DataObject
) -> None:
    """Collapse a full tree at ``level``: each inner node there becomes a "leaf"
    of a smaller tree with the same root. Its children's concatenation, given
    as leaf data with that smaller tree's path, must not verify."""
    size = len(leaves)
    level = data.draw(st.integers(1, size.bit_length() - 1))
    position = data.draw(st.integers(0, (size >> level) - 1))
    width = 1 << level
    lo, mid, hi = position * width, position * width + width // 2, (position + 1) * width
    left, right = merkle_root(leaves[lo:mid]), merkle_root(leaves[mid:hi])
    upper_path = inclusion_proof(leaves, lo)[level:]
    root = merkle_root(leaves)
    forged = left + right
    with pytest.raises(RootMismatch):
        verify_inclusion(forged, position, size >> level, upper_path, root)
    # Control: the collapsed proof is right, only the leaf prefix tells them apart.
    assert is_valid_inclusion(
        node_hash(left, right), position, size >> level, upper_path, root, prehashed=True
    )
