"""Deterministic devnet keys, and the signing a devnet client does.

Every key of a devnet derives from the 32-byte seed in its genesis, so a restart
(or a test, or the tour) recovers the same validators, accounts and notaries
without a key store:

* validator ``i``: ``bls.keygen(seed, key_info=b"pujiang-devnet/validator/<i>")``;
* account ``i``: the 32-byte ``sha256(seed ‖ b"pujiang-devnet/account/<i>")``, an Ed25519
  seed on a ``standard`` chain, an SM2 key (``proofs.pujiang.accounts.sm2_secret``) on a
  ``gm`` chain;
* notary ``i``: secp256k1 from ``sha256(seed ‖ b"pujiang-devnet/notary/<i>")``.

SECURITY: the seed is every secret of the chain. That is the point of a devnet
and the opposite of a real subchain, whose validators each hold their own key.

The helpers below are what a client needs to talk to a node: build and sign a
transaction (``sign_tx``), sign a packet digest as a notary and assemble a
certificate (``sign_certificate``), sign a validator-set update as the
current validators (``sign_valset_update``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import rlp
from coincurve import PrivateKey
from nacl.signing import SigningKey

import proofs.bls as bls
from proofs.hashing import SHA256, HashFunction, keccak256
from proofs.pujiang import accounts, codec

VALIDATOR_INFO = b"pujiang-devnet/validator/"
ACCOUNT_INFO = b"pujiang-devnet/account/"
NOTARY_INFO = b"pujiang-devnet/notary/"
ACCOUNT_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")


def validator_secret(seed: bytes, index: int) -> int:
    """The BLS secret key of derived validator ``index``."""
    return bls.keygen(seed, key_info=VALIDATOR_INFO + str(index).encode())


def account_key(seed: bytes, index: int) -> SigningKey:
    """The Ed25519 key of dev account ``index``."""
    return SigningKey(hashlib.sha256(seed + ACCOUNT_INFO + str(index).encode()).digest())


class SM2AccountKey:
    """An SM2 account key from a 32-byte seed, with ``SigningKey``'s two uses (gm chains)."""

    __slots__ = ("pubkey", "seed")

    def __init__(self, seed: bytes) -> None:
        self.seed = seed
        self.pubkey = accounts.sm2_public_key(seed)

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte ``r||s`` (a ``SigningKey`` returns a ``SignedMessage``)."""
        return accounts.sm2_sign(self.seed, message)

    def __bytes__(self) -> bytes:
        return self.seed


AccountKey = SigningKey | SM2AccountKey
"""An account's signing key, of the chain's scheme."""


def scheme_account_key(seed: bytes, index: int, scheme: str = accounts.ED25519) -> AccountKey:
    """Dev account ``index``'s key under ``scheme`` (the same 32-byte seed for both)."""
    key = account_key(seed, index)
    return SM2AccountKey(bytes(key)) if scheme == accounts.SM2 else key


def public_key(key: AccountKey) -> bytes:
    """The public key a transaction carries (32-byte Ed25519, 65-byte ``04||x||y`` SM2)."""
    return key.pubkey if isinstance(key, SM2AccountKey) else bytes(key.verify_key)


def account_name(index: int) -> str:
    return ACCOUNT_NAMES[index] if index < len(ACCOUNT_NAMES) else f"account{index}"


def notary_key(seed: bytes, index: int) -> PrivateKey:
    """The secp256k1 key of notary ``index`` (a sha256 output is a valid key but for 2^-128)."""
    return PrivateKey(hashlib.sha256(seed + NOTARY_INFO + str(index).encode()).digest())


def notary_address(key: PrivateKey) -> bytes:
    """The Ethereum-style address of a notary: ``keccak256(x ‖ y)[12:]``."""
    return keccak256(key.public_key.format(compressed=False)[1:])[12:]


@dataclass(frozen=True)
class Account:
    """A key that signs transactions, with its address on one chain's hash profile."""

    key: AccountKey
    hash_fn: HashFunction = SHA256

    @property
    def pubkey(self) -> bytes:
        return public_key(self.key)

    @property
    def address(self) -> bytes:
        return codec.compute_address(self.pubkey, self.hash_fn)


