"""A token's raw (r, s) turned into r ‖ s ‖ v: high s normalised (v follows), and every
signature that is not the key's refused, never passed on unverified."""

from __future__ import annotations

import hashlib

import pytest
from coincurve import PrivateKey
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from adapters.signers.ecdsa_form import ORDERS, recoverable
from core.errors import ConfigError
from core.seams import P256, SECP256K1
from proofs.hashing import keccak256
from proofs.notary.ecdsa import EVM_BRIDGE, recover

DIGEST = hashlib.sha256(b"form").digest()
K1 = PrivateKey(hashlib.sha256(b"k1").digest())
K1_PUBLIC = K1.public_key.format(compressed=False)
P = ec.derive_private_key(int.from_bytes(hashlib.sha256(b"p256").digest(), "big"), ec.SECP256R1())
P_PUBLIC = P.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def _k1_raw() -> tuple[int, int]:
    signature = K1.sign_recoverable(DIGEST, hasher=None)
    return int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")


def _p256_raw() -> tuple[int, int]:
    return decode_dss_signature(P.sign(DIGEST, ec.ECDSA(Prehashed(hashes.SHA256()))))


def test_a_high_s_secp256k1_signature_is_normalised_and_still_recovers_the_key() -> None:
    r, s = _k1_raw()
    high = ORDERS[SECP256K1] - s  # what a token may return: the malleable twin
    signature = recoverable(SECP256K1, DIGEST, r, high, K1_PUBLIC)
    assert int.from_bytes(signature[32:64], "big") == s
    assert recover(DIGEST, signature, EVM_BRIDGE) == keccak256(K1_PUBLIC[1:])[12:]


def test_both_twins_of_a_p256_signature_give_the_same_low_s_form() -> None:
    r, s = _p256_raw()
    twin = ORDERS[P256] - s
    assert recoverable(P256, DIGEST, r, s, P_PUBLIC) == recoverable(P256, DIGEST, r, twin, P_PUBLIC)


@pytest.mark.parametrize("scheme", [SECP256K1, P256])
@pytest.mark.parametrize(
    ("break_it", "refusal"),
    [
        (lambda r, s, key, d: (0, s, key, d), "outside 1 .. n-1"),
        (lambda r, s, key, d: (r, 0, key, d), "outside 1 .. n-1"),
        (lambda r, s, key, d: (r + 1, s, key, d), "does not recover"),
        (lambda r, s, key, d: (r, s, key, hashlib.sha256(b"other").digest()), "does not recover"),
        (lambda r, s, key, d: (r, s, "other-key", d), "does not recover|not an uncompressed"),
    ],
    ids=["r-zero", "s-zero", "r-changed", "other-digest", "other-key"],
)
def test_a_signature_that_is_not_the_keys_is_refused(scheme: str, break_it, refusal: str) -> None:  # type: ignore[no-untyped-def]
    r, s = _k1_raw() if scheme == SECP256K1 else _p256_raw()
    key = K1_PUBLIC if scheme == SECP256K1 else P_PUBLIC
    other = P_PUBLIC if scheme == SECP256K1 else K1_PUBLIC
    r, s, key, digest = break_it(r, s, key, DIGEST)
    key = other if key == "other-key" else key
    with pytest.raises(ConfigError, match=refusal):
        recoverable(scheme, digest, r, s, key)
