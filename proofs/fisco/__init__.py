"""FISCO BCOS 2.x: header hash, PBFT sealer signatures and finality, tx/receipt proofs.

Libraries: ``rlp`` (the header encoding), keccak-256 from :mod:`proofs.hashing`,
secp256k1 key recovery from ``coincurve`` (libsecp256k1), all already in the
hub. Written here: the 2.x field order, the quorum rule, the 16-ary proof fold
and its structure checks.
"""

from proofs.fisco.header import (
    Header,
    compute_header_hash,
    compute_quorum,
    decode_header,
    verify_header,
)
from proofs.fisco.light_client import HeaderUpdate, update_client
from proofs.fisco.merkle import (
    compute_merkle_proof,
    compute_merkle_root,
    decode_proof,
    verify_merkle_proof,
)

__all__ = [
    "Header",
    "HeaderUpdate",
    "compute_header_hash",
    "compute_merkle_proof",
    "compute_merkle_root",
    "compute_quorum",
    "decode_header",
    "decode_proof",
    "update_client",
    "verify_header",
    "verify_merkle_proof",
]
