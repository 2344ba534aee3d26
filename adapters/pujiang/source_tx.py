"""Pujiang as a transfer source: a client-signed send checked, a hub-signed one built.

The send a request describes is one bridge-module transaction
(docs/pujiang-chain.md): ``bridge_send [dest_chain, receiver, denom, amount,
timeout_height, timeout_ms]`` for an asset, ``bridge_send_message [dest_chain,
receiver, payload, timeout_height, timeout_ms]`` for a message. A client-signed
one must be exactly that transaction (its arguments re-encoded and compared
byte for byte), for this chain, by the request's sender; the signature (the
chain's account scheme: Ed25519, or SM2 on a ``gm`` chain) is checked last,
being the dearest check. Either way the journal gets a ``raw_tx`` whose
idempotency key is the transaction hash, so a resend after a crash is the same
transaction.

Addresses are ``0x`` + 40 hex digits, ``H(pubkey)[:20]`` with the chain's hash
profile; a managed account's key is a 32-byte seed, read under the chain's scheme.
"""

from __future__ import annotations

import re

import rlp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.pujiang import actions
from core.errors import BadEncoding, BadSignature, InvalidInput
from core.ids import ChainId
from core.records import TransferKind
from core.seams import AccountSigner
from core.types import SendIntent, SourceSend
from proofs.hashing import SHA256, HashFunction
from proofs.pujiang import accounts, codec

ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
KEY_FORMAT = "pjgw-aead-v1"
"""How the keystore seals a Pujiang key (no standard keystore format exists for it)."""


def validate_address(value: str, field: str = "address") -> str:
    """``0x`` + 40 hex digits, lower-cased; ``InvalidInput`` naming ``field``."""
    if not isinstance(value, str) or not ADDRESS.fullmatch(value):
        raise InvalidInput(
            f"{field}: a pujiang address is 0x followed by 40 hex digits", field=field
        )
    return value.lower()


def address_bytes(value: str) -> bytes:
    """The 20 raw bytes of an address (``InvalidInput`` when it is not one)."""
    return bytes.fromhex(validate_address(value)[2:])


class PujiangAccount:
    """A managed account's key seed (``AccountSigner``); the seed never leaves it.

    ``signer`` is its Ed25519 key; ``signer_for`` gives the key of another scheme
    (SM2 on a ``gm`` chain) from the same 32 bytes.
    """

    __slots__ = ("_sm2", "signer")

    def __init__(self, seed: bytes) -> None:
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise InvalidInput("a pujiang account key is a 32-byte seed")
        self.signer = actions.TxSigner(seed)
        self._sm2 = actions.TxSigner(seed, accounts.SM2)

    def signer_for(self, scheme: str) -> actions.TxSigner:
        """The account's key under a chain's scheme (the same seed for both)."""
        return self._sm2 if scheme == accounts.SM2 else self.signer

    @property
    def address(self) -> bytes:
        """The address under the default (sha256) profile, as a keystore records it."""
        return self.signer.address(SHA256)

    def __repr__(self) -> str:
        return f"PujiangAccount(0x{self.address.hex()})"


def compute_send_args(intent: SendIntent) -> tuple[str, list[object]]:
    """The bridge-module transaction ``(kind, args)`` of ``intent``.

    ``InvalidInput`` naming the request field the module cannot carry.
    """
    if intent.kind is TransferKind.ASSET:
        if intent.payload:
            raise InvalidInput("a Pujiang asset transfer carries no payload", field="payload")
        return "bridge_send", [
            str(intent.dest_chain).encode(),
            intent.receiver,
            intent.denom.encode(),
            int(intent.amount),
            intent.timeout_height,
            intent.timeout_time_ms,
        ]
    if int(intent.amount) != 0 or intent.denom:
        raise InvalidInput("a Pujiang message carries no amount or denom", field="amount")
    return "bridge_send_message", [
        str(intent.dest_chain).encode(),
        intent.receiver,
        intent.payload,
        intent.timeout_height,
        intent.timeout_time_ms,
    ]


