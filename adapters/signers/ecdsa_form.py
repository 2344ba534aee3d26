"""An ECDSA signature as a token returns it (r, s) turned into the hub's r ‖ s ‖ v.

A PKCS#11 token signs with ``CKM_ECDSA`` and returns ``r ‖ s`` only: no
recovery id, and ``s`` may be in the upper half of the group order. Bridges
refuse high ``s`` (malleability) and recover the signer from ``v``, so the
signature is normalised (``s -> n - s``) and ``v`` found by recovering the
public key with each recovery id and keeping the one that gives the token's
key. secp256k1 recovery is libsecp256k1's (coincurve); P-256 recovery is
python-ecdsa's (``Signature.recover_public_keys``: even y first, then odd).
Pure: no I/O.
"""

from __future__ import annotations

from coincurve import PublicKey
from ecdsa import NIST256p
from ecdsa.ecdsa import Signature

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

    ``ConfigError`` when neither recovery id gives ``public_key`` (the token
    signed with another key, or returned garbage): nothing unverified leaves.
    """
    if len(digest) != 32:
        raise InvalidInput("a digest is 32 bytes", field="digest")
    r, s, _ = low_s(scheme, r, s)
    rs = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    for recid in (0, 1):
        if _recover(scheme, digest, rs, recid, r, s) == public_key:
            return rs + bytes([27 + recid])
    raise ConfigError(f"the {scheme} signature does not recover to the signer's public key")


def _recover(scheme: str, digest: bytes, rs: bytes, recid: int, r: int, s: int) -> bytes | None:
    if scheme == SECP256K1:
        try:
            key = PublicKey.from_signature_and_message(rs + bytes([recid]), digest, hasher=None)
        except Exception:  # coincurve raises bare exceptions for an unrecoverable signature
            return None
        return key.format(compressed=False)
    if scheme == P256:
        candidates = Signature(r, s).recover_public_keys(
            int.from_bytes(digest, "big"), NIST256p.generator
        )
        point = candidates[recid].point
        return b"\x04" + int(point.x()).to_bytes(32, "big") + int(point.y()).to_bytes(32, "big")
    raise InvalidInput(f"no ECDSA recovery for the scheme {scheme!r}")


__all__ = ["low_s", "recoverable"]
