"""The typed refusals of the FISCO BCOS 2.x verifier (``core.errors`` subclasses, stable codes)."""

from __future__ import annotations

from core.errors import (
    BadEncoding,
    BadProof,
    BadSignature,
    InsufficientPower,
    InvalidHeader,
    RootMismatch,
)


class MalformedHeader(BadEncoding):
    """A header, signature or proof field does not decode (hex, length, type)."""

    code = "fisco-malformed"


class HeaderHashMismatch(InvalidHeader):
    """``hash`` is not keccak-256 of the RLP list of the 13 header fields."""

    code = "fisco-header-hash"


class SealerListMismatch(InvalidHeader):
    """The header's ``sealerList`` is not the trusted sealer list."""

    code = "fisco-sealer-list"


class SealerIndexOutOfRange(BadSignature):
    """A signature (or the ``sealer`` field) names an index past the sealer list."""

    code = "fisco-sealer-index"


class DuplicateSealer(BadSignature):
    """Two signatures name the same sealer index."""

    code = "fisco-duplicate-sealer"


class BadSealerSignature(BadSignature):
    """A signature does not recover to ``sealerList[index]`` over the block hash."""

    code = "fisco-sealer-signature"


class InsufficientSealers(InsufficientPower):
    """Fewer than ``n - floor((n - 1) / 3)`` distinct sealers signed."""

    code = "fisco-insufficient-sealers"


class UnendorsedSealerChange(InsufficientPower):
    """A new sealer list is not signed by a quorum of the trusted sealers."""

    code = "fisco-sealer-change"


class BadMerkleProof(BadProof):
    """A transaction or receipt proof is malformed (step width, position, sibling encoding)."""

    code = "fisco-merkle-proof"


class ProofRootMismatch(RootMismatch):
    """A well-formed proof folds to another root than the header's."""

    code = "fisco-proof-root"


class NonIncreasingNumber(InvalidHeader):
    """The header is not above the trusted block number."""

    code = "fisco-non-increasing-number"


class ParentMismatch(InvalidHeader):
    """An adjacent header's ``parentHash`` is not the trusted hash."""

    code = "fisco-parent-hash"


__all__ = [
    "BadMerkleProof",
    "BadSealerSignature",
    "DuplicateSealer",
    "HeaderHashMismatch",
    "InsufficientSealers",
    "MalformedHeader",
    "NonIncreasingNumber",
    "ParentMismatch",
    "ProofRootMismatch",
    "SealerIndexOutOfRange",
    "SealerListMismatch",
    "UnendorsedSealerChange",
]
