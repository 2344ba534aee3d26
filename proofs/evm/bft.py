"""QBFT and IBFT 2.0 (Hyperledger Besu / GoQuorum) validator seals in ``extraData``.

A BFT block carries its consensus evidence in the header's ``extraData``, an
RLP list (Besu ``QbftExtraDataCodec`` / ``IbftExtraDataCodec``)::

    [vanity (32 bytes), [validator addresses], vote, round, [committed seals]]

=================  ====================================  ======================================
item               QBFT                                  IBFT 2.0
=================  ====================================  ======================================
no vote            empty list ``0xc0``                   empty string ``0x80``
vote               ``[recipient, 0xff | empty]``          ``[recipient, 0xff | 0x00]``
                   (add / drop)                          (add / drop)
round              RLP scalar (minimal big-endian)        4-byte big-endian integer
=================  ====================================  ======================================

Two header hashes matter (Besu ``BftBlockHashing``, GoQuorum ``QBFTFilteredHeader``):

* the **committed-seal digest**: ``keccak256(rlp(header))`` with ``extraData``
  re-encoded *without the seals* (QBFT: the seals item becomes an empty list;
  IBFT 2.0: the seals item is dropped). Each committed seal is a 65-byte
  secp256k1 signature ``r || s || v`` (``v`` in {0, 1}) over this digest;
* the **on-chain block hash** (what ``eth_getBlockByNumber`` returns and what
  the child's ``parentHash`` holds): the same, with the round also removed
  (QBFT: round 0 and an empty seal list; IBFT 2.0: both items dropped). For
  block 0 both hashes use ``extraData`` unchanged.

So on a BFT chain ``keccak256(rlp(header))`` is *not* the block hash: chain
checks use :func:`compute_bft_block_hash` as their hasher.

Verification (:func:`validate_bft_header`) follows Besu's commit-seal rule
(every signer is a validator of the block, no signer twice, at least
``ceil(2n/3)`` seals) plus the light-client trust rule of the IBFT 2.0 light
client (hyperledger-labs yui-ibc-solidity): the signers also hold more than a
third of the *trusted* validator set, so that at least one honest trusted
validator vouches for a changed set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

import rlp
from coincurve import PublicKey
from rlp.exceptions import DecodingError, DeserializationError

from core.errors import (
    BadEncoding,
    BadSignature,
    InsufficientPower,
    InvalidHeader,
)
from proofs.evm.chain import validate_header_chain
from proofs.evm.header import EMPTY_OMMERS_HASH, EvmHeader, encode_header
from proofs.hashing import keccak256

BFT_MIX_HASH: Final = bytes.fromhex(
    "63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
)
"""The constant ``mixHash`` of every BFT block ("ctical byzantine fault tolerance")."""

VANITY_LENGTH: Final = 32
ADDRESS_LENGTH: Final = 20
SEAL_LENGTH: Final = 65
VOTE_ADD: Final = b"\xff"
SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N: Final = SECP256K1_N // 2


class BftVariant(StrEnum):
    """Which ``extraData`` codec a chain uses."""

    QBFT = "qbft"
    IBFT2 = "ibft2"


@dataclass(frozen=True, slots=True)
class BftVote:
    """A proposer's vote to add (``add=True``) or drop ``recipient`` from the validators."""

    recipient: bytes
    add: bool


@dataclass(frozen=True, slots=True)
class BftExtraData:
    """The decoded ``extraData`` of a QBFT / IBFT 2.0 header."""

    vanity: bytes
    validators: tuple[bytes, ...]
    vote: BftVote | None
    round: int
    seals: tuple[bytes, ...] = field(default=())


# --- codec ----------------------------------------------------------------------------


