"""ICS-23 against every vector of cosmos/ics23 ``testdata`` (read in place from ../shared).

Real proofs (iavl/, tendermint/, smt/): membership must verify, non-membership
must verify, and each must fail for another key, value or root. Unit vectors
(Test*Data.json, Go ``encoding/json``: base64 bytes, int enums, field names
matched case-insensitively as Go does): every case must give its expected
result or error.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from core.errors import RootMismatch, VerificationError
from proofs.ics23 import (
    IAVL_SPEC,
    SMT_SPEC,
    TENDERMINT_SPEC,
    CommitmentProof,
    ExistenceProof,
    InnerOp,
    InnerSpec,
    LeafOp,
    ProofSpec,
    verify_membership,
    verify_non_membership,
)
from proofs.ics23.ops import do_hash
from proofs.ics23.specs import (
    check_inner,
    check_leaf,
    left_branches_are_empty,
    right_branches_are_empty,
)
from tests.fixtures.vectors import vectors_dir

ICS23 = vectors_dir() / "cosmos-ics23"
SPECS = {"iavl": IAVL_SPEC, "tendermint": TENDERMINT_SPEC, "smt": SMT_SPEC}
REAL = sorted(ICS23.glob("*/*.json"))


def _load(name: str) -> object:
    return json.loads((ICS23 / name).read_text())


def _get(obj: Mapping[str, object], name: str, default: object = None) -> object:
    """Go's encoding/json matches field names case-insensitively."""
    for key, value in obj.items():
        if key.lower() == name.lower():
            return value
    return default


def _b64(value: object) -> bytes:
    return base64.b64decode(value) if value else b""


def leaf_of(obj: Mapping[str, object] | None) -> LeafOp | None:
    if obj is None:
        return None
    return LeafOp(
        hash=int(_get(obj, "hash", 0)),
        prehash_key=int(_get(obj, "prehash_key", 0)),
        prehash_value=int(_get(obj, "prehash_value", 0)),
        length=int(_get(obj, "length", 0)),
        prefix=_b64(_get(obj, "prefix")),
    )


def inner_of(obj: Mapping[str, object]) -> InnerOp:
    return InnerOp(int(_get(obj, "hash", 0)), _b64(_get(obj, "prefix")), _b64(_get(obj, "suffix")))


def existence_of(obj: Mapping[str, object]) -> ExistenceProof:
    return ExistenceProof(
        _b64(_get(obj, "key")),
        _b64(_get(obj, "value")),
        leaf_of(_get(obj, "leaf")),
        tuple(inner_of(i) for i in _get(obj, "path") or ()),
    )


def spec_of(obj: Mapping[str, object]) -> ProofSpec:
    inner = _get(obj, "inner_spec") or {}
    return ProofSpec(
        leaf_of(_get(obj, "leaf_spec") or {}) or LeafOp(),
        InnerSpec(
            tuple(_get(inner, "child_order") or ()),
            int(_get(inner, "child_size", 0)),
            int(_get(inner, "min_prefix_length", 0)),
            int(_get(inner, "max_prefix_length", 0)),
            _b64(_get(inner, "empty_child")),
            int(_get(inner, "hash", 0)),
        ),
        int(_get(obj, "max_depth", 0)),
        int(_get(obj, "min_depth", 0)),
        bool(_get(obj, "prehash_key_before_comparison", False)),
    )


def _real(path: Path) -> tuple[ProofSpec, bytes, bytes, bytes, bytes]:
    data = json.loads(path.read_text())
    key, value, root, proof = (bytes.fromhex(data[f]) for f in ("key", "value", "root", "proof"))
    return SPECS[path.parent.name], key, value, root, proof


def _claim(stem: str, spec: ProofSpec, root: bytes, proof: bytes, key: bytes, value: bytes) -> None:
    """Membership for ``exist_*`` files, non-membership for ``nonexist_*``."""
    if stem.startswith("exist"):
        verify_membership(spec, root, proof, key, value)
    else:
        verify_non_membership(spec, root, proof, key)


def test_vector_folder_has_the_eighteen_real_proofs() -> None:
    assert len(REAL) == 18


