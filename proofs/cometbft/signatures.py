"""Ed25519 commit signatures through PyNaCl (``VerifyKey.verify``, libsodium ``crypto_sign_open``).

What libsodium rejects (1.0.16 and later, as PyNaCl bundles it): an ``S``
that is not reduced below the group order (non-canonical ``S``, the classic
malleability), a public key or ``R`` of small order, and a non-canonical
encoding of the public key. The check is the cofactorless equation
``[S]B == R + [k]A`` compared on encodings.

CometBFT's Go verifier (``crypto/ed25519`` over ``curve25519-voi`` with
``VerifyOptionsZIP_215``) follows ZIP-215: it also rejects non-canonical
``S``, but ACCEPTS small-order and non-canonically encoded ``A`` and ``R``
and checks the cofactored equation ``[8][S]B == [8]R + [8][k]A``.

The difference, and why it is acceptable here: every signature libsodium
accepts, ZIP-215 accepts too (cofactorless validity implies cofactored
validity; canonical encodings are a subset), so this light client never
accepts a commit CometBFT would refuse (no safety gap). It may refuse a
commit that CometBFT accepts only when a validator uses a small-order or
non-canonically encoded key or crafts a mixed-order ``R``: honest key
generation never produces those, and a validator doing so is simply counted
as a bad signature (a liveness, never a safety, difference; fail closed).
"""

from __future__ import annotations

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from proofs.cometbft.types import ED25519_KEY_SIZE, ED25519_SIGNATURE_SIZE


def is_valid_ed25519(pub_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is libsodium-valid for ``message`` under ``pub_key``; no raise."""
    if (
        not isinstance(pub_key, bytes)
        or not isinstance(signature, bytes)
        or not isinstance(message, bytes)
        or len(pub_key) != ED25519_KEY_SIZE
        or len(signature) != ED25519_SIGNATURE_SIZE
    ):
        return False
    try:
        VerifyKey(pub_key).verify(message, signature)
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        return False
    return True


__all__ = ["is_valid_ed25519"]
