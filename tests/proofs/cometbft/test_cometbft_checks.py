"""One broken field per case ("malleate"), from a real SUCCESS step; the exact error asserted.

Base: the first non-adjacent SUCCESS step of ``MC4_4_faulty_TestSuccess.json``
(replayed from its initial block). Signed misbehaviour cases use ``builder``
(no vector holds a fork).
"""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from typing import Any

import pytest

from core.errors import ClientFrozen, InvalidHeader, InvalidInput, RootMismatch
from core.types import InclusionProof
from proofs.cometbft import (
    CometBftLightClient,
    CometClientState,
    LightBlock,
    SignedHeader,
    TrustedBlock,
    TrustOptions,
    ValidatorSet,
    check_misbehaviour,
    freeze,
    parse_time,
    trusted_header,
    verify_adjacent,
    verify_bisection,
    verify_light_block,
    verify_skipping,
)
from proofs.cometbft import errors as e
from proofs.cometbft.encoding import field_bytes, field_message, field_varint
from proofs.cometbft.signatures import is_valid_ed25519
from proofs.cometbft.types import NS_PER_SECOND
from proofs.ics23.ops import HashOp, LeafOp, LengthOp
from tests.fixtures.vectors import vectors_dir
from tests.proofs.cometbft import builder

BASE = vectors_dir() / "cometbft-light-client/tendermint-rs/model_based/single_step"
DATA = json.loads((BASE / "MC4_4_faulty_TestSuccess.json").read_text())
PERIOD = int(DATA["initial"]["trusting_period"])
OPTIONS = TrustOptions(trusting_period_ns=PERIOD, max_clock_drift_ns=0)


def _replay() -> tuple[TrustedBlock, dict[str, Any], int]:
    """The trusted block before the file's first non-adjacent SUCCESS step, that step, its now."""
    state = TrustedBlock.from_signed_header(
        SignedHeader.from_json(DATA["initial"]["signed_header"]),
        ValidatorSet.from_json(DATA["initial"]["next_validator_set"]),
    )
    for step in DATA["input"]:
        if step["verdict"] != "SUCCESS":
            continue
        block = LightBlock.from_json(step["block"])
        if block.height > state.height + 1:
            return state, step["block"], parse_time(step["now"])
        state = verify_light_block(state, block, OPTIONS, parse_time(step["now"]))
    raise AssertionError("no non-adjacent SUCCESS step in the base file")


_TRUSTED, _BLOCK, NOW = _replay()


def trusted() -> TrustedBlock:
    return _TRUSTED


def block_json() -> dict[str, Any]:
    return copy.deepcopy(_BLOCK)


def verify(raw: dict[str, Any], *, now: int = NOW, options: TrustOptions = OPTIONS) -> TrustedBlock:
    return verify_light_block(trusted(), LightBlock.from_json(raw), options, now)


def test_base_step_verifies() -> None:
    new = verify(block_json())
    assert new.height == LightBlock.from_json(block_json()).height > trusted().height + 1


def test_signature_byte_flipped_is_bad_signature() -> None:
    raw = block_json()
    sig = raw["signed_header"]["commit"]["signatures"][0]
    sig["signature"] = (
        "A" + sig["signature"][1:] if sig["signature"][0] != "A" else "B" + sig["signature"][1:]
    )
    with pytest.raises(e.InvalidCommitSignature):
        verify(raw)


def test_vote_timestamp_changed_is_bad_signature() -> None:
    raw = block_json()
    raw["signed_header"]["commit"]["signatures"][0]["timestamp"] = "1970-01-01T00:00:06Z"
    with pytest.raises(e.InvalidCommitSignature):
        verify(raw)


def test_app_hash_changed_breaks_header_commit_link() -> None:
    raw = block_json()
    raw["signed_header"]["header"]["app_hash"] = "00" * 32
    with pytest.raises(e.HeaderCommitMismatch):
        verify(raw)


def test_other_validator_set_is_validators_hash_mismatch() -> None:
    raw = block_json()
    raw["validator_set"] = DATA["initial"]["next_validator_set"]
    with pytest.raises(e.ValidatorsHashMismatch):
        verify(raw)


def test_other_next_set_is_next_validators_hash_mismatch() -> None:
    raw = block_json()
    raw["next_validator_set"] = DATA["initial"]["next_validator_set"]
    with pytest.raises(e.NextValidatorsHashMismatch):
        verify(raw)


def test_header_from_future() -> None:
    header_time = parse_time(block_json()["signed_header"]["header"]["time"])
    with pytest.raises(e.HeaderFromFuture):
        verify(block_json(), now=header_time)


