"""EVM as a transfer source: a client-signed ``Bridge`` call checked before it is journaled.

A client signs its own ``Bridge.sendNative`` / ``sendToken`` / ``sendMessage``
(legacy EIP-155 or typed EIP-2930/EIP-1559) and the API journals the bytes as a
``raw_tx`` (``{"tx": hex}``, idempotency key ``tx:<keccak hash>``); the relayer
sends them as is. Checked here: the bytes are a signed transaction, for this
chain's EIP-155 id, to this chain's bridge (when one is configured), signed by
the request's sender (the recovered address).

Limitation: the call's arguments (receiver, amount, timeouts) are not compared
with the request yet; the packet the bridge emits is what the relayer carries,
so a mismatch misleads only the request's own record.

Hub-signed sends (``from_account``) need the bridge call, fees and nonce
management the adapter owns for its own signer; they are not wired yet
(``signs_for_accounts`` is False). Addresses: ``0x`` + 40 hex digits, mixed
case only as a valid EIP-55 checksum, kept lower-case.
"""

from __future__ import annotations

import re

import rlp
from eth_account import Account
from eth_keys import keys
from eth_utils import is_checksum_address

from core.errors import ConfigError, InvalidInput
from core.ids import ChainId
from core.seams import AccountSigner
from core.swaps import NATIVE_ASSET
from core.types import ChainAction, SendIntent, SourceSend
from proofs.hashing import keccak256

RAW_TX = "raw_tx"
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
KEY_FORMAT = "eth-keystore-v3"
"""The Ethereum keystore v3 JSON, so managed-account files interoperate with geth and Foundry."""
_TYPED = {1: 4, 2: 5}  # typed transaction -> index of ``to`` in its RLP list (chain id first)


def validate_address(value: str, field: str = "address") -> str:
    """``0x`` + 40 hex digits (mixed case must be EIP-55), lower-cased; ``InvalidInput``."""
    if not isinstance(value, str) or not ADDRESS.fullmatch(value):
        raise InvalidInput(f"{field}: a evm address is 0x followed by 40 hex digits", field=field)
    body = value[2:]
    mixed = body != body.lower() and body != body.upper()
    if mixed and not is_checksum_address(value):
        raise InvalidInput(f"{field}: EIP-55 checksum does not match", field=field)
    return value.lower()


def address_bytes(value: str) -> bytes:
    """The 20 raw bytes of an address (``InvalidInput`` when it is not one)."""
    return bytes.fromhex(validate_address(value)[2:])


def validate_asset(value: str, field: str = "asset") -> str:
    """A leg's asset: the chain's coin (``native``) or an ERC-20's address, lower-case."""
    if isinstance(value, str) and value.lower() == NATIVE_ASSET:
        return NATIVE_ASSET
    return validate_address(value, field)


class EvmAccount:
    """A managed account's secp256k1 key (``AccountSigner``); the key never leaves it."""

    __slots__ = ("_key", "address")

    def __init__(self, secret: bytes) -> None:
        try:
            self._key = keys.PrivateKey(secret)
        except Exception:  # eth-keys raises several classes; never quote the value
            raise InvalidInput("an evm account key is a valid 32-byte secp256k1 key") from None
        self.address: bytes = self._key.public_key.to_canonical_address()

    def __repr__(self) -> str:
        return f"EvmAccount(0x{self.address.hex()})"


def _bad(message: str) -> InvalidInput:
    return InvalidInput(f"signed_tx: {message}", field="signed_tx")


def decode_chain_and_to(raw: bytes) -> tuple[int | None, bytes]:
    """``(EIP-155 chain id or None, to)`` of a signed transaction; ``ValueError`` otherwise."""
    if raw and raw[0] in _TYPED:
        fields = rlp.decode(raw[1:])
        return int.from_bytes(fields[0], "big"), bytes(fields[_TYPED[raw[0]]])
    if not raw or raw[0] < 0xC0:
        raise ValueError("not an RLP list or a known typed transaction")
    fields = rlp.decode(raw)
    if len(fields) != 9:
        raise ValueError("a legacy transaction has 9 fields")
    v = int.from_bytes(fields[6], "big")
    return ((v - 35) // 2 if v >= 35 else None), bytes(fields[3])


class EvmSourceTransactions:
    """The ``SourceTransactions`` of one EVM chain (its EIP-155 id and bridge address)."""

    signs_for_accounts = False

    def __init__(self, chain_id: ChainId, evm_chain_id: int, bridge_address: str | None) -> None:
        self.chain_id = chain_id
        self.evm_chain_id = evm_chain_id
        self.bridge = bytes.fromhex(bridge_address[2:]) if bridge_address else None

    def validate_signed_send(self, intent: SendIntent, raw: bytes) -> SourceSend:
        """``raw`` as the journaled ``raw_tx`` once it is a bridge call by the sender.

        Checks, in order: 1. the bytes decode as a legacy or typed transaction;
        2. its EIP-155 chain id is this chain's (a transaction without one could
        be replayed on any chain); 3. it calls this chain's bridge (when
        configured); 4. its signature recovers ``intent.sender``.
        """
        try:
            chain, to = decode_chain_and_to(raw)
        except (rlp.DecodingError, ValueError, IndexError, TypeError):
            raise _bad("not a signed EVM transaction") from None
        if chain != self.evm_chain_id:
            raise _bad(f"signed for another chain than {self.chain_id}")
        if self.bridge is not None and to != self.bridge:
            raise _bad(f"not a call of the bridge of {self.chain_id}")
        try:
            sender = Account.recover_transaction(raw)
        except Exception:  # eth-account raises several unrelated classes on garbage
            raise _bad("not a signed EVM transaction") from None
        if bytes.fromhex(sender[2:]) != intent.sender:
            raise _bad("not signed by sender")
        tx_hash = keccak256(raw)
        action = ChainAction(RAW_TX, {"tx": "0x" + raw.hex()}, "tx:0x" + tx_hash.hex())
        return SourceSend(action, tx_hash)

    def account_address(self, signer: AccountSigner) -> bytes:
        if not isinstance(signer, EvmAccount):
            raise InvalidInput("the managed account is not an evm account", field="from_account")
        return signer.address

    async def build_signed_send(
        self, intent: SendIntent, signer: AccountSigner, nonce: int
    ) -> SourceSend:
        raise ConfigError(
            f"from_account on {self.chain_id} is not wired yet: EVM sends need the "
            "adapter's fee and nonce management"
        )


__all__ = [
    "KEY_FORMAT",
    "EvmAccount",
    "EvmSourceTransactions",
    "address_bytes",
    "decode_chain_and_to",
    "validate_address",
    "validate_asset",
]
