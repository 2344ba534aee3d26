"""The BLS-aggregate quorum check and equivocation evidence (``proofs.notary``)."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

import proofs.bls as bls
from core.errors import BadSignature, InvalidInput
from proofs.notary.bls_quorum import validate_bls_quorum
from proofs.notary.ecdsa import address_of_private_key, sign
from proofs.notary.equivocation import SignedStatement, check_equivocation
from proofs.notary.errors import DuplicateSigner, IndexOutOfRange, TooFewSignatures

SECRETS = [bls.keygen(hashlib.sha256(b"bls-notary-%d" % i).digest()) for i in range(4)]
COMMITTEE = bls.ValidatorSetKeys(
    [bls.sk_to_pk(s) for s in SECRETS], proofs=[bls.pop_prove(s) for s in SECRETS]
)
MESSAGE = hashlib.sha256(b"pujiang packet digest").digest()


def aggregate(indices: list[int], message: bytes = MESSAGE) -> bytes:
    return bls.aggregate([bls.sign(SECRETS[i], message) for i in indices])


def test_a_bls_aggregate_of_a_threshold_is_a_quorum() -> None:
    assert validate_bls_quorum(MESSAGE, [2, 0, 1], aggregate([0, 1, 2]), COMMITTEE, 3) == (0, 1, 2)


@pytest.mark.parametrize(
    ("signers", "signed_by", "error"),
    [
        ([0, 1], [0, 1], TooFewSignatures),
        ([0, 1, 1], [0, 1, 1], DuplicateSigner),
        ([0, 1, 4], [0, 1, 2], IndexOutOfRange),
        ([0, 1, 3], [0, 1, 2], BadSignature),  # the bitmap names a member who did not sign
    ],
)
def test_a_malleated_bls_certificate_fails_with_the_exact_error(
    signers: list[int], signed_by: list[int], error: type[Exception]
) -> None:
    with pytest.raises(error):
        validate_bls_quorum(MESSAGE, signers, aggregate(signed_by), COMMITTEE, 3)


def test_a_bls_aggregate_over_another_message_fails() -> None:
    with pytest.raises(BadSignature):
        validate_bls_quorum(MESSAGE, [0, 1, 2], aggregate([0, 1, 2], b"other"), COMMITTEE, 3)


def test_a_bls_threshold_above_the_committee_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        validate_bls_quorum(MESSAGE, [0, 1, 2], aggregate([0, 1, 2]), COMMITTEE, 5)


# --- equivocation -------------------------------------------------------------------------

KEY = hashlib.sha256(b"equivocating notary").digest()
NOTARY = address_of_private_key(KEY)
DIGEST_A = hashlib.sha256(b"packet a").digest()
DIGEST_B = hashlib.sha256(b"packet b").digest()


def statement(digest: bytes, *, key: bytes = KEY, **changes: object) -> SignedStatement:
    signed = SignedStatement(NOTARY, "route-1", 7, digest, sign(key, digest))
    return dataclasses.replace(signed, **changes)


def test_two_digests_for_one_route_and_sequence_are_evidence_in_either_order() -> None:
    a, b = statement(DIGEST_A), statement(DIGEST_B, kind="nondelivery")
    evidence = check_equivocation(a, b)
    assert evidence is not None
    assert (evidence.notary, evidence.route_id, evidence.sequence) == (NOTARY, "route-1", 7)
    assert {evidence.first.digest, evidence.second.digest} == {DIGEST_A, DIGEST_B}
    assert check_equivocation(b, a) == evidence


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(lambda: statement(DIGEST_A), id="same digest"),
        pytest.param(lambda: statement(DIGEST_B, sequence=8), id="another sequence"),
        pytest.param(lambda: statement(DIGEST_B, route_id="route-2"), id="another route"),
        pytest.param(
            lambda: statement(
                DIGEST_B,
                key=hashlib.sha256(b"x").digest(),
                notary=address_of_private_key(hashlib.sha256(b"x").digest()),
            ),
            id="another notary",
        ),
        pytest.param(
            lambda: statement(DIGEST_B, key=hashlib.sha256(b"x").digest()),
            id="forged: signature of someone else",
        ),
        pytest.param(
            lambda: dataclasses.replace(statement(DIGEST_B), signature=b"\x00" * 65),
            id="forged: junk signature",
        ),
    ],
)
def test_no_evidence_without_two_verified_conflicting_statements(other) -> None:  # type: ignore[no-untyped-def]
    assert check_equivocation(statement(DIGEST_A), other()) is None
