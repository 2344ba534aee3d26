"""proofs.evm.bft: QBFT / IBFT 2.0 committed seals, on the vectors in tests/vectors/qbft."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import rlp
from coincurve import PrivateKey

import core.errors as errors
from core.errors import BadEncoding, BadSignature, InsufficientPower
from proofs.evm.bft import (
    BftExtraData,
    BftFinality,
    BftVariant,
    BftVote,
    compute_bft_block_hash,
    compute_bft_quorum,
    compute_committed_seal_hash,
    decode_bft_extra_data,
    encode_bft_extra_data,
    recover_seal_signer,
    validate_bft_header,
    validators_of,
)
from proofs.evm.finality import FinalityPolicy
from proofs.evm.header import EvmHeader, compute_header_hash, header_from_rpc
from proofs.hashing import keccak256

REPO = Path(__file__).resolve().parents[3]
QBFT_DIR = REPO / "tests" / "vectors" / "qbft"
VECTOR_FILES = {"qbft_chain.json": BftVariant.QBFT, "ibft2_chain.json": BftVariant.IBFT2}


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("qbft_generate", QBFT_DIR / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _vectors() -> dict[str, dict[str, Any]]:
    found = sorted(p.name for p in QBFT_DIR.glob("*.json"))
    if found != sorted(VECTOR_FILES):
        raise AssertionError(f"tests/vectors/qbft holds {found}, expected {sorted(VECTOR_FILES)}")
    return {name: json.loads((QBFT_DIR / name).read_text()) for name in VECTOR_FILES}


VECTORS = _vectors()
CASES = [(name, case) for name, content in VECTORS.items() for case in content["invalid"]]


def _chain(name: str) -> tuple[EvmHeader, list[EvmHeader], BftVariant]:
    content = VECTORS[name]
    return (
        header_from_rpc(content["genesis"]),
        [header_from_rpc(h) for h in content["headers"]],
        VECTOR_FILES[name],
    )


def test_committed_vectors_equal_a_fresh_generation() -> None:
    generator = _load_generator()
    fresh = generator.build_vectors()
    assert sorted(fresh) == sorted(VECTOR_FILES)
    for name, content in fresh.items():
        assert (QBFT_DIR / name).read_text() == generator.render(content), name


@pytest.mark.parametrize("name", sorted(VECTOR_FILES))
def test_vector_hashes_match_the_independent_generator(name: str) -> None:
    genesis, headers, variant = _chain(name)
    assert compute_bft_block_hash(genesis, variant).hex() == VECTORS[name]["genesis"]["hash"][2:]
    for header, raw in zip(headers, VECTORS[name]["headers"], strict=True):
        assert compute_bft_block_hash(header, variant).hex() == raw["hash"][2:]
        assert compute_committed_seal_hash(header, variant).hex() == raw["sealHash"][2:]
        # on a BFT chain keccak(rlp(header)) is not the block hash
        assert compute_header_hash(header) != compute_bft_block_hash(header, variant)


@pytest.mark.parametrize("name", sorted(VECTOR_FILES))
def test_valid_chain_is_final_header_by_header(name: str) -> None:
    genesis, headers, variant = _chain(name)
    policy = BftFinality(variant)
    assert isinstance(policy, FinalityPolicy)
    assert policy.validate_finality(genesis, headers) == headers[-1]
    expected = VECTORS[name]["expected_validators"]
    trusted = validators_of(genesis, variant)
    for header, listed in zip(headers, expected, strict=True):
        data = validate_bft_header(header, trusted, variant)
        assert ["0x" + v.hex() for v in data.validators] == listed
        trusted = data.validators


@pytest.mark.parametrize(("name", "case"), CASES, ids=[f"{n[:5]}-{c['name']}" for n, c in CASES])
def test_invalid_vector_fails_with_its_error(name: str, case: dict[str, Any]) -> None:
    genesis, headers, variant = _chain(name)
    segment = [*headers[: case["replaces"] - 1], header_from_rpc(case["header"])]
    error = getattr(errors, case["error"])
    with pytest.raises(error) as info:
        BftFinality(variant).validate_finality(genesis, segment)
    assert type(info.value) is error, info.value
    if "check" in case:
        assert info.value.details["check"] == case["check"]
    if case["error"] != "BadEncoding":
        assert info.value.details["height"] == segment[-1].number


def test_each_variant_has_the_same_fourteen_invalid_cases() -> None:
    names = [[c["name"] for c in content["invalid"]] for content in VECTORS.values()]
    assert names[0] == names[1]
    assert len(names[0]) == 14


# --- codec ------------------------------------------------------------------------------

VOTER = b"\x42" * 20
DATA = BftExtraData(
    vanity=b"\x01" * 32,
    validators=(b"\x0a" * 20, b"\x0b" * 20),
    vote=BftVote(VOTER, add=False),
    round=3,
    seals=(b"\x05" * 65,),
)


@pytest.mark.parametrize("variant", list(BftVariant))
@pytest.mark.parametrize("vote", [None, BftVote(VOTER, add=True), BftVote(VOTER, add=False)])
@pytest.mark.parametrize("round_", [0, 1, 2**32 - 1])
def test_extra_data_round_trips(variant: BftVariant, vote: BftVote | None, round_: int) -> None:
    data = BftExtraData(DATA.vanity, DATA.validators, vote, round_, DATA.seals)
    assert decode_bft_extra_data(encode_bft_extra_data(data, variant), variant) == data


def test_qbft_and_ibft2_encodings_differ_as_besu_does() -> None:
    qbft = rlp.decode(encode_bft_extra_data(DATA, BftVariant.QBFT))
    ibft = rlp.decode(encode_bft_extra_data(DATA, BftVariant.IBFT2))
    assert qbft[2] == [VOTER, b""]
    assert ibft[2] == [VOTER, b"\x00"]
    assert qbft[3] == b"\x03"
    assert ibft[3] == b"\x00\x00\x00\x03"
    none = BftExtraData(DATA.vanity, DATA.validators, None, 0)
    assert rlp.decode(encode_bft_extra_data(none, BftVariant.QBFT))[2:4] == [[], b""]
    assert rlp.decode(encode_bft_extra_data(none, BftVariant.IBFT2))[2] == b""
    # committed-seal and on-chain forms
    q_seal = rlp.decode(encode_bft_extra_data(DATA, BftVariant.QBFT, seals=False))
    q_chain = rlp.decode(
        encode_bft_extra_data(DATA, BftVariant.QBFT, seals=False, round_number=False)
    )
    assert q_seal[3:] == [b"\x03", []]
    assert q_chain[3:] == [b"", []]
    i_seal = rlp.decode(encode_bft_extra_data(DATA, BftVariant.IBFT2, seals=False))
    i_chain = rlp.decode(
        encode_bft_extra_data(DATA, BftVariant.IBFT2, seals=False, round_number=False)
    )
    assert len(i_seal) == 4
    assert len(i_chain) == 3


def _qbft_items() -> list[Any]:
    return rlp.decode(encode_bft_extra_data(DATA, BftVariant.QBFT))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda items: items[:4], "list of 5 items"),
        (lambda items: [*items, b""], "list of 5 items"),
        (lambda items: [b"\x01" * 33, *items[1:]], "vanity must be 32 bytes"),
        (lambda items: [items[0], [b"\x0a" * 19], *items[2:]], "20-byte addresses"),
        (lambda items: [*items[:2], b"", *items[3:]], "vote must be"),
        (lambda items: [*items[:2], [VOTER, b"\x01"], *items[3:]], "add \\(0xff\\) or drop"),
        (lambda items: [*items[:3], b"\x00\x03", items[4]], "minimal integer"),
        (lambda items: [*items[:3], b"\x01" * 5, items[4]], "minimal integer"),
        (lambda items: [*items[:4], [b"\x05" * 64]], "65-byte signatures"),
    ],
    ids=range(9),
)
def test_qbft_decoder_rejects_malformed_extra_data(mutate, message: str) -> None:
    with pytest.raises(BadEncoding, match=message):
        decode_bft_extra_data(rlp.encode(mutate(_qbft_items())), BftVariant.QBFT)


def test_ibft2_decoder_rejects_qbft_extra_data_and_vice_versa() -> None:
    with pytest.raises(BadEncoding):
        decode_bft_extra_data(encode_bft_extra_data(DATA, BftVariant.QBFT), BftVariant.IBFT2)
    with pytest.raises(BadEncoding):
        decode_bft_extra_data(encode_bft_extra_data(DATA, BftVariant.IBFT2), BftVariant.QBFT)
    with pytest.raises(BadEncoding):
        decode_bft_extra_data(b"\x42", BftVariant.QBFT)


@pytest.mark.parametrize(("n", "quorum"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 4), (6, 4), (7, 5)])
def test_quorum_is_besu_ceil_two_thirds(n: int, quorum: int) -> None:
    assert compute_bft_quorum(n) == quorum


# --- seal recovery ----------------------------------------------------------------------

KEY = PrivateKey(keccak256(b"seal test key"))
DIGEST = keccak256(b"header")
SEAL = KEY.sign_recoverable(DIGEST, hasher=None)
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_seal_recovers_the_signer_address() -> None:
    expected = keccak256(KEY.public_key.format(compressed=False)[1:])[12:]
    assert recover_seal_signer(SEAL, DIGEST) == expected


@pytest.mark.parametrize(
    ("seal", "message"),
    [
        (SEAL[:64], "65 bytes"),
        (SEAL[:64] + b"\x02", "recovery id"),
        (bytes(32) + SEAL[32:], "out of range"),
        (SEAL[:32] + N.to_bytes(32, "big") + SEAL[64:], "out of range"),
        (
            SEAL[:32]
            + (N - int.from_bytes(SEAL[32:64], "big")).to_bytes(32, "big")
            + bytes([SEAL[64] ^ 1]),
            "malleable",
        ),
    ],
    ids=["short", "v=2", "r=0", "s=n", "high-s"],
)
def test_bad_seals_are_rejected(seal: bytes, message: str) -> None:
    with pytest.raises(BadSignature, match=message):
        recover_seal_signer(seal, DIGEST)


def test_trusted_set_needs_more_than_a_third_of_its_members() -> None:
    _genesis, headers, variant = _chain("qbft_chain.json")
    block_3 = headers[2]  # sealed by validators 0, 2, 3 and the new validator 4
    listed = validators_of(block_3, variant)
    # trusted = {v1, v4, x, y}: only v4 of 4 signed -> 1/4 is not more than 1/3
    strangers = (b"\x01" * 20, b"\x02" * 20)
    with pytest.raises(InsufficientPower):
        validate_bft_header(block_3, (listed[1], listed[4], *strangers), variant)
    # trusted = {v1, v4, v0}: two of three signed
    validate_bft_header(block_3, (listed[1], listed[4], listed[0]), variant)
