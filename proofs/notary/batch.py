"""Batch trees: the Merkle root a committee signs for a batch, and each packet's proof.

The statement itself is chain-neutral (``core.batches.BatchStatement``); this
module is the tree. RFC 6962 (``proofs.merkle``) over the ACTING chain's hash
(``BridgeEndpoint.batch_hash``: keccak-256 on EVM, the chain's hash profile on
Pujiang): the leaf DATA of packet ``i`` is its 32-byte leaf value
(``BridgeEndpoint.batch_leaf``), hashed ``H(0x00 ‖ leaf)``; inner nodes are
``H(0x01 ‖ left ‖ right)``. The prefixes keep an inner node (64 bytes of
children) from passing as a leaf, and a leaf is always exactly 32 bytes of
data. A batch of one has ``root = H(0x00 ‖ leaf)`` and an empty proof.

SECURITY: a proof binds a leaf to its index only with the statement's
``size``; take both from the same certified statement. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.batches import MAX_BATCH_SIZE, BatchStatement, BatchTooLarge
from core.errors import BadEncoding
from proofs.hashing import HashFunction
from proofs.merkle import inclusion_proofs, merkle_root, verify_inclusion

LEAF_LENGTH = 32


def _check_leaves(leaves: Sequence[bytes]) -> None:
    if not 1 <= len(leaves) <= MAX_BATCH_SIZE:
        raise BatchTooLarge(f"a batch holds 1 .. {MAX_BATCH_SIZE} packets, not {len(leaves)}")
    for position, leaf in enumerate(leaves):
        if not isinstance(leaf, bytes) or len(leaf) != LEAF_LENGTH:
            raise BadEncoding(f"batch leaf {position} is not 32 bytes", position=position)


def compute_batch_root(leaves: Sequence[bytes], *, hash_fn: HashFunction) -> bytes:
    """The RFC 6962 root over the batch's 32-byte leaf values, in batch order."""
    _check_leaves(leaves)
    return merkle_root(list(leaves), hash_fn=hash_fn)


def compute_batch_proofs(
    leaves: Sequence[bytes], *, hash_fn: HashFunction
) -> list[tuple[bytes, ...]]:
    """The inclusion proof of every leaf, in batch order (leaf side first)."""
    _check_leaves(leaves)
    data = list(leaves)
    # One hashing of the tree for all the paths (``inclusion_proof`` per leaf is O(n²)).
    return [tuple(p) for p in inclusion_proofs(data, range(len(data)), hash_fn=hash_fn)]


def verify_batch_member(
    leaf: bytes,
    index: int,
    proof: Sequence[bytes],
    statement: BatchStatement,
    *,
    hash_fn: HashFunction,
) -> None:
    """Raise unless ``leaf`` is leaf ``index`` of the batch ``statement`` certifies.

    ``BadEncoding`` for a leaf that is not 32 bytes; ``BadProof`` for an index
    outside ``statement.size`` or a proof of the wrong length (so a proof made for
    another index is refused); ``RootMismatch`` when the proof leads elsewhere.
    """
    if not isinstance(leaf, bytes) or len(leaf) != LEAF_LENGTH:
        raise BadEncoding("a batch leaf is 32 bytes")
    verify_inclusion(leaf, index, statement.size, proof, statement.root, hash_fn=hash_fn)
