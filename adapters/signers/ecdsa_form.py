"""An ECDSA signature as a token returns it (r, s) turned into the hub's r ‖ s ‖ v.

A PKCS#11 token signs with ``CKM_ECDSA`` and returns ``r ‖ s`` only: no
recovery id, and ``s`` may be in the upper half of the group order. Bridges
refuse high ``s`` (malleability) and recover the signer from ``v``, so the
signature is normalised (``s -> n - s``) and ``v`` found by recovering the
public key with each recovery id and keeping the one that gives the token's
key. secp256k1 recovery is libsecp256k1's (coincurve). For P-256 (no C
library here recovers) the nonce point itself is recomputed once with
python-ecdsa's point arithmetic, as a verifier does: ``R = (e/s)·G + (r/s)·Q``;
``R.x = r`` confirms the signature and ``R.y``'s parity is the recovery id
(one double multiplication instead of two trial recoveries).
Pure: no I/O.
"""

from __future__ import annotations

from coincurve import PublicKey
from ecdsa import NIST256p
from ecdsa.ellipticcurve import INFINITY, PointJacobi

from core.errors import ConfigError, InvalidInput
from core.seams import P256, SECP256K1

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
P256_N = NIST256p.order
ORDERS = {SECP256K1: SECP256K1_N, P256: P256_N}


def low_s(scheme: str, r: int, s: int) -> tuple[int, int, bool]:
    """``(r, s', flipped)``: ``s`` moved to the lower half of the order when it was not."""
    n = ORDERS[scheme]
    if not (0 < r < n and 0 < s < n):
        raise ConfigError("the signer returned r or s outside 1 .. n-1")
    if s > n // 2:
        return r, n - s, True
    return r, s, False


def recoverable(scheme: str, digest: bytes, r: int, s: int, public_key: bytes) -> bytes:
    """``r ‖ s ‖ v`` (low ``s``, ``v`` 27/28) of a raw signature by ``public_key`` over ``digest``.

    ``ConfigError`` when no recovery id gives ``public_key`` (the token signed
    with another key, or returned garbage): nothing unverified leaves.
    """
    if len(digest) != 32:
        raise InvalidInput("a digest is 32 bytes", field="digest")
    r, s, _ = low_s(scheme, r, s)
    rs = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if scheme == P256:
        return rs + bytes([27 + _p256_recid(digest, r, s, public_key)])
    for recid in (0, 1):
        if _recover(scheme, digest, rs, recid) == public_key:
            return rs + bytes([27 + recid])
    raise ConfigError(f"the {scheme} signature does not recover to the signer's public key")


def _p256_recid(digest: bytes, r: int, s: int, public_key: bytes) -> int:
    """The recovery id of a (low-s) P-256 signature by ``public_key``: the parity of the
    nonce point's y, recomputed as a verifier does; ``ConfigError`` if it does not verify."""
    n = P256_N
    if len(public_key) != 65 or public_key[0] != 4:
        raise ConfigError("the signer's P-256 public key is not an uncompressed point")
    curve = NIST256p.curve
    x, y = int.from_bytes(public_key[1:33], "big"), int.from_bytes(public_key[33:], "big")
    q = PointJacobi(curve, x, y, 1, n)
    e = int.from_bytes(digest, "big") % n
    w = pow(s, -1, n)
    point = NIST256p.generator.mul_add(e * w % n, q, r * w % n)
    if point == INFINITY or int(point.x()) % n != r:
        raise ConfigError("the p256 signature does not recover to the signer's public key")
    if int(point.x()) >= n:  # R.x overflowed the order: ids 2/3, which r ‖ s ‖ v cannot carry
        raise ConfigError("the p256 signature's nonce point cannot be named by v")
    return int(point.y()) & 1


def _recover(scheme: str, digest: bytes, rs: bytes, recid: int) -> bytes | None:
    if scheme == SECP256K1:
        try:
            key = PublicKey.from_signature_and_message(rs + bytes([recid]), digest, hasher=None)
        except Exception:  # coincurve raises bare exceptions for an unrecoverable signature
            return None
        return key.format(compressed=False)
    raise InvalidInput(f"no ECDSA recovery for the scheme {scheme!r}")


__all__ = ["low_s", "recoverable"]
