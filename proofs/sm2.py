"""SM2 signatures (GB/T 32918.2-2016) over SM3: the one facade of the national-crypto profile.

Every SM2 signature the hub checks (ChainMaker votes and blocks in SM2 mode,
the Pujiang ``gm`` profile) goes through :func:`verify_sm2`; SM3 itself is
:func:`proofs.hashing.sm3` (OpenSSL), the one SM3 of the hub.

Library, and why: ``gmalg`` (PyPI, MIT, pure Python, no dependency, released
2026) implements SM2 over any curve given its parameters, which is what lets the
tests run the worked example of GB/T 32918.2 Annex A (on its 256-bit test
curve) as well as the recommended curve of GB/T 32918.5. It rejects ``r, s``
outside ``[1, n-1]`` and ``r + s = n`` itself. pyca/cryptography (OpenSSL) has
SM3 but exposes no SM2; ``gmssl`` (last release 2023) takes hex strings and has
no curve parameter. Hex-free public keys in DER (``SubjectPublicKeyInfo`` with
the SM2 curve OID) are read with ``asn1crypto``, since OpenSSL through
cryptography refuses that curve.

Written here, because no library does it for us: the adapter that feeds
gmalg's SM2 core our OpenSSL SM3, the decoding of a key or signature from the
encodings chains use (65-byte ``04||x||y``, 64-byte ``x||y``, DER SPKI or PEM;
DER ``SEQUENCE{r, s}`` or raw 64-byte ``r||s``), and the typed refusals.

Z, the signer's identity digest, is ``SM3(ENTL || ID || a || b || xG || yG ||
xA || yA)`` with ``ENTL`` the bit length of ``ID`` on two bytes; the signed
digest is ``e = SM3(Z || M)``. The default ``ID`` is ``1234567812345678``
(GM/T 0009), what ChainMaker and most SDKs use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from gmalg import ellipticcurve as gm_ec
from gmalg.base import Hash as _GmHash
from gmalg.sm2 import SM2Core

from core.errors import BadEncoding, BadSignature
from proofs.hashing import sm3

SM2_DEFAULT_UID: Final = b"1234567812345678"
"""The default user id of GM/T 0009, used by ChainMaker and the SDKs."""

SM2_CURVE_OID: Final = "1.2.156.10197.1.301"
"""``sm2p256v1`` in a ``SubjectPublicKeyInfo``."""

SM2_WITH_SM3_OID: Final = "1.2.156.10197.1.501"
"""The signature algorithm ``SM2-with-SM3`` of an SM2 certificate."""


class SM2KeyInvalid(BadEncoding):
    """An SM2 public key does not decode to a point of the curve."""

    code = "sm2-bad-key"


class SM2SignatureMalformed(BadEncoding):
    """An SM2 signature is neither DER ``SEQUENCE{r, s}`` nor raw 64-byte ``r||s``."""

    code = "sm2-malformed-signature"


class SM2SignatureInvalid(BadSignature):
    """An SM2 signature does not verify under the key, message and user id."""

    code = "sm2-bad-signature"


@dataclass(frozen=True, slots=True)
class SM2Curve:
    """Curve parameters; the recommended curve unless a test names another."""

    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    @property
    def size(self) -> int:
        return (self.p.bit_length() + 7) // 8


SM2_P256: Final = SM2Curve(
    name="sm2p256v1",
    p=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF,
    a=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC,
    b=0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
    gx=0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    gy=0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
    n=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123,
)
"""The recommended curve of GB/T 32918.5."""


class _OpenSSLSM3(_GmHash):
    """gmalg's hash interface over :func:`proofs.hashing.sm3` (one SM3 in the hub)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @classmethod
    def max_msg_length(cls) -> int:
        return (1 << 61) - 1

    @classmethod
    def hash_length(cls) -> int:
        return 32

    def reset(self) -> None:
        self._buf.clear()

    def update(self, data: bytes) -> None:
        self._buf.extend(data)

    def value(self) -> bytes:
        return sm3(bytes(self._buf))


_CORES: dict[SM2Curve, SM2Core] = {}


def _core(curve: SM2Curve, rnd: Callable[[int], int] | None = None) -> SM2Core:
    """gmalg's SM2 core for ``curve`` (cached when no fixed nonce is asked for)."""
    if rnd is not None:
        return SM2Core(_ecdlp(curve), _OpenSSLSM3(), rnd)
    if curve not in _CORES:
        _CORES[curve] = SM2Core(_ecdlp(curve), _OpenSSLSM3())
    return _CORES[curve]


def _ecdlp(curve: SM2Curve) -> gm_ec.ECDLP:
    return gm_ec.ECDLP(curve.p, curve.a, curve.b, (curve.gx, curve.gy), curve.n)


# --- encodings -------------------------------------------------------------------------------


def decode_sm2_public_key(data: bytes, curve: SM2Curve = SM2_P256) -> tuple[int, int]:
    """The point of a key given as ``04||x||y``, ``x||y``, DER SPKI or PEM (``SM2KeyInvalid``).

    The point must lie on the curve; with cofactor 1 that makes it of order n.
    """
    size = curve.size
    raw = _spki_point(data) if _looks_like_spki(data, size) else data
    if len(raw) == 2 * size + 1 and raw[0] == 0x04:
        raw = raw[1:]
    if len(raw) != 2 * size:
        raise SM2KeyInvalid(f"an SM2 public key is {2 * size + 1} bytes 04||x||y", check="sm2-key")
    x = int.from_bytes(raw[:size], "big")
    y = int.from_bytes(raw[size:], "big")
    if not (x < curve.p and y < curve.p) or (y * y - x * x * x - curve.a * x - curve.b) % curve.p:
        raise SM2KeyInvalid("the SM2 public key is not a point of the curve", check="sm2-key")
    return x, y


