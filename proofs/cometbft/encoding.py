"""The protobuf bytes CometBFT hashes and signs: vote sign-bytes, header fields, validators.

Why by hand: these bytes are consensus-critical and must be exactly what
CometBFT's gogoproto code emits, including its non-default choices
(non-nullable sub-messages such as ``PartSetHeader`` and the vote
``Timestamp`` are always written, even when empty; proto3 zero scalars are
omitted; ``sfixed64`` height and round in the canonical vote; a uvarint length
prefix around the vote). Python's ``protobuf`` runtime needs generated
``_pb2`` modules (protoc and CometBFT's ``.proto`` tree at build time) and its
"emit empty non-nullable message" behaviour differs per field presence
rules; no maintained Python package ships CometBFT's canonical types. The
encoder below is the protobuf wire format restricted to what these messages
use (varint, fixed64, length-delimited), about forty lines, checked against
real vectors: the header with a known hash and every signature of the
tendermint-rs light-client vectors.

Messages (``proto/tendermint/types/canonical.proto``, ``types.proto``,
``version/types.proto``, ``crypto/keys.proto``)::

    CanonicalVote   { SignedMsgType type = 1; sfixed64 height = 2; sfixed64 round = 3;
                      CanonicalBlockID block_id = 4 (nullable: omitted for a nil vote);
                      Timestamp timestamp = 5 (non-nullable); string chain_id = 6; }
    CanonicalBlockID{ bytes hash = 1; CanonicalPartSetHeader part_set_header = 2 (non-nullable); }
    CanonicalPartSetHeader { uint32 total = 1; bytes hash = 2; }
    SimpleValidator { PublicKey pub_key = 1; int64 voting_power = 2; }
    PublicKey       { oneof sum { bytes ed25519 = 1; ... } }
    Consensus       { uint64 block = 1; uint64 app = 2; }
    BlockID         { bytes hash = 1; PartSetHeader part_set_header = 2 (non-nullable); }
    Timestamp       { int64 seconds = 1; int32 nanos = 2; }
"""

from __future__ import annotations

import struct
from typing import Final

from proofs.cometbft.types import NS_PER_SECOND, BlockId, Header, Validator

PRECOMMIT_TYPE: Final = 2
"""``SignedMsgType.SIGNED_MSG_TYPE_PRECOMMIT``: commits carry precommits."""

_VARINT, _FIXED64, _BYTES = 0, 1, 2


# --- wire format -------------------------------------------------------------------------


def uvarint(value: int) -> bytes:
    """Base-128 varint; negative int64 values as their 64-bit two's complement (10 bytes)."""
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return uvarint(number << 3 | wire_type)


def field_varint(number: int, value: int) -> bytes:
    """A varint field; proto3 omits zero."""
    return _key(number, _VARINT) + uvarint(value) if value else b""


def field_sfixed64(number: int, value: int) -> bytes:
    return _key(number, _FIXED64) + struct.pack("<q", value) if value else b""


def field_bytes(number: int, value: bytes) -> bytes:
    """A bytes/string field; proto3 omits empty."""
    return _key(number, _BYTES) + uvarint(len(value)) + value if value else b""


def field_message(number: int, encoded: bytes) -> bytes:
    """An embedded message, written even when empty (gogoproto ``nullable=false``)."""
    return _key(number, _BYTES) + uvarint(len(encoded)) + encoded


def length_delimited(message: bytes) -> bytes:
    """``protoio.MarshalDelimited``: uvarint length, then the message."""
    return uvarint(len(message)) + message


# --- well-known messages -----------------------------------------------------------------


def encode_timestamp(ns: int) -> bytes:
    """``google.protobuf.Timestamp`` (seconds, non-negative nanos) of an epoch-ns time."""
    seconds, nanos = divmod(ns, NS_PER_SECOND)
    return field_varint(1, seconds) + field_varint(2, nanos)


def encode_part_set_header(total: int, hash_: bytes) -> bytes:
    return field_varint(1, total) + field_bytes(2, hash_)


def encode_block_id(block_id: BlockId) -> bytes:
    """``BlockID`` (also ``CanonicalBlockID``: same fields and numbers)."""
    psh = encode_part_set_header(block_id.part_set_total, block_id.part_set_hash)
    return field_bytes(1, block_id.hash) + field_message(2, psh)


# --- what is signed and hashed --------------------------------------------------------------


def vote_sign_bytes(
    chain_id: str,
    height: int,
    round_: int,
    block_id: BlockId | None,
    timestamp_ns: int,
) -> bytes:
    """The bytes a validator signs for a precommit (``VoteSignBytes``): a length-prefixed
    ``CanonicalVote``. ``block_id`` is ``None`` (or zero) for a vote for nil."""
    vote = (
        field_varint(1, PRECOMMIT_TYPE)
        + field_sfixed64(2, height)
        + field_sfixed64(3, round_)
        + (
            b""
            if block_id is None or block_id.is_zero
            else field_message(4, encode_block_id(block_id))
        )
        + field_message(5, encode_timestamp(timestamp_ns))
        + field_bytes(6, chain_id.encode())
    )
    return length_delimited(vote)


def simple_validator_bytes(validator: Validator) -> bytes:
    """The leaf of ``validators_hash``: ``SimpleValidator{pub_key, voting_power}``."""
    pub_key = field_bytes(1, validator.pub_key)  # PublicKey.sum = ed25519
    return field_message(1, pub_key) + field_varint(2, validator.voting_power)


def header_field_bytes(header: Header) -> list[bytes]:
    """The 14 leaves of the header hash, in order (``Header.Hash``).

    Scalars and byte strings go through ``cdcEncode``: wrapped in the
    ``google.protobuf`` ``StringValue``/``Int64Value``/``BytesValue`` (field 1),
    so an empty value is the empty string. ``version`` and ``last_block_id``
    are their messages; ``time`` is a ``Timestamp``.
    """
    return [
        field_varint(1, header.version_block) + field_varint(2, header.version_app),
        field_bytes(1, header.chain_id.encode()),
        field_varint(1, header.height),
        encode_timestamp(header.time_ns),
        encode_block_id(header.last_block_id),
        field_bytes(1, header.last_commit_hash),
        field_bytes(1, header.data_hash),
        field_bytes(1, header.validators_hash),
        field_bytes(1, header.next_validators_hash),
        field_bytes(1, header.consensus_hash),
        field_bytes(1, header.app_hash),
        field_bytes(1, header.last_results_hash),
        field_bytes(1, header.evidence_hash),
        field_bytes(1, header.proposer_address),
    ]


__all__ = [
    "PRECOMMIT_TYPE",
    "encode_block_id",
    "encode_timestamp",
    "header_field_bytes",
    "length_delimited",
    "simple_validator_bytes",
    "uvarint",
    "vote_sign_bytes",
]
