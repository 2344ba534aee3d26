"""Collecting a quorum from stored signatures: only valid, distinct committee members count."""

from __future__ import annotations

import hashlib

import pytest

from core.errors import InvalidInput
from core.records import SignatureRecord
from proofs.notary.ecdsa import HALF_N, SECP256K1_N, address_of_private_key, sign
from relayer.quorum import collect_quorum

KEYS = [hashlib.sha256(f"relayer-quorum-{i}".encode()).digest() for i in range(4)]
MEMBERS = tuple("0x" + address_of_private_key(k).hex() for k in KEYS[:3])
DIGEST = hashlib.sha256(b"packet").digest()
OTHER = hashlib.sha256(b"other packet").digest()


def record(key: bytes, digest: bytes = DIGEST, signature: bytes | None = None) -> SignatureRecord:
    sig = signature if signature is not None else sign(key, digest)
    return SignatureRecord("tr_1", "n", digest, sig, 0.0)


def test_two_members_of_three_reach_threshold_two_ordered_by_address() -> None:
    quorum = collect_quorum([record(KEYS[1]), record(KEYS[0])], DIGEST, (2, MEMBERS))
    assert quorum.reached
    signers = [address_of_private_key(k) for k in KEYS[:2]]
    assert list(quorum.signers) == sorted(signers)
    assert len(quorum.certificate()) == 2


def test_a_signature_over_another_digest_is_not_counted() -> None:
    quorum = collect_quorum([record(KEYS[0]), record(KEYS[1], OTHER)], DIGEST, (2, MEMBERS))
    assert not quorum.reached
    assert len(quorum.signers) == 1


def test_a_non_member_is_not_counted() -> None:
    quorum = collect_quorum([record(KEYS[0]), record(KEYS[3])], DIGEST, (2, MEMBERS))
    assert len(quorum.signers) == 1


def test_one_member_twice_counts_once() -> None:
    quorum = collect_quorum([record(KEYS[0]), record(KEYS[0])], DIGEST, (2, MEMBERS))
    assert len(quorum.signers) == 1


def test_a_high_s_twin_is_not_counted() -> None:
    good = sign(KEYS[0], DIGEST)
    s = int.from_bytes(good[32:64], "big")
    assert s <= HALF_N
    twin = good[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([good[64] ^ 1])
    quorum = collect_quorum([record(KEYS[0], signature=twin)], DIGEST, (1, MEMBERS))
    assert not quorum.reached


def test_garbage_signatures_are_skipped_not_raised() -> None:
    quorum = collect_quorum(
        [record(KEYS[0], signature=b"\x00" * 10), record(KEYS[1])], DIGEST, (1, MEMBERS)
    )
    assert quorum.reached
    assert len(quorum.signers) == 1


def test_certificate_below_threshold_refuses() -> None:
    quorum = collect_quorum([record(KEYS[0])], DIGEST, (2, MEMBERS))
    assert quorum.describe().startswith("1 of 2")
    with pytest.raises(InvalidInput):
        quorum.certificate()