def _looks_like_spki(data: bytes, size: int) -> bool:
    return data.startswith(b"-----") or (len(data) > 2 * size + 1 and data[0] == 0x30)


def _spki_point(data: bytes) -> bytes:
    """The point of a DER or PEM ``SubjectPublicKeyInfo`` on the SM2 curve."""
    try:
        if asn1_pem.detect(data):
            _, _, data = asn1_pem.unarmor(data)
        info = asn1_keys.PublicKeyInfo.load(data, strict=True)
        params = info["algorithm"]["parameters"]
        curve_oid = params.chosen.dotted if params.name == "named" else None
        point = info["public_key"].native
    except (ValueError, TypeError, KeyError) as err:
        raise SM2KeyInvalid("the SM2 public key does not decode", check="sm2-key") from err
    if curve_oid != SM2_CURVE_OID:
        raise SM2KeyInvalid(f"the key is on curve {curve_oid}, not SM2", check="sm2-key")
    return bytes(point)


def decode_sm2_signature(signature: bytes, curve: SM2Curve = SM2_P256) -> tuple[int, int]:
    """``(r, s)`` of a DER ``SEQUENCE{r, s}`` or a raw ``r||s`` (``SM2SignatureMalformed``)."""
    size = curve.size
    try:
        r, s = decode_dss_signature(signature)
        if encode_dss_signature(r, s) == signature:
            return r, s
    except ValueError:
        pass  # not DER: a raw r||s when the length says so
    if len(signature) == 2 * size:
        return int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    raise SM2SignatureMalformed(
        "the SM2 signature is neither canonical DER nor raw r||s", check="sm2-signature"
    )


# --- the operations --------------------------------------------------------------------------


def compute_sm2_z(
    public_key: bytes, uid: bytes = SM2_DEFAULT_UID, curve: SM2Curve = SM2_P256
) -> bytes:
    """``Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA)`` of GB/T 32918.2, 5.5."""
    return _core(curve).entity_info(uid, decode_sm2_public_key(public_key, curve))


def compute_sm2_digest(
    public_key: bytes, message: bytes, uid: bytes = SM2_DEFAULT_UID, curve: SM2Curve = SM2_P256
) -> bytes:
    """``e = SM3(Z || M)``, the value an SM2 signature signs."""
    return sm3(compute_sm2_z(public_key, uid, curve) + message)


def is_valid_sm2_signature(
    public_key: bytes,
    message: bytes,
    signature: bytes,
    *,
    uid: bytes = SM2_DEFAULT_UID,
    curve: SM2Curve = SM2_P256,
) -> bool:
    """Whether ``signature`` verifies; malformed keys and signatures are ``False``."""
    try:
        verify_sm2(public_key, message, signature, uid=uid, curve=curve)
    except (SM2KeyInvalid, SM2SignatureMalformed, SM2SignatureInvalid):
        return False
    return True


def verify_sm2(
    public_key: bytes,
    message: bytes,
    signature: bytes,
    *,
    uid: bytes = SM2_DEFAULT_UID,
    curve: SM2Curve = SM2_P256,
) -> None:
    """Verify an SM2 signature over ``message`` (not pre-hashed: Z is computed here).

    Checks, cheapest first: ``sm2-signature`` (decodes), ``sm2-key`` (a point of
    the curve), ``sm2-verify`` (``SM2SignatureInvalid``; ``r, s`` in ``[1, n-1]``
    and the curve equation of GB/T 32918.2, 7.1).
    """
    r, s = decode_sm2_signature(signature, curve)
    point = decode_sm2_public_key(public_key, curve)
    if not _core(curve).verify(message, r, s, uid, point):
        raise SM2SignatureInvalid("the SM2 signature does not verify", check="sm2-verify")


def compute_sm2_public_key(private_key: bytes, curve: SM2Curve = SM2_P256) -> bytes:
    """``04||x||y`` of ``d·G``."""
    x, y = _core(curve).generate_pk(int.from_bytes(private_key, "big"))
    size = curve.size
    return b"\x04" + x.to_bytes(size, "big") + y.to_bytes(size, "big")


def sign_sm2(
    private_key: bytes,
    message: bytes,
    *,
    uid: bytes = SM2_DEFAULT_UID,
    curve: SM2Curve = SM2_P256,
    nonce: int | None = None,
) -> bytes:
    """A DER SM2 signature (for tests, the devnet and fixtures; the hub only verifies).

    ``nonce`` fixes ``k`` to replay a published example; leave it ``None`` otherwise.
    """
    rnd = None if nonce is None else (lambda _bits: nonce)
    d = int.from_bytes(private_key, "big")
    core = _core(curve, rnd)
    r, s = core.sign(message, d, uid, core.generate_pk(d))
    return encode_dss_signature(r, s)


__all__ = [
    "SM2_CURVE_OID",
    "SM2_DEFAULT_UID",
    "SM2_P256",
    "SM2_WITH_SM3_OID",
    "SM2Curve",
    "SM2KeyInvalid",
    "SM2SignatureInvalid",
    "SM2SignatureMalformed",
    "compute_sm2_digest",
    "compute_sm2_public_key",
    "compute_sm2_z",
    "decode_sm2_public_key",
    "decode_sm2_signature",
    "is_valid_sm2_signature",
    "sign_sm2",
    "verify_sm2",
]