def test_clock_drift_admits_a_header_just_ahead() -> None:
    header_time = parse_time(block_json()["signed_header"]["header"]["time"])
    drift = TrustOptions(trusting_period_ns=PERIOD, max_clock_drift_ns=NS_PER_SECOND)
    assert verify(block_json(), now=header_time, options=drift).height > trusted().height


def test_trusted_state_expired() -> None:
    with pytest.raises(e.TrustExpired):
        verify(block_json(), now=trusted().time_ns + PERIOD)


@pytest.mark.parametrize("level", [Fraction(1, 4), Fraction(4, 3), 0.5])
def test_trust_level_outside_one_third_to_one_is_refused(level: object) -> None:
    with pytest.raises(InvalidInput):
        TrustOptions(trusting_period_ns=PERIOD, trust_level=level)  # type: ignore[arg-type]


def test_verify_adjacent_and_skipping_check_the_height_relation() -> None:
    block = LightBlock.from_json(block_json())
    with pytest.raises(InvalidInput):
        verify_adjacent(trusted(), block, OPTIONS, NOW)
    assert verify_skipping(trusted(), block, OPTIONS, NOW).height == block.height


def test_signer_outside_the_set_is_unknown_signer() -> None:
    raw = block_json()
    raw["signed_header"]["commit"]["signatures"][0]["validator_address"] = "AB" * 20
    with pytest.raises(e.UnknownSigner):
        verify(raw)


def test_libsodium_rejects_non_canonical_s() -> None:
    """S + L (the group order) verifies under a lax verifier; libsodium refuses it."""
    key = builder.keys(1)[0]
    sig = key.sign(b"msg").signature
    order = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(sig[32:], "little") + order
    malleated = sig[:32] + s.to_bytes(32, "little")
    assert is_valid_ed25519(bytes(key.verify_key), b"msg", sig)
    assert not is_valid_ed25519(bytes(key.verify_key), b"msg", malleated)


def test_libsodium_rejects_small_order_key() -> None:
    identity = (1).to_bytes(32, "little")  # the neutral point: order 1
    assert not is_valid_ed25519(identity, b"msg", identity + bytes(32))


# --- misbehaviour, the seam, bisection (builder-signed blocks) ---------------------------------

KEYS = builder.keys(4)
OPTS = TrustOptions(trusting_period_ns=1000 * NS_PER_SECOND, max_clock_drift_ns=0)


def anchor() -> TrustedBlock:
    first = LightBlock.from_json(builder.light_block(1, 100, KEYS))
    assert first.next_validators is not None
    return TrustedBlock.from_signed_header(first.signed_header, first.next_validators)


def test_builder_blocks_verify_adjacent() -> None:
    block = LightBlock.from_json(builder.light_block(2, 110, KEYS))
    assert verify_adjacent(anchor(), block, OPTS, 200 * NS_PER_SECOND).height == 2


def test_two_thirds_not_reached_is_insufficient_signers() -> None:
    block = LightBlock.from_json(builder.light_block(2, 110, KEYS, sign_with=KEYS[:2]))
    with pytest.raises(e.InsufficientSigners):
        verify_adjacent(anchor(), block, OPTS, 200 * NS_PER_SECOND)


def test_trust_level_is_configurable_as_a_fraction() -> None:
    """3 of 4 equal validators sign a skipping block: enough at 1/3 and 2/3, not at 1."""
    raw = builder.light_block(5, 150, KEYS, sign_with=KEYS[:3])
    for level in (Fraction(1, 3), Fraction(2, 3)):
        options = TrustOptions(
            trusting_period_ns=OPTS.trusting_period_ns, max_clock_drift_ns=0, trust_level=level
        )
        assert verify_skipping(anchor(), LightBlock.from_json(raw), options, 200 * NS_PER_SECOND)
    strict = TrustOptions(
        trusting_period_ns=OPTS.trusting_period_ns, max_clock_drift_ns=0, trust_level=Fraction(1)
    )
    with pytest.raises(e.NotEnoughTrust):
        verify_skipping(anchor(), LightBlock.from_json(raw), strict, 200 * NS_PER_SECOND)


def test_fork_at_one_height_is_evidence_and_freezes() -> None:
    a = LightBlock.from_json(builder.light_block(3, 120, KEYS, app_hash=b"\x01" * 32))
    b = LightBlock.from_json(builder.light_block(3, 120, KEYS, app_hash=b"\x02" * 32))
    evidence = check_misbehaviour(anchor(), a, b, OPTS, 200 * NS_PER_SECOND)
    assert evidence is not None
    assert evidence.kind == "fork"
    client = freeze(CometClientState(builder.CHAIN, OPTS), evidence)
    assert client.is_frozen
    assert client.frozen_height == 3
    assert isinstance(evidence.as_error(), e.ConflictingHeaders)
    header = trusted_header(builder.light_block(2, 110, KEYS))
    with pytest.raises(ClientFrozen):
        CometBftLightClient().verify_header(client, anchor(), header, 200)


