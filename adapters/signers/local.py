"""A key held in this process's memory: opened from the encrypted keystore, or (development
only, behind ``--insecure-plaintext-key``) read from a plaintext file.

secp256k1 signs with libsecp256k1 (coincurve: low ``s`` and the recovery id
directly), P-256 with pyca/cryptography (then ``ecdsa_form`` for low ``s`` and
``v``), Ed25519 with pyca/cryptography, SM2 with ``proofs.sm2``.

SECURITY: the secret is kept in a slot no repr shows; errors never quote it.
"""

from __future__ import annotations

from coincurve import PrivateKey
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from adapters.signers.ecdsa_form import recoverable
from core.errors import InvalidInput
from core.seams import ED25519, P256, SECP256K1, SM2
from proofs.pujiang import accounts

SCHEMES = (SECP256K1, P256, ED25519, SM2)


class LocalSigner:
    """A ``core.seams.Signer`` over a 32-byte secret of ``scheme``."""

    __slots__ = ("_key", "_public", "label", "scheme")

    def __init__(self, secret: bytes, scheme: str = SECP256K1, *, label: str = "memory") -> None:
        if scheme not in SCHEMES:
            raise InvalidInput(f"unknown signature scheme {scheme!r}; known: {', '.join(SCHEMES)}")
        if not isinstance(secret, bytes) or len(secret) != 32:
            raise InvalidInput("a signing key is 32 bytes")
        self.scheme = scheme
        self.label = label
        key: object
        try:
            if scheme == SECP256K1:
                key = PrivateKey(secret)
                public = key.public_key.format(compressed=False)
            elif scheme == P256:
                key = ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256R1())
                public = key.public_key().public_bytes(
                    Encoding.X962, PublicFormat.UncompressedPoint
                )
            elif scheme == ED25519:
                key = Ed25519PrivateKey.from_private_bytes(secret)
                public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            else:
                key = secret
                public = accounts.sm2_public_key(secret)
        except Exception:  # out of range for the curve; never quote the value
            raise InvalidInput(f"the key is not a valid {scheme} secret") from None
        self._key = key
        self._public = public

    @property
    def public_key(self) -> bytes:
        return self._public

    def sign_digest(self, digest: bytes) -> bytes:
        if self.scheme in (SECP256K1, P256) and len(digest) != 32:
            raise InvalidInput("a digest is 32 bytes", field="digest")
        key = self._key
        if isinstance(key, PrivateKey):
            signature = key.sign_recoverable(digest, hasher=None)
            return signature[:64] + bytes([27 + signature[64]])
        if isinstance(key, ec.EllipticCurvePrivateKey):
            der = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
            r, s = decode_dss_signature(der)
            return recoverable(P256, digest, r, s, self._public)
        if isinstance(key, Ed25519PrivateKey):
            return key.sign(digest)
        assert isinstance(key, bytes)  # SM2 keeps its seed
        return accounts.sm2_sign(key, digest)

    def __repr__(self) -> str:
        return f"LocalSigner({self.scheme}, {self.label})"


__all__ = ["SCHEMES", "LocalSigner"]
