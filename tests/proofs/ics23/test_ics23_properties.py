"""Property: any single-byte change to a real ICS-23 proof is rejected.

One span is exempt, on purpose: the ``key`` field of a ``NonExistenceProof``
is informational: neither the Go reference nor this verifier reads it (the
key asked about is what is checked against the neighbours), so changing it
leaves a proof that still proves the asked key absent.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.errors import VerificationError
from proofs.ics23 import (
    IAVL_SPEC,
    SMT_SPEC,
    TENDERMINT_SPEC,
    verify_membership,
    verify_non_membership,
)
from proofs.ics23.wire import read_uvarint
from tests.fixtures.vectors import vectors_dir

ICS23 = vectors_dir() / "cosmos-ics23"
SPECS = {"iavl": IAVL_SPEC, "tendermint": TENDERMINT_SPEC, "smt": SMT_SPEC}
CASES = sorted(ICS23.glob("*/*.json"))


def _informational_span(proof: bytes) -> range:
    """Byte range of ``CommitmentProof.nonexist.key`` (empty for an existence proof)."""
    if proof[0] != 0x12:  # field 2, length-delimited: nonexist
        return range(0)
    _, body = read_uvarint(proof, 1)
    if proof[body] != 0x0A:  # field 1 of NonExistenceProof: key
        return range(0)
    length, start = read_uvarint(proof, body + 1)
    return range(body, start + length)


def _check(path, proof: bytes, root: bytes) -> None:
    data = json.loads(path.read_text())
    spec = SPECS[path.parent.name]
    key, value = bytes.fromhex(data["key"]), bytes.fromhex(data["value"])
    if path.stem.startswith("exist"):
        verify_membership(spec, root, proof, key, value)
    else:
        verify_non_membership(spec, root, proof, key)


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_flipping_a_proof_byte_is_rejected(path, data) -> None:
    raw = json.loads(path.read_text())
    proof, root = bytearray.fromhex(raw["proof"]), bytes.fromhex(raw["root"])
    index = data.draw(st.integers(0, len(proof) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="mask")
    assume(index not in _informational_span(bytes(proof)))
    proof[index] ^= mask
    with pytest.raises(VerificationError):
        _check(path, bytes(proof), root)


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
@settings(max_examples=10, deadline=None)
@given(cut=st.integers(1, 64))
def test_truncated_proof_is_rejected(path, cut: int) -> None:
    raw = json.loads(path.read_text())
    proof, root = bytes.fromhex(raw["proof"]), bytes.fromhex(raw["root"])
    with pytest.raises(VerificationError):
        _check(path, proof[: max(0, len(proof) - cut)], root)
