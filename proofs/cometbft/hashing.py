"""Header and validator-set hashes: RFC 6962 Merkle roots over protobuf leaves.

CometBFT's ``crypto/merkle.HashFromByteSlices`` is the RFC 6962 tree
(leaf ``sha256(0x00 || data)``, node ``sha256(0x01 || l || r)``, split at the
largest power of two below n, ``sha256("")`` when empty), so the project's
:func:`proofs.merkle.merkle_root` computes it.
"""

from __future__ import annotations

from proofs.cometbft.encoding import header_field_bytes, simple_validator_bytes
from proofs.cometbft.types import Header, ValidatorSet
from proofs.merkle import merkle_root


def header_hash(header: Header) -> bytes:
    """``Header.Hash()``: the Merkle root of the 14 encoded header fields."""
    return merkle_root(header_field_bytes(header))


def validator_set_hash(validators: ValidatorSet) -> bytes:
    """``ValidatorSet.Hash()``: Merkle root of the ``SimpleValidator`` encodings, in set order."""
    return merkle_root([simple_validator_bytes(v) for v in validators.validators])


__all__ = ["header_hash", "validator_set_hash"]