def decode_bft_extra_data(extra_data: bytes, variant: BftVariant = BftVariant.QBFT) -> BftExtraData:
    """Decode ``extraData``; ``BadEncoding`` unless it is exactly the 5-item BFT list.

    Checks: canonical RLP; five items; 32-byte vanity; 20-byte validator
    addresses; the variant's vote and round encodings; 65-byte seals.
    """
    try:
        items = rlp.decode(extra_data, strict=True)
    except (DecodingError, DeserializationError, TypeError) as err:
        raise BadEncoding("extraData is not valid RLP") from err
    if not isinstance(items, list) or len(items) != 5:
        raise BadEncoding("BFT extraData must be an RLP list of 5 items")
    vanity, validators, vote_item, round_item, seals = items
    if not isinstance(vanity, bytes) or len(vanity) != VANITY_LENGTH:
        raise BadEncoding("BFT extraData vanity must be 32 bytes", field="vanity")
    if not isinstance(validators, list) or not all(
        isinstance(v, bytes) and len(v) == ADDRESS_LENGTH for v in validators
    ):
        raise BadEncoding("BFT validators must be a list of 20-byte addresses", field="validators")
    if not isinstance(seals, list) or not all(
        isinstance(s, bytes) and len(s) == SEAL_LENGTH for s in seals
    ):
        raise BadEncoding("BFT committed seals must be 65-byte signatures", field="seals")
    return BftExtraData(
        vanity=vanity,
        validators=tuple(validators),
        vote=_decode_vote(vote_item, variant),
        round=_decode_round(round_item, variant),
        seals=tuple(seals),
    )


def _decode_vote(item: object, variant: BftVariant) -> BftVote | None:
    absent: object = [] if variant is BftVariant.QBFT else b""
    if item == absent:
        return None
    if (
        not isinstance(item, list)
        or len(item) != 2
        or not isinstance(item[0], bytes)
        or len(item[0]) != ADDRESS_LENGTH
    ):
        raise BadEncoding("BFT vote must be [20-byte recipient, vote type]", field="vote")
    drop = b"" if variant is BftVariant.QBFT else b"\x00"
    if item[1] == VOTE_ADD:
        return BftVote(item[0], add=True)
    if item[1] == drop:
        return BftVote(item[0], add=False)
    raise BadEncoding("BFT vote type must be add (0xff) or drop", field="vote")


def _decode_round(item: object, variant: BftVariant) -> int:
    if not isinstance(item, bytes):
        raise BadEncoding("BFT round must be an RLP string", field="round")
    if variant is BftVariant.IBFT2:
        if len(item) != 4:
            raise BadEncoding("IBFT 2.0 round must be a 4-byte integer", field="round")
    elif len(item) > 4 or item[:1] == b"\x00":
        raise BadEncoding("QBFT round must be a minimal integer below 2**32", field="round")
    return int.from_bytes(item, "big")


def encode_bft_extra_data(
    data: BftExtraData,
    variant: BftVariant = BftVariant.QBFT,
    *,
    seals: bool = True,
    round_number: bool = True,
) -> bytes:
    """Encode ``data`` the way Besu does for the three encoding types.

    ``seals=True`` (implies ``round_number``): the full ``extraData``.
    ``seals=False``: the committed-seal form. ``seals=False, round_number=False``:
    the on-chain-hash form.
    """
    vote: object
    if data.vote is None:
        vote = [] if variant is BftVariant.QBFT else b""
    else:
        drop = b"" if variant is BftVariant.QBFT else b"\x00"
        vote = [data.vote.recipient, VOTE_ADD if data.vote.add else drop]
    items: list[object] = [data.vanity, list(data.validators), vote]
    if variant is BftVariant.QBFT:
        if not round_number:
            items += [b"", []]
        else:
            items += [_scalar(data.round), list(data.seals) if seals else []]
    elif round_number:
        items.append(data.round.to_bytes(4, "big"))
        if seals:
            items.append(list(data.seals))
    return rlp.encode(items)


