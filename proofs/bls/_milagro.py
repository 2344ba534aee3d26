"""Fast BLS backend: ``milagro_bls_binding`` (AMCL in Rust), helped by ``py_arkworks_bls12381``.

Importing this module raises ``ImportError`` when milagro is not installed; the
facade turns that into a ``ConfigError``. arkworks is optional: without it the
backend still works, with the fallbacks listed below.

What milagro (1.9.1) is used for, and what it checks (all confirmed on the vectors):

* ``SkToPk``, ``Sign``: rejects a zero / out-of-range / not-32-byte secret key.
* ``Verify``, ``FastAggregateVerify``, ``AggregateVerify``: return ``False`` (never raise)
  on any bad encoding; they key-validate every public key (identity and off-subgroup
  keys rejected) and subgroup-check the signature. ``AggregateVerify`` does not require
  distinct messages, like the POP scheme and py_ecc.
* ``Aggregate``: decodes each signature (flags, x < p, on the curve) but does *not*
  subgroup-check, exactly like py_ecc; it returns the identity for an empty list, where
  the suite says "fail" (the facade rejects the empty list before calling it).
* ``_AggregatePKs([pk])``: the public-key check; its decoder rejects the identity too.

What milagro lacks, and what stands in for it (arkworks when installed, else py_ecc):

* proof of possession: milagro's Sign/Verify hard-wire the signature tag. With
  arkworks, PopProve = sk · H_pop(pk) and PopVerify = the CoreVerify below with the PoP
  tag; without it, py_ecc's ``PopProve``/``PopVerify`` (about 0.3 s each).
* a G2 subgroup check of a bare signature (``validate_signature``): arkworks'
  checked decoder, else py_ecc (about 40 ms).
* hash-to-curve: arkworks' RFC 9380 ``hash_to_curve``, else py_ecc.
* point objects for a validator set: milagro re-decompresses and re-checks every key
  on every call (about 0.2 ms a key, 28 ms for a 128-key subset). Without arkworks
  the set keeps py_ecc's decoded points instead (a 128-key subset adds up in about
  2 ms of pure Python) and verifies the compressed aggregate with milagro ``Verify``
  (about 4 ms). With arkworks the keys are arkworks points (a 128-key sum in 0.15 ms)
  and the check is one two-pairing product (about 2 ms).

Not used: ``VerifyMultipleAggregateSignatures``. It returns ``True`` for an empty list,
draws its own randomness, and whether it subgroup-checks signatures is not visible
from Python, so ``batch_verify`` is ``Verify`` per set on both backends.

Hand-written here: glue, and :func:`_ark_core_verify`, IETF CoreVerify composed from
arkworks primitives (checked decoding, hash-to-curve, ``pairing_check``) because
arkworks has no BLS-signature API; its curve arithmetic is the library's. arkworks'
decoder accepts non-canonical identity encodings (flag bits or x set), so every
arkworks decode is followed by a re-encoding round trip (:func:`_ark_decode`).

milagro-bls-binding is deprecated upstream and warns on import; the warning is
silenced here and noted in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, cast

from core.errors import BadEncoding, ConfigError

from . import _py_ecc as _ref

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="milagro_bls_binding is deprecated")
    import milagro_bls_binding as _milagro

_ark: Any
try:
    import py_arkworks_bls12381 as _ark
except ImportError:  # optional accelerator
    _ark = None

_SK_BYTES = 32
_REF = _ref.PyEccBackend()


def arkworks_available() -> bool:
    """Whether ``py_arkworks_bls12381`` is importable (the accelerator can be used)."""
    return _ark is not None


def _sk_bytes(secret_key: int) -> bytes:
    return secret_key.to_bytes(_SK_BYTES, "big")


def _ark_decode(cls: Any, data: bytes) -> Any | None:
    """arkworks point for canonical ``data`` in the subgroup, else ``None``."""
    try:
        point = cls.from_compressed_bytes(data)
    except (ValueError, TypeError, OverflowError):
        return None
    return point if point.to_compressed_bytes() == data else None


def _ark_core_verify(pubkey: Any, message: bytes, signature: bytes, dst: bytes) -> bool:
    """IETF CoreVerify over arkworks: e(-G1, S) · e(PK, H(m)) == 1."""
    if pubkey == _ark.G1Point.identity():
        return False
    point = _ark_decode(_ark.G2Point, signature)
    if point is None:
        return False
    hashed = _ark.G2Point.hash_to_curve(message, dst)
    return bool(_ark.GT.pairing_check([-_ark.G1Point(), pubkey], [point, hashed]))


class MilagroBackend:
    """The facade's backend contract over milagro (see ``proofs.bls.Backend``)."""

    is_fast = True

    def __init__(self, *, use_arkworks: bool | None = None) -> None:
        """``use_arkworks``: ``None`` = when installed; ``True`` fails without it."""
        if use_arkworks and _ark is None:
            raise ConfigError(
                "py_arkworks_bls12381 is not installed: pip install py-arkworks-bls12381",
                backend="milagro",
            )
        self.uses_arkworks = _ark is not None if use_arkworks is None else use_arkworks
        self.name = "milagro+arkworks" if self.uses_arkworks else "milagro"

    def sk_to_pk(self, secret_key: int) -> bytes:
        return bytes(_milagro.SkToPk(_sk_bytes(secret_key)))

    def sign(self, secret_key: int, message: bytes) -> bytes:
        return bytes(_milagro.Sign(_sk_bytes(secret_key), message))

    def verify(self, pubkey: bytes, message: bytes, signature: bytes) -> bool:
        return bool(_milagro.Verify(pubkey, message, signature))

    def aggregate(self, signatures: Sequence[bytes]) -> bytes:
        try:
            return bytes(_milagro.Aggregate(list(signatures)))
        except ValueError as err:
            raise BadEncoding(f"a signature does not decode: {err}") from err

    def aggregate_pubkeys(self, pubkeys: Sequence[bytes]) -> bytes:
        try:
            return bytes(_milagro._AggregatePKs(list(pubkeys)))
        except ValueError as err:
            raise BadEncoding(f"a public key does not decode: {err}") from err

    def fast_aggregate_verify(
        self, pubkeys: Sequence[bytes], message: bytes, signature: bytes
    ) -> bool:
        return bool(_milagro.FastAggregateVerify(list(pubkeys), message, signature))

    def aggregate_verify(
        self, pubkeys: Sequence[bytes], messages: Sequence[bytes], signature: bytes
    ) -> bool:
        return bool(_milagro.AggregateVerify(list(pubkeys), list(messages), signature))

    def batch_verify(self, sets: Sequence[tuple[bytes, bytes, bytes]]) -> bool:
        return all(self.verify(pk, msg, sig) for pk, msg, sig in sets)

    def pop_prove(self, secret_key: int) -> bytes:
        if not self.uses_arkworks:
            return _REF.pop_prove(secret_key)
        pubkey = self.sk_to_pk(secret_key)
        hashed = _ark.G2Point.hash_to_curve(pubkey, _ref.POP_DST)
        return bytes((hashed * _ark.Scalar(secret_key)).to_compressed_bytes())

    def pop_verify(self, pubkey: bytes, proof: bytes) -> bool:
        if not self.uses_arkworks:
            return _REF.pop_verify(pubkey, proof)
        point = _ark_decode(_ark.G1Point, pubkey)
        if point is None:
            return False
        return _ark_core_verify(point, pubkey, proof, _ref.POP_DST)

    def is_g1(self, data: bytes) -> bool:
        if self.uses_arkworks:
            return _ark_decode(_ark.G1Point, data) is not None
        try:
            _milagro._AggregatePKs([data])
        except ValueError:
            return False
        return True

    def is_g2(self, data: bytes) -> bool:
        if self.uses_arkworks:
            return _ark_decode(_ark.G2Point, data) is not None
        return _ref.g2_fault(data) is None

    def hash_to_g2(self, message: bytes, dst: bytes) -> _ref.Affine2:
        if not self.uses_arkworks:
            return _ref.hash_to_g2(message, dst)
        raw = _ark.G2Point.hash_to_curve(message, dst).to_xy_bytes_be()
        x0, x1, y0, y1 = (int.from_bytes(raw[i : i + 48], "big") for i in range(0, 192, 48))
        return (x0, x1), (y0, y1)

    # Validator-set path.

    def prepare_pubkey(self, pubkey: bytes) -> object:
        if not self.uses_arkworks:
            return _REF.prepare_pubkey(pubkey)
        return _ark.G1Point.from_compressed_bytes(pubkey)

    def aggregate_prepared(self, prepared: Sequence[object]) -> object:
        if not self.uses_arkworks:
            return _REF.aggregate_prepared(prepared)
        total = _ark.G1Point.identity()
        for point in prepared:
            total = total + point
        return total

    def prepared_to_bytes(self, aggregate: object) -> bytes:
        if not self.uses_arkworks:
            return cast(bytes, aggregate)
        return bytes(cast(Any, aggregate).to_compressed_bytes())

    def verify_prepared(self, aggregate: object, message: bytes, signature: bytes) -> bool:
        if not self.uses_arkworks:
            return self.verify(cast(bytes, aggregate), message, signature)
        return _ark_core_verify(aggregate, message, signature, _ref.SIG_DST)
