"""Reference BLS backend: py_ecc's ``G2ProofOfPossession``, pure Python, always installed.

It is slow (about 0.25 s per pairing check) but it is the reference: every other
backend must give the same answer on every vector, and the facade asks this module
*why* bytes were rejected (:func:`g1_fault`, :func:`g2_fault`) whatever backend
rejected them, so the reported reason never depends on the backend.

Hand-written here, and only glue: secret keys as 32-byte big-endian integers
(py_ecc takes ``int``), the mapping of py_ecc's exceptions to the project's error
tree, and the affine-coordinate view of a hash-to-curve output. Decompression,
subgroup checks, point addition, hash-to-curve and pairings are py_ecc's.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import cast

from eth_utils import ValidationError
from py_ecc.bls import G2ProofOfPossession
from py_ecc.bls.g2_primitives import (
    G1_to_pubkey,
    pubkey_to_G1,
    signature_to_G2,
    subgroup_check,
)
from py_ecc.bls.hash_to_curve import hash_to_G2
from py_ecc.optimized_bls12_381 import Z1, add, curve_order, normalize

from core.errors import BadEncoding, NotInSubgroup, VerificationError

NAME = "py_ecc"

SIG_DST: bytes = G2ProofOfPossession.DST
"""``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_``, the signature tag of the suite."""

POP_DST: bytes = G2ProofOfPossession.POP_TAG
"""``BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_``, the proof-of-possession tag."""

CURVE_ORDER: int = curve_order
"""r, the prime order of G1 and G2 (secret keys live in 1 … r-1)."""

# What py_ecc raises on bytes that do not decode (flags, x >= p, not on the curve).
_DECODE_ERRORS = (ValueError, AssertionError, ValidationError)

Affine2 = tuple[tuple[int, int], tuple[int, int]]
"""An affine G2 point as ((x.c0, x.c1), (y.c0, y.c1))."""


def g1_fault(data: bytes) -> VerificationError | None:
    """Why ``data`` (48 bytes) is not a G1 point in the subgroup; ``None`` when it is.

    The canonical encoding of the identity counts as a point here: whether the
    identity is acceptable is the caller's decision.
    """
    try:
        point = pubkey_to_G1(data)
    except _DECODE_ERRORS as err:
        return BadEncoding(f"G1 point does not decode: {err}")
    if not subgroup_check(point):
        return NotInSubgroup("G1 point is not in the prime-order subgroup")
    return None


def g2_fault(data: bytes) -> VerificationError | None:
    """Why ``data`` (96 bytes) is not a G2 point in the subgroup; ``None`` when it is."""
    try:
        point = signature_to_G2(data)
    except _DECODE_ERRORS as err:
        return BadEncoding(f"G2 point does not decode: {err}")
    if not subgroup_check(point):
        return NotInSubgroup("G2 point is not in the prime-order subgroup")
    return None


def g2_decodes(data: bytes) -> bool:
    """Whether ``data`` decodes to a point on the G2 curve (no subgroup check)."""
    try:
        signature_to_G2(data)
    except _DECODE_ERRORS:
        return False
    return True


def hash_to_g2(message: bytes, dst: bytes) -> Affine2:
    """RFC 9380 ``BLS12381G2_XMD:SHA-256_SSWU_RO_`` with any tag, as affine coordinates."""
    x, y = normalize(hash_to_G2(message, dst, G2ProofOfPossession.xmd_hash_function))
    return (int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1]))


class PyEccBackend:
    """The facade's backend contract over py_ecc (see ``proofs.bls.Backend``)."""

    name = NAME
    is_fast = False

    def sk_to_pk(self, secret_key: int) -> bytes:
        return bytes(G2ProofOfPossession.SkToPk(secret_key))

    def sign(self, secret_key: int, message: bytes) -> bytes:
        return bytes(G2ProofOfPossession.Sign(secret_key, message))

    def verify(self, pubkey: bytes, message: bytes, signature: bytes) -> bool:
        return bool(G2ProofOfPossession.Verify(pubkey, message, signature))

    def aggregate(self, signatures: Sequence[bytes]) -> bytes:
        try:
            return bytes(G2ProofOfPossession.Aggregate(list(signatures)))
        except _DECODE_ERRORS as err:
            raise BadEncoding(f"a signature does not decode: {err}") from err

    def aggregate_pubkeys(self, pubkeys: Sequence[bytes]) -> bytes:
        # The facade has key-validated every entry; py_ecc only adds them up.
        return bytes(G2ProofOfPossession._AggregatePKs(list(pubkeys)))

    def fast_aggregate_verify(
        self, pubkeys: Sequence[bytes], message: bytes, signature: bytes
    ) -> bool:
        return bool(G2ProofOfPossession.FastAggregateVerify(list(pubkeys), message, signature))

    def aggregate_verify(
        self, pubkeys: Sequence[bytes], messages: Sequence[bytes], signature: bytes
    ) -> bool:
        return bool(G2ProofOfPossession.AggregateVerify(list(pubkeys), list(messages), signature))

    def batch_verify(self, sets: Sequence[tuple[bytes, bytes, bytes]]) -> bool:
        # py_ecc has no batch verifier: each set is checked on its own.
        return all(self.verify(pk, msg, sig) for pk, msg, sig in sets)

    def pop_prove(self, secret_key: int) -> bytes:
        return bytes(G2ProofOfPossession.PopProve(secret_key))

    def pop_verify(self, pubkey: bytes, proof: bytes) -> bool:
        return bool(G2ProofOfPossession.PopVerify(pubkey, proof))

    def is_g1(self, data: bytes) -> bool:
        return g1_fault(data) is None

    def is_g2(self, data: bytes) -> bool:
        return g2_fault(data) is None

    def hash_to_g2(self, message: bytes, dst: bytes) -> Affine2:
        return hash_to_g2(message, dst)

    # Validator-set path: keys decoded once, subsets added as points.

    def prepare_pubkey(self, pubkey: bytes) -> object:
        return pubkey_to_G1(pubkey)

    def aggregate_prepared(self, prepared: Sequence[object]) -> object:
        # The aggregate is kept compressed: py_ecc's Verify takes bytes.
        return bytes(G1_to_pubkey(reduce(add, prepared, Z1)))  # type: ignore[arg-type]

    def prepared_to_bytes(self, aggregate: object) -> bytes:
        return cast(bytes, aggregate)

    def verify_prepared(self, aggregate: object, message: bytes, signature: bytes) -> bool:
        return self.verify(cast(bytes, aggregate), message, signature)