def _scalar(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


# --- hashes ---------------------------------------------------------------------------


def _hash_with_extra(header: EvmHeader, variant: BftVariant, *, round_number: bool) -> bytes:
    if header.number == 0:
        return keccak256(encode_header(header))
    data = decode_bft_extra_data(header.extra_data, variant)
    extra = encode_bft_extra_data(data, variant, seals=False, round_number=round_number)
    return keccak256(encode_header(header.replace(extra_data=extra)))


def compute_bft_block_hash(header: EvmHeader, variant: BftVariant = BftVariant.QBFT) -> bytes:
    """The on-chain block hash of a BFT header (seals and round removed from ``extraData``)."""
    return _hash_with_extra(header, variant, round_number=False)


def compute_committed_seal_hash(header: EvmHeader, variant: BftVariant = BftVariant.QBFT) -> bytes:
    """The digest every committed seal signs (seals removed, round kept)."""
    return _hash_with_extra(header, variant, round_number=True)


def compute_bft_quorum(validator_count: int) -> int:
    """Seals a block needs: ``ceil(2n/3)`` (Besu ``calculateRequiredValidatorQuorum``).

    For ``n = 3f + 1`` validators this is ``2f + 1``; when ``n`` is a multiple
    of 3 it is exactly two thirds, which is the chain's own rule.
    """
    return (2 * validator_count + 2) // 3


def compute_address(public_key: PublicKey) -> bytes:
    """The Ethereum address of a secp256k1 public key."""
    return keccak256(public_key.format(compressed=False)[1:])[12:]


def recover_seal_signer(seal: bytes, digest: bytes) -> bytes:
    """The address that produced ``seal`` over ``digest``; ``BadSignature`` if it cannot be one.

    Checks, in order: 65 bytes; ``v`` in {0, 1}; ``0 < r < n``; ``0 < s <= n/2``
    (high-s signatures are malleable copies and are rejected); public-key
    recovery succeeds.
    """
    if len(seal) != SEAL_LENGTH:
        raise BadSignature("a committed seal is 65 bytes")
    r = int.from_bytes(seal[:32], "big")
    s = int.from_bytes(seal[32:64], "big")
    v = seal[64]
    if v not in (0, 1):
        raise BadSignature(f"seal recovery id must be 0 or 1, got {v}")
    if not 0 < r < SECP256K1_N or not 0 < s < SECP256K1_N:
        raise BadSignature("seal r or s out of range")
    if s > SECP256K1_HALF_N:
        raise BadSignature("seal s is in the upper half of the curve order (malleable)")
    try:
        public_key = PublicKey.from_signature_and_message(seal, digest, hasher=None)
    except Exception as err:  # coincurve raises ValueError/Exception on unrecoverable input
        raise BadSignature("seal does not recover to a public key") from err
    return compute_address(public_key)


# --- verification ---------------------------------------------------------------------


def validate_bft_header_format(header: EvmHeader) -> None:
    """The constant fields of a BFT header (Besu's ``ConstantFieldValidationRule``s).

    Checks: ``mixHash`` is :data:`BFT_MIX_HASH`; ommers hash is the empty list
    hash; difficulty is 1. Raises ``InvalidHeader`` with ``details['check']``.
    """
    checks = (
        ("bft-mix-hash", header.mix_hash == BFT_MIX_HASH),
        ("bft-ommers", header.ommers_hash == EMPTY_OMMERS_HASH),
        ("bft-difficulty", header.difficulty == 1),
    )
    for check, ok in checks:
        if not ok:
            raise InvalidHeader(
                f"header {header.number} is not a BFT header ({check})",
                height=header.number,
                check=check,
            )


def validate_bft_header(
    header: EvmHeader,
    trusted_validators: Sequence[bytes],
    variant: BftVariant = BftVariant.QBFT,
) -> BftExtraData:
    """Verify the committed seals of ``header`` against a trusted validator set.

    Checks, in order (cheapest first, signature recovery last):

    1. constant BFT fields (:func:`validate_bft_header_format`);
    2. ``extraData`` decodes (``BadEncoding``); the header's validator list is
       non-empty and has no duplicate (``BadEncoding``);
    3. there are at least ``ceil(2n/3)`` seals for the header's ``n`` listed
       validators (``InsufficientPower``, before any recovery);
    4. each seal is a low-s signature over :func:`compute_committed_seal_hash`
       (``BadSignature``), by a listed validator (``BadSignature``), and no
       validator seals twice (``BadSignature``);
    5. the signers hold more than a third of ``trusted_validators``
       (``InsufficientPower``).

    Returns the decoded ``extraData``; its ``validators`` are the set to trust
    for the next header.

    SECURITY: sound while fewer than a third of the trusted validators are
    faulty. The trusted set must be recent: validators that left the set long
    ago may sign a fork (long-range attack) — callers bound the age of their
    checkpoint (trusting period). Chains whose validators live in a contract
    (QBFT "validator contract" mode) list no validators here and are rejected.
    """
    validate_bft_header_format(header)
    height = header.number
    data = decode_bft_extra_data(header.extra_data, variant)
    listed = data.validators
    if not listed or len(set(listed)) != len(listed):
        raise BadEncoding(
            f"header {height}: validator list is empty or has duplicates", height=height
        )
    quorum = compute_bft_quorum(len(listed))
    if len(data.seals) < quorum:
        raise InsufficientPower(
            f"header {height}: {len(data.seals)} seals, {quorum} of {len(listed)} needed",
            height=height,
            seals=len(data.seals),
            quorum=quorum,
        )
    digest = compute_committed_seal_hash(header, variant)
    members = set(listed)
    signers: set[bytes] = set()
    for index, seal in enumerate(data.seals):
        try:
            signer = recover_seal_signer(seal, digest)
        except BadSignature as err:
            err.details.update(height=height, seal=index)
            raise
        if signer not in members:
            raise BadSignature(
                f"header {height}: seal {index} is by 0x{signer.hex()}, not a validator",
                height=height,
                seal=index,
            )
        if signer in signers:
            raise BadSignature(
                f"header {height}: validator 0x{signer.hex()} sealed twice",
                height=height,
                seal=index,
            )
        signers.add(signer)
    trusted = set(trusted_validators)
    overlap = len(signers & trusted)
    if not trusted or overlap * 3 <= len(trusted):
        raise InsufficientPower(
            f"header {height}: signers hold {overlap} of {len(trusted)} trusted validators "
            "(more than 1/3 needed)",
            height=height,
            trusted_signers=overlap,
        )
    return data


def validators_of(header: EvmHeader, variant: BftVariant = BftVariant.QBFT) -> tuple[bytes, ...]:
    """The validator list a BFT header declares (trusted only once its seals are verified)."""
    return decode_bft_extra_data(header.extra_data, variant).validators


@dataclass(frozen=True, slots=True)
class BftFinality:
    """Finality policy of QBFT / IBFT 2.0 chains: a header with valid seals is final.

    ``validate_finality(trusted, headers)`` links the headers to ``trusted``
    with the BFT block hash, then verifies each header's seals against the
    validators of the previously verified header (the trusted header's own
    list first), and returns the last header: BFT finality is immediate.
    """

    variant: BftVariant = BftVariant.QBFT
    name: str = "bft"

    def compute_hash(self, header: EvmHeader) -> bytes:
        return compute_bft_block_hash(header, self.variant)

    def validate_finality(self, trusted: EvmHeader, headers: Sequence[EvmHeader]) -> EvmHeader:
        if not headers:
            raise InsufficientPower("no header to finalise", height=trusted.number)
        validate_header_chain(trusted, headers, hasher=self.compute_hash)
        validators = validators_of(trusted, self.variant)
        for header in headers:
            validators = validate_bft_header(header, validators, self.variant).validators
        return headers[-1]
