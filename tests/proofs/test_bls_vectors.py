"""Every BLS12-381 conformance vector in ``shared/vectors/bls12-381``, on every backend.

The eth-bls12-381 v0.1.1 files (one case per file) run through the facade for each
backend: py_ecc (reference), milagro alone, and milagro with the arkworks
accelerator when that optional package is installed. Valid and invalid cases alike
assert the exact expected output; rejections also assert the typed reason where the
case name fixes it. The file counts are asserted first, so a missing folder fails
instead of quietly testing less.
"""

from __future__ import annotations

import importlib
import json
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from _pytest.mark import ParameterSet
from py_ecc.bls.hash_to_curve import (
    hash_to_field_FQ,
    hash_to_field_FQ2,
    hash_to_G1,
    hash_to_G2,
    map_to_curve_G1,
    map_to_curve_G2,
)
from py_ecc.optimized_bls12_381 import normalize

import proofs.bls as bls
from core.errors import (
    BadEncoding,
    BadSignature,
    InfinityPoint,
    InvalidInput,
    NotInSubgroup,
    VerificationError,
)
from tests.fixtures.vectors import vectors_dir

BLS_DIR = vectors_dir() / "bls12-381"
ETH_DIR = BLS_DIR / "eth-bls12-381-tests-v0.1.1"
H2C_DIR = BLS_DIR / "hash-to-curve"

EXPECTED_COUNTS = {
    "sign": 10,
    "verify": 29,
    "aggregate": 6,
    "fast_aggregate_verify": 12,
    "aggregate_verify": 5,
    "batch_verify": 2,
    "deserialization_G1": 13,
    "deserialization_G2": 15,
    "hash_to_G2": 4,
}
H2C_G2 = "tv_h2c_v8_BLS12_381_hash_to_G2_SHA256_SSWU_RO.json"
H2C_G1 = "tv_h2c_v8_BLS12_381_hash_to_G1_SHA256_SSWU_RO.json"
QUUX_G2_DST = b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_"

try:
    import py_arkworks_bls12381  # noqa: F401  (optional accelerator of the fast backend)
except ImportError:
    _ARKWORKS = False
else:
    _ARKWORKS = True
BACKEND_PARAMS = [
    pytest.param("py_ecc", id="py_ecc"),
    pytest.param("milagro", id="milagro"),
    pytest.param(
        "milagro+arkworks",
        id="milagro+arkworks",
        marks=()
        if _ARKWORKS
        else pytest.mark.skip(reason="py_arkworks_bls12381 (optional accelerator) not installed"),
    ),
]


def make_backend(name: str) -> bls.Backend:
    """A backend by test id; the milagro ones fail loudly when milagro is missing."""
    if name == "py_ecc":
        return bls.get_backend("py_ecc")
    milagro = importlib.import_module("proofs.bls._milagro")
    backend: bls.Backend = milagro.MilagroBackend(use_arkworks=name == "milagro+arkworks")
    return backend


@pytest.fixture(params=BACKEND_PARAMS, scope="module")
def backend(request: pytest.FixtureRequest) -> bls.Backend:
    return make_backend(request.param)


