"""The ECDSA quorum rules (``proofs.notary.ecdsa``): one broken field per case, exact errors,
and properties over random committees (hypothesis)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.evm.certificate import sign_digest as eth_account_sign
from core.errors import InvalidInput
from proofs.notary.ecdsa import (
    HALF_N,
    SECP256K1_N,
    address_of_private_key,
    is_ecdsa_quorum,
    order_by_signer,
    recover,
    sign,
    verify_ecdsa_quorum,
)
from proofs.notary.errors import (
    BadV,
    DuplicateSigner,
    HighS,
    MalformedSignature,
    NotMember,
    OutOfOrder,
    TooFewSignatures,
    Unrecoverable,
)

KEYS = [hashlib.sha256(b"notary-%d" % i).digest() for i in range(5)]
MEMBERS = [address_of_private_key(k) for k in KEYS]
DIGEST = hashlib.sha256(b"packet").digest()
THRESHOLD = 3
R_OFF_CURVE = (SECP256K1_N - 1).to_bytes(32, "big")  # x = n-1 has no point on secp256k1


def certificate(keys: list[bytes] = KEYS[:THRESHOLD], digest: bytes = DIGEST) -> list[bytes]:
    return order_by_signer(digest, [sign(k, digest) for k in keys])


def high_s_twin(signature: bytes) -> bytes:
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


def test_a_threshold_of_members_is_a_quorum_and_names_its_signers() -> None:
    signers = verify_ecdsa_quorum(DIGEST, certificate(), MEMBERS, THRESHOLD, ordered=True)
    assert signers == frozenset(MEMBERS[:THRESHOLD])


def test_members_may_be_given_as_hex_addresses() -> None:
    hex_members = ["0x" + m.hex().upper() for m in MEMBERS]
    assert len(verify_ecdsa_quorum(DIGEST, certificate(), hex_members, THRESHOLD)) == THRESHOLD


def test_signatures_match_eth_accounts_bridge_signatures() -> None:
    # the bridge's Python side (eth-account) and ours sign the same bytes
    for key in KEYS:
        theirs = eth_account_sign(key, DIGEST)
        assert sign(key, DIGEST) == theirs.signature
        assert "0x" + address_of_private_key(key).hex() == theirs.signer.lower()
        assert Account.from_key(key).address.lower() == theirs.signer.lower()


Malleate = Callable[[list[bytes]], list[bytes]]

CASES: list[tuple[str, Malleate, type[Exception], bool]] = [
    ("one short of the threshold", lambda c: c[:-1], TooFewSignatures, False),
    ("a duplicated signer", lambda c: [c[0], c[0], c[1]], DuplicateSigner, False),
    (
        "a non-member",
        lambda c: [*c[:-1], sign(hashlib.sha256(b"x").digest(), DIGEST)],
        NotMember,
        False,
    ),
    (
        "a signature over another digest",
        lambda c: [*c[:-1], sign(KEYS[4], b"\x01" * 32)],
        NotMember,
        False,
    ),
    ("a high-s twin", lambda c: [*c[:-1], high_s_twin(c[-1])], HighS, False),
    ("v = 29", lambda c: [*c[:-1], c[-1][:64] + b"\x1d"], BadV, False),
    (
        "v = 0 (Wormhole style)",
        lambda c: [*c[:-1], c[-1][:64] + bytes([c[-1][64] - 27])],
        BadV,
        False,
    ),
    ("64 bytes", lambda c: [*c[:-1], c[-1][:64]], MalformedSignature, False),
    ("r = 0", lambda c: [*c[:-1], bytes(32) + c[-1][32:]], MalformedSignature, False),
    ("s = 0", lambda c: [*c[:-1], c[-1][:32] + bytes(32) + c[-1][64:]], MalformedSignature, False),
    (
        "r = n-1: no curve point has that x",
        lambda c: [*c[:-1], R_OFF_CURVE + c[-1][32:]],
        Unrecoverable,
        False,
    ),
    ("signers in decreasing order", lambda c: list(reversed(c)), OutOfOrder, True),
]


@pytest.mark.parametrize(
    ("case", "malleate", "error", "ordered"), CASES, ids=[case[0] for case in CASES]
)
def test_a_malleated_certificate_fails_with_the_exact_error(
    case: str, malleate: Malleate, error: type[Exception], ordered: bool
) -> None:
    good = certificate()
    verify_ecdsa_quorum(DIGEST, good, MEMBERS, THRESHOLD, ordered=ordered)
    with pytest.raises(error):
        verify_ecdsa_quorum(DIGEST, malleate(good), MEMBERS, THRESHOLD, ordered=ordered)
    assert not is_ecdsa_quorum(DIGEST, malleate(good), MEMBERS, THRESHOLD, ordered=ordered)


def test_unordered_rules_accept_any_order_and_ordered_rules_only_increasing() -> None:
    good = certificate()
    assert verify_ecdsa_quorum(DIGEST, list(reversed(good)), MEMBERS, THRESHOLD)
    with pytest.raises(OutOfOrder):
        verify_ecdsa_quorum(DIGEST, list(reversed(good)), MEMBERS, THRESHOLD, ordered=True)


def test_the_high_s_twin_recovers_the_same_signer_when_allowed() -> None:
    # what the low-s rule stops: a second, different-looking signature of one signer
    from proofs.notary.ecdsa import Rules

    signature = sign(KEYS[0], DIGEST)
    assert int.from_bytes(signature[32:64], "big") <= HALF_N
    lax = Rules(v_base=27, low_s=False)
    assert recover(DIGEST, high_s_twin(signature), lax) == MEMBERS[0]


@pytest.mark.parametrize("threshold", [0, 6, -1])
def test_a_threshold_outside_the_committee_size_is_invalid_input(threshold: int) -> None:
    with pytest.raises(InvalidInput):
        verify_ecdsa_quorum(DIGEST, certificate(), MEMBERS, threshold)


def test_order_by_signer_refuses_a_signer_twice() -> None:
    one = sign(KEYS[0], DIGEST)
    with pytest.raises(DuplicateSigner):
        order_by_signer(DIGEST, [one, one])


# --- properties ---------------------------------------------------------------------------

secrets = st.binary(min_size=32, max_size=32).filter(
    lambda b: 0 < int.from_bytes(b, "big") < SECP256K1_N
)


@settings(max_examples=40, deadline=None)
@given(
    keys=st.lists(secrets, min_size=1, max_size=7, unique=True),
    digest=st.binary(min_size=32, max_size=32),
    data=st.data(),
)
def test_any_subset_of_at_least_threshold_members_is_a_quorum_and_fewer_is_not(
    keys: list[bytes], digest: bytes, data: st.DataObject
) -> None:
    members = [address_of_private_key(k) for k in keys]
    threshold = data.draw(st.integers(1, len(keys)), label="threshold")
    chosen = data.draw(st.lists(st.sampled_from(range(len(keys))), unique=True), label="signers")
    signatures = [sign(keys[i], digest) for i in chosen]
    ordered = order_by_signer(digest, signatures)
    if len(chosen) >= threshold:
        signers = verify_ecdsa_quorum(digest, ordered, members, threshold, ordered=True)
        assert signers == {members[i] for i in chosen}
        assert verify_ecdsa_quorum(digest, signatures, members, threshold) == signers
    else:
        with pytest.raises(TooFewSignatures):
            verify_ecdsa_quorum(digest, ordered, members, threshold, ordered=True)


@settings(max_examples=40, deadline=None)
@given(
    keys=st.lists(secrets, min_size=2, max_size=6, unique=True),
    digest=st.binary(min_size=32, max_size=32),
    data=st.data(),
)
def test_repeating_any_signature_never_reaches_a_quorum(
    keys: list[bytes], digest: bytes, data: st.DataObject
) -> None:
    members = [address_of_private_key(k) for k in keys]
    signatures = [sign(k, digest) for k in keys]
    repeated = data.draw(st.sampled_from(signatures), label="repeated")
    position = data.draw(st.integers(0, len(signatures)), label="position")
    padded = [*signatures[:position], repeated, *signatures[position:]]
    with pytest.raises(DuplicateSigner):
        verify_ecdsa_quorum(digest, padded, members, len(keys))


@settings(max_examples=40, deadline=None)
@given(
    key=secrets,
    digest=st.binary(min_size=32, max_size=32),
    flip=st.integers(0, 31 * 8 + 7),
)
def test_a_signature_never_counts_for_a_digest_one_bit_away(
    key: bytes, digest: bytes, flip: int
) -> None:
    members = [address_of_private_key(key)]
    other = bytearray(digest)
    other[flip // 8] ^= 1 << (flip % 8)
    signature = sign(key, digest)
    assert verify_ecdsa_quorum(digest, [signature], members, 1) == {members[0]}
    assert not is_ecdsa_quorum(bytes(other), [signature], members, 1)