def test_same_block_twice_is_no_misbehaviour() -> None:
    a = LightBlock.from_json(builder.light_block(3, 120, KEYS))
    assert check_misbehaviour(anchor(), a, a, OPTS, 200 * NS_PER_SECOND) is None


def test_bft_time_going_backwards_is_evidence() -> None:
    low = LightBlock.from_json(builder.light_block(3, 130, KEYS))
    high = LightBlock.from_json(builder.light_block(4, 125, KEYS))
    evidence = check_misbehaviour(anchor(), low, high, OPTS, 200 * NS_PER_SECOND)
    assert evidence is not None
    assert evidence.kind == "time"


def test_misbehaviour_from_outsiders_is_refused_not_evidence() -> None:
    outsiders = builder.keys(4, offset=50)
    a = LightBlock.from_json(builder.light_block(3, 120, outsiders, app_hash=b"\x01" * 32))
    b = LightBlock.from_json(builder.light_block(3, 120, outsiders, app_hash=b"\x02" * 32))
    with pytest.raises(e.NotEnoughTrust):
        check_misbehaviour(anchor(), a, b, OPTS, 200 * NS_PER_SECOND)


def test_seam_verifies_an_envelope_and_rejects_a_tampered_one() -> None:
    client = CometBftLightClient()
    state = CometClientState(builder.CHAIN, OPTS)
    header = trusted_header(builder.light_block(2, 110, KEYS))
    assert client.verify_header(state, anchor(), header, 200).height == 2
    from dataclasses import replace

    with pytest.raises(InvalidHeader):
        client.verify_header(state, anchor(), replace(header, time=header.time + 1), 200)
    a = trusted_header(builder.light_block(3, 120, KEYS, app_hash=b"\x01" * 32))
    b = trusted_header(builder.light_block(3, 120, KEYS, app_hash=b"\x02" * 32))
    assert client.check_misbehaviour(state, a, b, trusted=anchor(), now=200)


def test_bisection_reaches_a_target_across_a_full_validator_rotation() -> None:
    """1 -> 9 with the set fully replaced at 5: skipping straight fails (no overlap),
    bisection verifies a middle block first."""
    new_keys = builder.keys(4, offset=20)
    blocks = {
        h: builder.light_block(h, 100 + h, KEYS if h < 5 else new_keys, KEYS if h < 4 else new_keys)
        for h in range(2, 10)
    }
    target = LightBlock.from_json(blocks[9])
    with pytest.raises(e.NotEnoughTrust):
        verify_light_block(anchor(), target, OPTS, 200 * NS_PER_SECOND)
    chain = verify_bisection(
        anchor(), target, lambda h: LightBlock.from_json(blocks[h]), OPTS, 200 * NS_PER_SECOND
    )
    assert [b.height for b in chain][-1] == 9


def _multistore_proof(store: bytes, store_root: bytes) -> tuple[bytes, bytes]:
    """A one-store multistore: a Tendermint-spec leaf (store name -> store root) as the root."""
    leaf = LeafOp(HashOp.SHA256, HashOp.NO_HASH, HashOp.SHA256, LengthOp.VAR_PROTO, b"\x00")
    leaf_bytes = (
        field_varint(1, leaf.hash)
        + field_varint(3, leaf.prehash_value)
        + field_varint(4, leaf.length)
        + field_bytes(5, leaf.prefix)
    )
    exist = field_bytes(1, store) + field_bytes(2, store_root) + field_message(3, leaf_bytes)
    return field_message(1, exist), leaf.apply(store, store_root)


@pytest.mark.parametrize("name", ["exist_middle", "nonexist_middle"])
def test_seam_membership_chains_an_iavl_proof_to_the_app_hash(name: str) -> None:
    raw = json.loads((vectors_dir() / "cosmos-ics23" / "iavl" / f"{name}.json").read_text())
    key, value = bytes.fromhex(raw["key"]), bytes.fromhex(raw["value"])
    store_proof, store_root = bytes.fromhex(raw["proof"]), bytes.fromhex(raw["root"])
    multistore, app_hash = _multistore_proof(b"bank", store_root)
    from dataclasses import replace

    consensus = replace(anchor(), app_hash=app_hash)
    kind = "ics23" if name.startswith("exist") else "ics23-absent"
    proof = InclusionProof(
        builder.CHAIN, consensus.height, kind, key, value, (b"bank", store_proof, multistore)
    )
    CometBftLightClient().verify_membership(consensus, proof)
    with pytest.raises(RootMismatch):
        CometBftLightClient().verify_membership(replace(consensus, app_hash=bytes(32)), proof)