def sign_tx(
    key: AccountKey, chain_id: str | bytes, nonce: int, kind: str | bytes, args: codec.RawItem
) -> bytes:
    """The raw bytes of a signed transaction (``rlp([body, pubkey, signature])``)."""
    body = codec.TxBody(
        chain_id=chain_id.encode() if isinstance(chain_id, str) else chain_id,
        nonce=nonce,
        kind=kind.encode() if isinstance(kind, str) else kind,
        args=codec.to_raw(args),
    )
    message = codec.compute_tx_signing_message(body)
    return rlp.encode(
        codec.Transaction(body=body, pubkey=public_key(key), signature=_sign(key, message))
    )


def _sign(key: AccountKey, message: bytes) -> bytes:
    """64 bytes either way: Ed25519 ``R||S`` or SM2 ``r||s``."""
    if isinstance(key, SM2AccountKey):
        return key.sign(message)
    return key.sign(message).signature


def sign_digest(key: PrivateKey, digest: bytes) -> bytes:
    """65 bytes ``r ‖ s ‖ v`` with low ``s`` and ``v`` in {27, 28} (libsecp256k1 gives low s)."""
    signature = key.sign_recoverable(digest, hasher=None)
    return signature[:64] + bytes([27 + signature[64]])


def sign_certificate(keys: Iterable[PrivateKey], digest: bytes) -> codec.Certificate:
    """A notary certificate of ``keys`` over a packet (or non-delivery) digest."""
    return codec.Certificate(signatures=[sign_digest(k, digest) for k in keys])


def sign_valset_update(
    chain_id: str | bytes,
    epoch: int,
    new_set: Sequence[codec.Validator],
    current_set: Sequence[codec.Validator],
    secrets: dict[bytes, int],
    signer_indices: Sequence[int],
    hash_fn: HashFunction = SHA256,
) -> list[object]:
    """The ``validator_update`` args: ``[epoch, new_set, signers, aggregate_signature]``.

    ``secrets`` maps a BLS public key to its secret (for the devnet: ``Keyring``).
    """
    chain = chain_id.encode() if isinstance(chain_id, str) else chain_id
    payload = codec.compute_valset_update_payload(chain, epoch, hash_fn(codec.encode(new_set)))
    signatures = [bls.sign(secrets[current_set[i].bls_pubkey], payload) for i in signer_indices]
    bitmap = codec.encode_signers(signer_indices, len(current_set))
    return [epoch, list(new_set), bitmap, bls.aggregate(signatures)]


class Keyring:
    """The validator secrets this process holds: derived indices ``0 .. size-1``.

    A validator-set update may only name keys of this ring (the node must be able
    to sign for the new set); ``make_validator`` builds a set member with its PoP.
    """

    def __init__(self, seed: bytes, size: int) -> None:
        self._seed = seed
        self._secrets: dict[bytes, int] = {}
        self._order: list[bytes] = []
        for i in range(size):
            secret = validator_secret(seed, i)
            pubkey = bls.sk_to_pk(secret)
            self._secrets[pubkey] = secret
            self._order.append(pubkey)

    def __contains__(self, pubkey: object) -> bool:
        return pubkey in self._secrets

    def __len__(self) -> int:
        return len(self._order)

    @property
    def secrets(self) -> dict[bytes, int]:
        return dict(self._secrets)

    def secret(self, pubkey: bytes) -> int:
        return self._secrets[pubkey]

    def pubkey(self, index: int) -> bytes:
        """The public key of derived validator ``index``."""
        return self._order[index]

    def make_validator(self, index: int, power: int) -> codec.Validator:
        secret = self._secrets[self._order[index]]
        return codec.Validator(
            bls_pubkey=self._order[index], power=power, pop=bls.pop_prove(secret)
        )

    def make_set(self, powers: dict[int, int]) -> list[codec.Validator]:
        """A sorted validator set of derived indices ``{index: power}``."""
        members = [self.make_validator(i, p) for i, p in powers.items()]
        return sorted(members, key=lambda v: v.bls_pubkey)
