"""ICS-23 (Cosmos / IBC) vector-commitment proofs, verified in pure Python.

Hand-written: no maintained PyPI package verifies ICS-23 proofs (the
reference implementations are Go, Rust and TypeScript; the Python Cosmos
SDKs only carry the generated message types). This package follows the Go
reference ``cosmos/ics23`` (``ops.go``, ``proof.go``, ``ics23.go``) and
passes every vector of its ``testdata``: IAVL, Tendermint and SMT membership
and non-membership proofs, and the unit vectors of the operations.

``ops`` hash/length/leaf/inner operations · ``specs`` proof specs and the
format checks · ``proofs`` decoding and verification · ``wire`` the protobuf
reader · ``errors`` the typed refusals.
"""

from proofs.ics23.ops import HashOp, InnerOp, LeafOp, LengthOp
from proofs.ics23.proofs import (
    CommitmentProof,
    ExistenceProof,
    NonExistenceProof,
    verify_chained_membership,
    verify_chained_non_membership,
    verify_existence,
    verify_membership,
    verify_non_existence,
    verify_non_membership,
)
from proofs.ics23.specs import IAVL_SPEC, SMT_SPEC, TENDERMINT_SPEC, InnerSpec, ProofSpec

__all__ = [
    "IAVL_SPEC",
    "SMT_SPEC",
    "TENDERMINT_SPEC",
    "CommitmentProof",
    "ExistenceProof",
    "HashOp",
    "InnerOp",
    "InnerSpec",
    "LeafOp",
    "LengthOp",
    "NonExistenceProof",
    "ProofSpec",
    "verify_chained_membership",
    "verify_chained_non_membership",
    "verify_existence",
    "verify_membership",
    "verify_non_existence",
    "verify_non_membership",
]