def _bad(message: str) -> InvalidInput:
    return InvalidInput(f"signed_tx: {message}", field="signed_tx")


class PujiangSourceTransactions:
    """The ``SourceTransactions`` of one Pujiang chain (its id and hash profile)."""

    signs_for_accounts = True

    def __init__(
        self, chain_id: ChainId, hash_fn: HashFunction, scheme: str = accounts.ED25519
    ) -> None:
        self.chain_id = chain_id
        self.hash_fn = hash_fn
        self.scheme = scheme

    def validate_signed_send(self, intent: SendIntent, raw: bytes) -> SourceSend:
        """``raw`` as the journaled ``raw_tx`` once it is ``intent``'s send. Checks, in order:

        1. the bytes decode as a transaction;
        2. it is signed for this chain;
        3. its public key's address is ``intent.sender``;
        4. its kind is the intent's (``bridge_send`` / ``bridge_send_message``);
        5. its arguments equal the intent's, re-encoded;
        6. the signature over the body verifies under the chain's scheme (``BadSignature``).
        """
        self._check_intent(intent)
        try:
            tx = codec.decode_transaction(raw)
        except BadEncoding as err:
            raise _bad(err.message) from None
        if tx.body.chain_id != str(self.chain_id).encode():
            raise _bad(f"signed for another chain than {self.chain_id}")
        if codec.compute_address(tx.pubkey, self.hash_fn) != intent.sender:
            raise _bad("not signed by sender")
        kind, args = compute_send_args(intent)
        signed_kind = tx.body.kind.decode(errors="replace")
        if signed_kind != kind:
            raise _bad(f"a {intent.kind} transfer is a {kind} transaction, not {signed_kind!r}")
        if rlp.encode(tx.body.args) != rlp.encode(codec.to_raw(args)):
            raise _bad("its arguments differ from the request (receiver, amount, timeouts…)")
        message = codec.compute_tx_signing_message(tx.body)
        if self.scheme == accounts.SM2:
            if not accounts.is_valid_sm2_tx_signature(tx.pubkey, message, tx.signature):
                raise BadSignature("signed_tx: the SM2 signature does not verify")
        else:
            try:
                Ed25519PublicKey.from_public_bytes(tx.pubkey).verify(tx.signature, message)
            except (InvalidSignature, ValueError):
                raise BadSignature("signed_tx: the Ed25519 signature does not verify") from None
        return self._journaled(raw, codec.compute_tx_hash(tx, self.hash_fn))

    def account_address(self, signer: AccountSigner) -> bytes:
        """The account's address under THIS chain's hash profile."""
        return _account(signer).signer_for(self.scheme).address(self.hash_fn)

    async def build_signed_send(
        self, intent: SendIntent, signer: AccountSigner, nonce: int
    ) -> SourceSend:
        """``intent``'s bridge-module transaction signed by ``signer`` at ``nonce``."""
        self._check_intent(intent)
        kind, args = compute_send_args(intent)
        raw = actions.build_signed_tx(
            _account(signer).signer_for(self.scheme), str(self.chain_id), nonce, kind, args
        )
        return self._journaled(raw, self.hash_fn(raw))

    def _check_intent(self, intent: SendIntent) -> None:
        if intent.source_chain != self.chain_id:
            raise InvalidInput(
                f"a send from {intent.source_chain} given to chain {self.chain_id}",
                field="route_id",
            )

    def _journaled(self, raw: bytes, tx_hash: bytes) -> SourceSend:
        return SourceSend(actions.raw_tx_action(raw, hash_fn=self.hash_fn), tx_hash)


def _account(signer: AccountSigner) -> PujiangAccount:
    if not isinstance(signer, PujiangAccount):
        raise InvalidInput("the managed account is not a pujiang account", field="from_account")
    return signer


__all__ = [
    "KEY_FORMAT",
    "PujiangAccount",
    "PujiangSourceTransactions",
    "address_bytes",
    "compute_send_args",
    "validate_address",
]