@pytest.mark.parametrize("path", REAL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_real_proof_verifies(path: Path) -> None:
    spec, key, value, root, proof = _real(path)
    if path.stem.startswith("exist"):
        verify_membership(spec, root, proof, key, value)
    else:
        verify_non_membership(spec, root, proof, key)


@pytest.mark.parametrize("path", REAL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_real_proof_fails_under_another_root(path: Path) -> None:
    spec, key, value, root, proof = _real(path)
    other = bytes([root[0] ^ 1]) + root[1:]
    with pytest.raises(RootMismatch):
        _claim(path.stem, spec, other, proof, key, value)


@pytest.mark.parametrize("path", REAL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_real_proof_fails_for_the_wrong_claim(path: Path) -> None:
    """Membership with another value; non-membership of a key the proof's neighbour holds."""
    spec, key, value, root, proof = _real(path)
    if path.stem.startswith("nonexist"):
        entry = CommitmentProof.decode(proof).entries[0]
        key = (entry.left or entry.right).key
    with pytest.raises(VerificationError):
        _claim(path.stem, spec, root, proof, key, value + b"!")


@pytest.mark.parametrize("path", REAL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_real_proof_fails_under_another_spec(path: Path) -> None:
    spec, key, value, root, proof = _real(path)
    other = TENDERMINT_SPEC if spec is not TENDERMINT_SPEC else IAVL_SPEC
    with pytest.raises(VerificationError):
        _claim(path.stem, other, root, proof, key, value)


def _cases(name: str) -> list[tuple[str, Mapping[str, object]]]:
    data = _load(name)
    assert isinstance(data, dict)
    assert data
    return sorted(data.items())


@pytest.mark.parametrize(("name", "case"), _cases("TestDoHashData.json"))
def test_do_hash(name: str, case: Mapping[str, object]) -> None:
    preimage = str(_get(case, "preimage", "")).encode()
    assert do_hash(int(_get(case, "hashop")), preimage).hex() == _get(case, "expectedhash")


@pytest.mark.parametrize(("name", "case"), _cases("TestLeafOpData.json"))
def test_leaf_op(name: str, case: Mapping[str, object]) -> None:
    op = leaf_of(_get(case, "op"))
    assert op is not None
    key, value = _b64(_get(case, "key")), _b64(_get(case, "value"))
    if _get(case, "iserr"):
        with pytest.raises(VerificationError):
            op.apply(key, value)
    else:
        assert op.apply(key, value) == _b64(_get(case, "expected"))


@pytest.mark.parametrize(("name", "case"), _cases("TestInnerOpData.json"))
def test_inner_op(name: str, case: Mapping[str, object]) -> None:
    op = inner_of(_get(case, "op"))
    child = _b64(_get(case, "child"))
    if _get(case, "iserr"):
        with pytest.raises(VerificationError):
            op.apply(child)
    else:
        assert op.apply(child) == _b64(_get(case, "expected"))


@pytest.mark.parametrize(("name", "case"), _cases("TestExistenceProofData.json"))
def test_existence_proof_calculate(name: str, case: Mapping[str, object]) -> None:
    proof = existence_of(_get(case, "proof"))
    if _get(case, "iserr"):
        with pytest.raises(VerificationError):
            proof.calculate()
    else:
        assert proof.calculate() == _b64(_get(case, "expected"))


@pytest.mark.parametrize(("name", "case"), _cases("TestCheckLeafData.json"))
def test_check_leaf(name: str, case: Mapping[str, object]) -> None:
    leaf = leaf_of(_get(case, "leaf"))
    spec = ProofSpec(leaf_of(_get(case, "spec")) or LeafOp(), InnerSpec())
    assert leaf is not None
    if _get(case, "iserr"):
        with pytest.raises(VerificationError):
            check_leaf(leaf, spec)
    else:
        check_leaf(leaf, spec)


@pytest.mark.parametrize(("name", "case"), _cases("TestCheckAgainstSpecData.json"))
def test_check_against_spec(name: str, case: Mapping[str, object]) -> None:
    proof = existence_of(_get(case, "proof"))
    spec = spec_of(_get(case, "spec"))
    if _get(case, "err"):
        with pytest.raises(VerificationError):
            proof.check_against_spec(spec)
    else:
        proof.check_against_spec(spec)


EMPTY_BRANCH = _load("TestEmptyBranchData.json")


@pytest.mark.parametrize("case", EMPTY_BRANCH, ids=[str(i) for i in range(len(EMPTY_BRANCH))])
def test_empty_branch(case: Mapping[str, object]) -> None:
    op, spec = inner_of(_get(case, "op")), spec_of(_get(case, "spec"))
    check_inner(op, spec, 1)
    assert left_branches_are_empty(spec.inner_spec, op) is bool(_get(case, "isleft"))
    assert right_branches_are_empty(spec.inner_spec, op) is bool(_get(case, "isright"))
