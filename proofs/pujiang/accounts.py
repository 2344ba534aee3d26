"""Pujiang account-signature schemes: Ed25519 (``standard``) and SM2 (``gm``).

A chain's crypto profile fixes two things for its life: the hash of its
headers, trees and addresses (``hash_profile``) and the scheme its accounts
sign transactions with (``account_scheme``). ``standard`` is sha256 + Ed25519,
``gm`` is SM3 + SM2 (GB/T 32918, default user id ``1234567812345678``).

The SM2 wire encodings are fixed, one each, so a transaction has one hash:
the public key is the 65-byte uncompressed point ``04||x||y`` (the address
is ``H(pubkey)[:20]`` of those 65 bytes) and the signature is the raw 64-byte
``r||s`` (no DER). The signed message is the transaction signing message of
``codec.compute_tx_signing_message``, as for Ed25519; SM2 hashes it itself
with ``e = SM3(Z || M)``.

A 32-byte account seed gives both keys: Ed25519 takes it as its RFC 8032
seed; SM2 takes ``d = seed mod (n - 2) + 1`` (gmalg signs with ``d`` in
``[1, n-2]``), so dev keys, the relayer key and keystores stay 32-byte seeds.
"""

from __future__ import annotations

from typing import Final, Literal

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from proofs.sm2 import SM2_P256, compute_sm2_public_key, is_valid_sm2_signature, sign_sm2

ED25519: Final = "ed25519"
SM2: Final = "sm2"
AccountScheme = Literal["ed25519", "sm2"]
ACCOUNT_SCHEMES: Final = (ED25519, SM2)
CRYPTO_PROFILES: Final[dict[str, tuple[str, str]]] = {
    "standard": ("sha256", ED25519),
    "gm": ("sm3", SM2),
}
"""``--crypto`` name -> ``(hash_profile, account_scheme)``."""
SM2_PUBKEY_BYTES: Final = 65
SM2_SIGNATURE_BYTES: Final = 64
_SIZE: Final = 32


def crypto_profile_name(hash_profile: str, account_scheme: str) -> str | None:
    """The ``--crypto`` name of a pair, ``None`` for a mixed one (e.g. sm3 + ed25519)."""
    for name, pair in CRYPTO_PROFILES.items():
        if pair == (hash_profile, account_scheme):
            return name
    return None


def sm2_secret(seed: bytes) -> bytes:
    """The SM2 private key (32 bytes, ``d`` in ``[1, n-2]``) of a 32-byte account seed."""
    d = int.from_bytes(seed, "big") % (SM2_P256.n - 2) + 1
    return d.to_bytes(_SIZE, "big")


def sm2_public_key(seed: bytes) -> bytes:
    """``04||x||y`` of the seed's SM2 key: the 65 bytes a transaction carries."""
    return compute_sm2_public_key(sm2_secret(seed))


def sm2_sign(seed: bytes, message: bytes) -> bytes:
    """The raw 64-byte ``r||s`` SM2 signature of ``message`` (default user id)."""
    r, s = decode_dss_signature(sign_sm2(sm2_secret(seed), message))
    return r.to_bytes(_SIZE, "big") + s.to_bytes(_SIZE, "big")


def is_valid_sm2_tx_signature(pubkey: bytes, message: bytes, signature: bytes) -> bool:
    """Whether a transaction's SM2 signature verifies, in the one encoding a chain accepts.

    Only a 65-byte ``04||x||y`` key and a 64-byte ``r||s`` are accepted (the
    facade would also take DER or ``x||y``: two encodings would be two hashes).
    """
    if len(pubkey) != SM2_PUBKEY_BYTES or pubkey[0] != 0x04:
        return False
    if len(signature) != SM2_SIGNATURE_BYTES:
        return False
    r = int.from_bytes(signature[:_SIZE], "big")
    s = int.from_bytes(signature[_SIZE:], "big")
    return is_valid_sm2_signature(pubkey, message, encode_dss_signature(r, s))


__all__ = [
    "ACCOUNT_SCHEMES",
    "CRYPTO_PROFILES",
    "ED25519",
    "SM2",
    "SM2_PUBKEY_BYTES",
    "SM2_SIGNATURE_BYTES",
    "AccountScheme",
    "crypto_profile_name",
    "is_valid_sm2_tx_signature",
    "sm2_public_key",
    "sm2_secret",
    "sm2_sign",
]
