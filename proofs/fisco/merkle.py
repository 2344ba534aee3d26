"""FISCO BCOS 2.x transaction and receipt proofs (``getTransactionByHashWithProof`` format).

The 2.x trie is a 16-ary Merkle tree over the leaves ``rlp(index) || hash``
(the transaction or receipt hash; leaves are not hashed first), each node
``keccak256(children concatenated)``, and the root is the hash of the single
top node (a tree of one group still takes one more hash). A proof is a list
of steps ``{left: [...], right: [...]}``, the siblings of the current node in
its group, from the leaves up.

:func:`verify_merkle_proof`, in order (``fisco-merkle-proof`` unless said):

1. ``index`` is a non-negative integer, ``1 <= len(proof) <= 16``;
2. every step holds at most 16 children, and the node's position in it
   (``len(left)``) is the index's digit at that level (``index // 16**k % 16``),
   so the index is bound to the path; the last step is the single top node;
3. level-0 siblings are ``rlp(j) || 32 bytes`` with ``j`` the consecutive
   indexes around ``index``; higher siblings are 32 bytes;
4. the fold equals the root (``fisco-proof-root``).

FISCO's own SDK check folds the proof without steps 2-3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import rlp

from proofs.fisco.errors import BadMerkleProof, MalformedHeader, ProofRootMismatch
from proofs.hashing import keccak256

WIDTH: Final = 16
MAX_STEPS: Final = 16


def decode_proof(steps: Sequence[Mapping[str, Any]]) -> list[tuple[list[bytes], list[bytes]]]:
    """``[(left, right), ...]`` from the JSON proof (hex strings, with or without ``0x``)."""
    out = []
    try:
        for step in steps:
            out.append(
                (
                    [bytes.fromhex(x.removeprefix("0x")) for x in step["left"]],
                    [bytes.fromhex(x.removeprefix("0x")) for x in step["right"]],
                )
            )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise MalformedHeader("the proof does not decode", check="proof") from err
    return out


def compute_leaf(index: int, item_hash: bytes) -> bytes:
    """A level-0 leaf: ``rlp(index) || hash``."""
    return rlp.encode(index) + item_hash


def compute_proof_root(
    index: int, item_hash: bytes, proof: Sequence[tuple[Sequence[bytes], Sequence[bytes]]]
) -> bytes:
    """Fold a proof after the structure checks (steps 1-3); the root it reaches."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise BadMerkleProof(f"index {index!r} is not a non-negative integer", check="index")
    if len(item_hash) != 32:
        raise BadMerkleProof("the proven hash is not 32 bytes", check="leaf")
    if not 1 <= len(proof) <= MAX_STEPS:
        raise BadMerkleProof(f"a proof has 1..{MAX_STEPS} steps, not {len(proof)}", check="length")
    node = compute_leaf(index, item_hash)
    for level, (left, right) in enumerate(proof):
        position = index // WIDTH**level % WIDTH
        if len(left) + len(right) + 1 > WIDTH or len(left) != position:
            raise BadMerkleProof(
                f"step {level}: {len(left)} left of {len(left) + len(right) + 1}, "
                f"the index puts the node at {position}",
                check="position",
            )
        if level == 0:
            base = index - position
            for j, sibling in enumerate(left):
                _check_leaf(sibling, base + j)
            for j, sibling in enumerate(right):
                _check_leaf(sibling, index + 1 + j)
        elif any(len(s) != 32 for s in (*left, *right)):
            raise BadMerkleProof(f"step {level}: a sibling is not 32 bytes", check="sibling")
        node = keccak256(b"".join(left) + node + b"".join(right))
    top_alone = len(proof[-1][0]) + len(proof[-1][1]) == 0
    below_alone = len(proof) > 1 and len(proof[-2][0]) + len(proof[-2][1]) == 0
    if index >= WIDTH ** (len(proof) - 1) or not top_alone or below_alone:
        # a lone node under the top was the top already: one step too many
        raise BadMerkleProof("the last step is not the single top node", check="top")
    return node


def _check_leaf(sibling: bytes, index: int) -> None:
    prefix = rlp.encode(index)
    if len(sibling) != len(prefix) + 32 or not sibling.startswith(prefix):
        raise BadMerkleProof(
            f"the sibling leaf at {index} is not rlp({index}) || hash", check="sibling"
        )


def verify_merkle_proof(
    index: int,
    item_hash: bytes,
    proof: Sequence[tuple[Sequence[bytes], Sequence[bytes]]],
    root: bytes,
) -> None:
    """``item_hash`` is item ``index`` under ``root`` (module table)."""
    if compute_proof_root(index, item_hash, proof) != root:
        raise ProofRootMismatch("the proof folds to another root", check="root")


def compute_merkle_root(hashes: Sequence[bytes]) -> bytes:
    """The 2.x root over ``hashes`` (tests and fixtures build trees with it)."""
    return compute_merkle_levels(hashes)[-1][0]


def compute_merkle_levels(hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every level from the leaves ``rlp(i) || h`` to the root."""
    if not hashes:
        raise BadMerkleProof("a tree needs at least one item", check="empty")
    levels = [[compute_leaf(i, h) for i, h in enumerate(hashes)]]
    while True:
        level = levels[-1]
        levels.append(
            [keccak256(b"".join(level[i : i + WIDTH])) for i in range(0, len(level), WIDTH)]
        )
        if len(level) == 1:
            return levels


def compute_merkle_proof(
    hashes: Sequence[bytes], index: int
) -> list[tuple[list[bytes], list[bytes]]]:
    """The proof of item ``index``, in the node's format."""
    proof = []
    position = index
    for level in compute_merkle_levels(hashes)[:-1]:
        start = position - position % WIDTH
        group = level[start : start + WIDTH]
        offset = position - start
        proof.append((group[:offset], group[offset + 1 :]))
        position //= WIDTH
    return proof