def keygen(ikm: bytes, key_info: bytes) -> int:
    """IETF KeyGen (draft-irtf-cfrg-bls-signature-04 §2.3): HKDF-SHA256, reduced mod r."""
    return int(G2ProofOfPossession.KeyGen(ikm, key_info))


def eip2537_g1(data: bytes) -> bytes:
    """A compressed G1 point as EIP-2537's 128 bytes (x, y each 64 bytes, big-endian).

    The identity becomes 128 zero bytes (EIP-2537's infinity); no subgroup check here.
    """
    try:
        point = pubkey_to_G1(data)
    except _DECODE_ERRORS as err:
        raise BadEncoding(f"G1 point does not decode: {err}") from err
    if point == Z1:
        return bytes(128)
    x, y = normalize(point)
    return int(x).to_bytes(64, "big") + int(y).to_bytes(64, "big")


def eip2537_g2(data: bytes) -> bytes:
    """A compressed G2 point as EIP-2537's 256 bytes (x.c0, x.c1, y.c0, y.c1, 64 bytes each)."""
    try:
        point = signature_to_G2(data)
    except _DECODE_ERRORS as err:
        raise BadEncoding(f"G2 point does not decode: {err}") from err
    if point[2] == point[2].zero():
        return bytes(256)
    x, y = normalize(point)
    return b"".join(int(c).to_bytes(64, "big") for c in (*x.coeffs, *y.coeffs))