def _unhex(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


def _cases(handler: str) -> list[ParameterSet]:
    return [pytest.param(p, id=p.stem) for p in sorted((ETH_DIR / handler).glob("*.json"))]


def _fp2(text: str) -> tuple[int, int]:
    c0, c1 = text.split(",")
    return int(c0, 16), int(c1, 16)


def _h2c_vectors(name: str) -> list[ParameterSet]:
    data = _load(H2C_DIR / name)
    return [
        pytest.param(data["dst"].encode(), v, id=f"msg={v['msg'][:24] or 'empty'}")
        for v in data["vectors"]
    ]


# --- the inventory -----------------------------------------------------------------


def test_vector_inventory() -> None:
    """Every handler folder is present with its PROVENANCE.md count, and nothing else."""
    found = {d.name: len(list(d.glob("*.json"))) for d in ETH_DIR.iterdir() if d.is_dir()}
    assert found == EXPECTED_COUNTS
    assert sum(found.values()) == 96
    assert sorted(p.name for p in H2C_DIR.glob("*.json")) == sorted([H2C_G1, H2C_G2])


# --- eth-bls12-381 handlers ----------------------------------------------------------


@pytest.mark.parametrize("path", _cases("sign"))
def test_sign(backend: bls.Backend, path: Path) -> None:
    case = _load(path)
    secret = int.from_bytes(_unhex(case["input"]["privkey"]), "big")
    message = _unhex(case["input"]["message"])
    if case["output"] is None:
        with pytest.raises(InvalidInput):
            bls.sign(secret, message, backend=backend)
        with pytest.raises(InvalidInput):
            bls.secret_key_from_bytes(_unhex(case["input"]["privkey"]))
        return
    assert bls.sign(secret, message, backend=backend) == _unhex(case["output"])


def _expected_reason(name: str) -> type[Exception]:
    if "_valid" in name:
        raise AssertionError("valid cases have no reason")
    if "infinity_pubkey" in name:
        return InfinityPoint
    if "_na_pubkeys" in name:
        return InvalidInput
    if "wrong_pubkey" in name or "extra_pubkey" in name:
        return BadSignature
    return VerificationError  # tampered: bad encoding, subgroup or pairing, all fine


@pytest.mark.parametrize("path", _cases("verify"))
def test_verify(backend: bls.Backend, path: Path) -> None:
    case = _load(path)
    args = (
        _unhex(case["input"]["pubkey"]),
        _unhex(case["input"]["message"]),
        _unhex(case["input"]["signature"]),
    )
    assert bls.verify(*args, backend=backend) is case["output"]
    if case["output"]:
        bls.validate_verify(*args, backend=backend)
    else:
        with pytest.raises(_expected_reason(path.stem)):
            bls.validate_verify(*args, backend=backend)


@pytest.mark.parametrize("path", _cases("aggregate"))
def test_aggregate(backend: bls.Backend, path: Path) -> None:
    case = _load(path)
    signatures = [_unhex(s) for s in case["input"]]
    if case["output"] is None:
        with pytest.raises(InvalidInput):
            bls.aggregate(signatures, backend=backend)
        return
    assert bls.aggregate(signatures, backend=backend) == _unhex(case["output"])


@pytest.mark.parametrize("path", _cases("fast_aggregate_verify"))
def test_fast_aggregate_verify(backend: bls.Backend, path: Path) -> None:
    case = _load(path)
    pubkeys = [_unhex(p) for p in case["input"]["pubkeys"]]
    message = _unhex(case["input"]["message"])
    signature = _unhex(case["input"]["signature"])
    assert (
        bls.fast_aggregate_verify(pubkeys, message, signature, backend=backend) is (case["output"])
    )
    if case["output"]:
        bls.validate_fast_aggregate_verify(pubkeys, message, signature, backend=backend)
    else:
        with pytest.raises(_expected_reason(path.stem)):
            bls.validate_fast_aggregate_verify(pubkeys, message, signature, backend=backend)


@pytest.mark.parametrize("path", _cases("fast_aggregate_verify"))
def test_fast_aggregate_verify_through_validator_set(backend: bls.Backend, path: Path) -> None:
    """The cached path gives the same verdicts: bad keys are refused at construction."""
    case = _load(path)
    pubkeys = [_unhex(p) for p in case["input"]["pubkeys"]]
    message = _unhex(case["input"]["message"])
    signature = _unhex(case["input"]["signature"])
    try:
        keys = bls.ValidatorSetKeys(pubkeys, backend=backend)
    except (VerificationError, InvalidInput):
        assert case["output"] is False
        return
    signers = range(len(pubkeys))
    assert keys.verify(signers, message, signature) is case["output"]
    assert keys.verify_bitmap(keys.bitmap(signers), message, signature) is case["output"]


@pytest.mark.parametrize("path", _cases("aggregate_verify"))
def test_aggregate_verify(backend: bls.Backend, path: Path) -> None:
    case = _load(path)
    pubkeys = [_unhex(p) for p in case["input"]["pubkeys"]]
    messages = [_unhex(m) for m in case["input"]["messages"]]
    signature = _unhex(case["input"]["signature"])
    assert bls.aggregate_verify(pubkeys, messages, signature, backend=backend) is (case["output"])
    if case["output"]:
        bls.validate_aggregate_verify(pubkeys, messages, signature, backend=backend)
    else:
        with pytest.raises(_expected_reason(path.stem)):
            bls.validate_aggregate_verify(pubkeys, messages, signature, backend=backend)


@pytest.mark.parametrize("path", _cases("batch_verify"))
def test_batch_verify(backend: bls.Backend, path: Path) -> None:
    case = _load(path)
    sets = [
        bls.SignatureSet(_unhex(p), _unhex(m), _unhex(s))
        for p, m, s in zip(
            case["input"]["pubkeys"],
            case["input"]["messages"],
            case["input"]["signatures"],
            strict=True,
        )
    ]
    assert bls.batch_verify(sets, backend=backend) is case["output"]


@pytest.mark.parametrize("path", _cases("deserialization_G1"))
def test_deserialization_g1(backend: bls.Backend, path: Path) -> None:
    case = _load(path)
    data = _unhex(case["input"]["pubkey"])
    ok = bls.is_valid_pubkey(data, allow_infinity=True, backend=backend)
    assert ok is case["output"]
    if not case["output"]:
        reason = NotInSubgroup if "not_in_G1" in path.stem else BadEncoding
        with pytest.raises(reason):
            bls.validate_pubkey(data, allow_infinity=True, backend=backend)


@pytest.mark.parametrize("path", _cases("deserialization_G2"))
def test_deserialization_g2(backend: bls.Backend, path: Path) -> None:
    """Includes ``not_in_G2``, which a decoder without a subgroup check accepts."""
    case = _load(path)
    data = _unhex(case["input"]["signature"])
    assert bls.is_valid_signature(data, backend=backend) is case["output"]
    if not case["output"]:
        reason = NotInSubgroup if "not_in_G2" in path.stem else BadEncoding
        with pytest.raises(reason):
            bls.validate_signature(data, backend=backend)


@pytest.mark.parametrize("path", _cases("hash_to_G2"))
def test_hash_to_g2(backend: bls.Backend, path: Path) -> None:
    """Hashed with the hash-to-curve draft's QUUX tag, not the signature tag."""
    case = _load(path)
    expected = (_fp2(case["output"]["x"]), _fp2(case["output"]["y"]))
    message = case["input"]["msg"].encode()
    assert bls.hash_to_g2(message, QUUX_G2_DST, backend=backend) == expected


# --- hash-to-curve suite files -------------------------------------------------------


@pytest.mark.parametrize(("dst", "vector"), _h2c_vectors(H2C_G2))
def test_hash_to_curve_g2_suite(backend: bls.Backend, dst: bytes, vector: dict[str, Any]) -> None:
    expected = (_fp2(vector["P"]["x"]), _fp2(vector["P"]["y"]))
    assert bls.hash_to_g2(vector["msg"].encode(), dst, backend=backend) == expected


def _fq2_ints(value: Any) -> tuple[int, int]:
    return int(value.coeffs[0]), int(value.coeffs[1])


@pytest.mark.parametrize(("dst", "vector"), _h2c_vectors(H2C_G2))
def test_hash_to_curve_g2_steps_py_ecc(dst: bytes, vector: dict[str, Any]) -> None:
    """The intermediate values (u, Q0, Q1) of py_ecc, the reference the facade trusts."""
    msg = vector["msg"].encode()
    u = hash_to_field_FQ2(msg, 2, dst, sha256)
    assert [_fq2_ints(x) for x in u] == [_fp2(x) for x in vector["u"]]
    for u_i, name in zip(u, ("Q0", "Q1"), strict=True):
        x, y = normalize(map_to_curve_G2(u_i))
        assert (_fq2_ints(x), _fq2_ints(y)) == (_fp2(vector[name]["x"]), _fp2(vector[name]["y"]))
    x, y = normalize(hash_to_G2(msg, dst, sha256))
    assert (_fq2_ints(x), _fq2_ints(y)) == (_fp2(vector["P"]["x"]), _fp2(vector["P"]["y"]))


@pytest.mark.parametrize(("dst", "vector"), _h2c_vectors(H2C_G1))
def test_hash_to_curve_g1_suite_py_ecc(dst: bytes, vector: dict[str, Any]) -> None:
    """G1 hashing is not part of this suite (keys are in G1, messages hash to G2); the
    file is checked against py_ecc so no stored vector goes unused."""
    msg = vector["msg"].encode()
    u = hash_to_field_FQ(msg, 2, dst, sha256)
    assert [int(x) for x in u] == [int(x, 16) for x in vector["u"]]
    for u_i, name in zip(u, ("Q0", "Q1"), strict=True):
        x, y = normalize(map_to_curve_G1(u_i))
        assert (int(x), int(y)) == (int(vector[name]["x"], 16), int(vector[name]["y"], 16))
    x, y = normalize(hash_to_G1(msg, dst, sha256))
    assert (int(x), int(y)) == (int(vector["P"]["x"], 16), int(vector["P"]["y"], 16))
