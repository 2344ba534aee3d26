"""A Pujiang header update as ``contracts/PujiangLightClient.sol`` takes it.

The on-chain client checks BLS with the EIP-2537 precompiles, which take
uncompressed points only, while a Pujiang commit and set carry compressed
ones. Decompressing on chain needs a square root in Fp (and Fp2 for the
signature): expensive. So the SOURCE side (this module, the family that knows
the format) sends the set's keys uncompressed and the signature uncompressed;
the contract re-compresses each key (x and the sign of y, cheap) and hashes the
set, so the keys it aggregates are bound to the header's ``validators_hash``
(``docs/light-client-route.md``). The commit's own compressed signature is
carried in the commit bytes but not used on chain.

The result is the ABI tuple of ``PujiangLightClient.Update``; ``encode_update``
gives it as the opaque bytes the destination adapter forwards. The standard
crypto profile only: a ``gm`` (SM3) chain's hashes cannot be checked by the
contract (no SM3 precompile), so its headers are refused here (``InvalidInput``).

Decoding is deliberately lenient on shapes the contract itself refuses (an
unsorted set, a zero power, a malformed commit), so the contract's refusal, not
this encoder's, is what a test of the contract sees.
"""

from __future__ import annotations

from typing import Any

import rlp
from eth_abi import encode as abi_encode

import proofs.bls as bls
from core.errors import BadEncoding, InvalidInput

UPDATE_ABI = "(uint64,bytes,bytes,bytes,bytes,uint256[],bytes,uint256[])"
"""``PujiangLightClient.Update``: trustedHeight, header, commit, signature, keys, powers,
trustedKeys, trustedPowers."""

ONCHAIN_CLIENT_KIND = "bls12381-minpk-rfc6962-v1"
"""The verification ``PujiangLightClient.sol`` performs (``core.seams.OnChainUpdate.kind``)."""
SUPPORTED_PROFILE = "sha256"
SIGNATURE_INDEX = 4


def _set_items(validators: bytes) -> list[tuple[bytes, int]]:
    """(compressed key, power) of each member of an RLP set, in set order."""
    try:
        items = rlp.decode(validators)
    except rlp.DecodingError as err:
        raise BadEncoding(f"validator set does not decode: {err}", check="encoding") from err
    if not isinstance(items, list):
        raise BadEncoding("a validator set is an RLP list", check="encoding")
    out = []
    for item in items:
        if (
            not isinstance(item, list)
            or len(item) < 2
            or not all(isinstance(f, bytes) for f in item)
        ):
            raise BadEncoding("a validator is [pubkey, power, pop]", check="encoding")
        out.append((bytes(item[0]), int.from_bytes(item[1], "big")))
    return out


def commit_signature(commit: bytes) -> bytes:
    """The aggregate signature of a commit, EIP-2537 encoded (``BadEncoding`` if not a point)."""
    try:
        items = rlp.decode(commit, strict=False)
    except rlp.DecodingError as err:
        raise BadEncoding(f"commit does not decode: {err}", check="encoding") from err
    if not isinstance(items, list) or len(items) <= SIGNATURE_INDEX:
        raise BadEncoding("a commit has five items", check="encoding")
    return bls.eip2537_g2(bytes(items[SIGNATURE_INDEX]))


def update_tuple(
    trusted_height: int,
    header: bytes,
    commit: bytes,
    validators: bytes,
    trusted_validators: bytes | None = None,
    *,
    hash_profile: str = SUPPORTED_PROFILE,
    signature: bytes | None = None,
) -> tuple[Any, ...]:
    """The ``Update`` struct as an ABI tuple.

    ``trusted_validators``: when skipping to a header signed by another set than
    the trusted height's, that set (the contract measures the 1/3 overlap against
    it). ``signature`` overrides the commit's (tests of the contract's refusals).
    """
    if hash_profile != SUPPORTED_PROFILE:
        raise InvalidInput(
            f"the on-chain Pujiang light client verifies {SUPPORTED_PROFILE} chains only, "
            f"not {hash_profile}: an EVM chain has no SM3 precompile",
            field="hash_profile",
        )
    members = _set_items(validators)
    keys = b"".join(bls.eip2537_g1(key) for key, _ in members)
    trusted = _set_items(trusted_validators) if trusted_validators else []
    return (
        trusted_height,
        header,
        commit,
        commit_signature(commit) if signature is None else signature,
        keys,
        [power for _, power in members],
        b"".join(key for key, _ in trusted),
        [power for _, power in trusted],
    )


def encode_update(
    trusted_height: int,
    header: bytes,
    commit: bytes,
    validators: bytes,
    trusted_validators: bytes | None = None,
    *,
    hash_profile: str = SUPPORTED_PROFILE,
) -> bytes:
    """``abi.encode(Update)``: the opaque update bytes of the ``OnChainClientHost`` seam."""
    value = update_tuple(
        trusted_height, header, commit, validators, trusted_validators, hash_profile=hash_profile
    )
    return abi_encode([UPDATE_ABI], [value])


PROOF_ABI = ["uint64", "uint64", "uint64", "uint64", "bytes32[]"]


def encode_packet_proof(
    height: int, tx_index: int, event_index: int, leaf_index: int, path: list[bytes]
) -> bytes:
    """``PujiangLightClient.verifyPacket``'s proof: where the ``send_packet`` event sits in
    the events root of ``height`` (the contract rebuilds the leaf from the packet itself)."""
    return abi_encode(PROOF_ABI, [height, tx_index, event_index, leaf_index, list(path)])


__all__ = [
    "ONCHAIN_CLIENT_KIND",
    "UPDATE_ABI",
    "commit_signature",
    "encode_packet_proof",
    "encode_update",
    "update_tuple",
]
