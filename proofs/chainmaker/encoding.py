"""ChainMaker's bytes: decoding a ``BlockInfo``, the hashes of header, transaction,
read-write set and DAG, and ChainMaker's Merkle tree with bounded paths.

Every hash is over the protobuf encoding of a message as ChainMaker's Go code
marshals it (fields in number order, defaults omitted), which the protobuf
runtime reproduces from the decoded message; the JSON a node or the explorer
exports (``protojson``: snake_case names, bytes in base64, enums as integers)
decodes into the same messages, unknown fields refused.

Traps, each a rule here:

* the transaction hash from block version 2.3.0 (``2030000``) on is taken with
  ``result.contract_result.gas_used`` set to 0; hashing the stored transaction
  does not match ``tx_root`` (:func:`compute_tx_hash`);
* the Merkle tree pads the leaves to a power of two and hashes ``H(l || l)``
  where a right child is missing, with no leaf/node domain separation, so a
  path is only meaningful with its index bounded by ``tx_count`` and its length
  equal to the depth of a tree of ``tx_count`` leaves (:func:`verify_merkle_path`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from core.errors import InvalidInput
from proofs.chainmaker.errors import BadMerklePath, MalformedBlock, ProofRootMismatch
from proofs.chainmaker.pb import chainmaker_pb2 as pb
from proofs.hashing import SHA256, SM3, HashFunction

GAS_ZEROED_FROM_VERSION: Final = 2030000
"""Block version 2.3.0: from it on the transaction hash zeroes ``gas_used``."""

TBFT_QC_KEY: Final = "TBFTAddtionalDataKey"
"""Where TBFT stores the quorum certificate in ``additional_data`` (upstream spelling)."""

CHAIN_CONFIG_CONTRACT: Final = "CHAIN_CONFIG"
"""The system contract (and write key) of the chain configuration."""

HASH_TYPES: Final[Mapping[str, HashFunction]] = {"SHA256": SHA256, "SM3": SM3}


def get_hash_type(name: str) -> HashFunction:
    """The hash a chain configuration names (``crypto.hash``: ``SHA256`` or ``SM3``)."""
    try:
        return HASH_TYPES[name.upper()]
    except (KeyError, AttributeError) as err:
        raise InvalidInput(f"unsupported ChainMaker hash type {name!r}") from err


# --- decoding --------------------------------------------------------------------------------


def decode_block_info(data: Mapping[str, Any] | bytes) -> pb.BlockInfo:
    """A ``BlockInfo`` from its JSON object or protobuf bytes (``MalformedBlock``).

    A JSON object with only ``block`` (header and additional data, as the
    vectors' ``*_header_qc.json``) decodes too: the body is then empty and only
    the header checks apply.
    """
    info = pb.BlockInfo()
    try:
        if isinstance(data, bytes | bytearray):
            info.ParseFromString(bytes(data))
        else:
            json_format.ParseDict(dict(data), info)
    except (json_format.ParseError, DecodeError, TypeError, ValueError) as err:
        raise MalformedBlock(f"the block does not decode: {err}", check="encoding") from err
    if not info.block.HasField("header"):
        raise MalformedBlock("the block has no header", check="encoding")
    return info


def decode_vote_set(data: bytes) -> tuple[pb.VoteSet, list[tuple[str, pb.Vote]]]:
    """The TBFT ``VoteSet`` and its votes as sent, in order, a repeated key kept twice."""
    vote_set, entries = pb.VoteSet(), pb.VoteSetEntries()
    try:
        vote_set.ParseFromString(data)
        entries.ParseFromString(data)
    except DecodeError as err:
        raise MalformedBlock("the TBFT vote set does not decode", check="qc-encoding") from err
    return vote_set, [(entry.key, entry.value) for entry in entries.votes]


def encode(message: Message) -> bytes:
    """Go's ``proto.Marshal`` of ``message`` (deterministic: sorted map keys)."""
    return message.SerializeToString(deterministic=True)


# --- hashes ----------------------------------------------------------------------------------


def compute_block_hash(header: pb.BlockHeader, hash_fn: HashFunction) -> bytes:
    """``H(header)`` with ``block_hash`` and ``signature`` cleared."""
    unsigned = pb.BlockHeader()
    unsigned.CopyFrom(header)
    unsigned.ClearField("block_hash")
    unsigned.ClearField("signature")
    return hash_fn(encode(unsigned))


def compute_tx_hash(tx: pb.Transaction, block_version: int, hash_fn: HashFunction) -> bytes:
    """The transaction hash ``tx_root`` commits to; ``gas_used`` zeroed from v2.3.0."""
    if block_version >= GAS_ZEROED_FROM_VERSION and tx.result.contract_result.gas_used:
        tx = _copy(tx)
        tx.result.contract_result.gas_used = 0
    return hash_fn(encode(tx))


def _copy(tx: pb.Transaction) -> pb.Transaction:
    out = pb.Transaction()
    out.CopyFrom(tx)
    return out


def compute_rwset_hash(rwset: pb.TxRWSet, hash_fn: HashFunction) -> bytes:
    """``H(TxRWSet)``: a transaction's ``result.rw_set_hash``, a leaf of ``rw_set_root``."""
    return hash_fn(encode(rwset))


def compute_dag_hash(dag: pb.DAG, hash_fn: HashFunction) -> bytes:
    """``H(DAG)``, the header's ``dag_hash``."""
    return hash_fn(encode(dag))


def compute_vote_payload(vote: pb.Vote) -> bytes:
    """What a TBFT vote signs: its encoding with ``endorsement`` cleared."""
    unsigned = pb.Vote()
    unsigned.CopyFrom(vote)
    unsigned.ClearField("endorsement")
    return encode(unsigned)


# --- Merkle tree -----------------------------------------------------------------------------


def compute_merkle_depth(count: int) -> int:
    """Depth of a tree of ``count`` leaves: ``ceil(log2 count)`` (0 for one leaf)."""
    if count < 1:
        raise InvalidInput("a Merkle tree needs at least one leaf")
    return (count - 1).bit_length()


def compute_merkle_levels(leaves: Sequence[bytes], hash_fn: HashFunction) -> list[list[bytes]]:
    """Every level, leaves first, root last, by ChainMaker's rule.

    Padding the leaves to a power of two and hashing ``H(l || l)`` where the
    right child is missing (a missing left child gives a missing parent) is
    the same as hashing the last node with itself on every odd level.
    """
    if not leaves:
        raise InvalidInput("a Merkle tree needs at least one leaf")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        level = levels[-1]
        levels.append(
            [
                hash_fn(level[i] + (level[i + 1] if i + 1 < len(level) else level[i]))
                for i in range(0, len(level), 2)
            ]
        )
    return levels


def compute_merkle_root(leaves: Sequence[bytes], hash_fn: HashFunction) -> bytes:
    """The root of ChainMaker's tree over ``leaves`` (one leaf: the leaf itself)."""
    return compute_merkle_levels(leaves, hash_fn)[-1][0]


def compute_merkle_path(leaves: Sequence[bytes], index: int, hash_fn: HashFunction) -> list[bytes]:
    """The siblings from leaf ``index`` up; where a node has no right sibling, the node itself."""
    if not 0 <= index < len(leaves):
        raise InvalidInput(f"leaf index {index} is outside 0..{len(leaves) - 1}")
    path = []
    for level in compute_merkle_levels(leaves, hash_fn)[:-1]:
        sibling = index ^ 1
        path.append(level[sibling] if sibling < len(level) else level[index])
        index //= 2
    return path


def verify_merkle_path(
    leaf: bytes,
    index: int,
    path: Sequence[bytes],
    root: bytes,
    count: int,
    hash_fn: HashFunction,
) -> None:
    """Check that ``leaf`` is leaf ``index`` of a tree of ``count`` leaves with ``root``.

    Checks, in order (``BadMerklePath`` unless said): ``index`` in
    ``[0, count)``; ``len(path)`` equal to the depth of a ``count``-leaf tree;
    each step 32 bytes; where the node has no right sibling at its level the
    step must be the node itself (the padding rule, nothing else can stand
    there); the fold equals ``root`` (``ProofRootMismatch``).

    SECURITY: with no leaf/node domain separation an inner node is also a
    valid 32-byte "leaf"; bounding the index by ``count`` and the length by
    the depth is what stops a path from proving one (or a padded duplicate).
    """
    if not isinstance(index, int) or not 0 <= index < count:
        raise BadMerklePath(f"leaf index {index} is outside 0..{count - 1}", check="index")
    depth = compute_merkle_depth(count)
    if len(path) != depth:
        raise BadMerklePath(
            f"a path in a tree of {count} leaves has {depth} steps, not {len(path)}",
            check="path-length",
        )
    node, position, width = leaf, index, count
    for step, sibling in enumerate(path):
        if len(sibling) != hash_fn.digest_size:
            raise BadMerklePath(f"step {step} is not {hash_fn.digest_size} bytes", check="step")
        if position % 2 == 0 and position + 1 >= width:
            if sibling != node:
                raise BadMerklePath(
                    f"step {step} has no right sibling: it must repeat the node", check="step"
                )
            node = hash_fn(node + node)
        elif position % 2 == 0:
            node = hash_fn(node + sibling)
        else:
            node = hash_fn(sibling + node)
        position, width = position // 2, (width + 1) // 2
    if node != root:
        raise ProofRootMismatch("the Merkle path folds to another root", check="root")
