"""EVM as a transfer source: a client-signed ``Bridge`` call checked before it is journaled.

A client signs its own ``Bridge.sendNative`` / ``sendToken`` / ``sendMessage``
(legacy EIP-155 or typed EIP-2930/EIP-1559) and the API journals the bytes as a
``raw_tx`` (``{"tx": hex}``, idempotency key ``tx:<keccak hash>``); the relayer
sends them as is. Checked here: the bytes are a signed transaction, for this
chain's EIP-155 id, to this chain's bridge (when one is configured), a bridge
send of the request's kind whose arguments are the request's (destination,
receiver, timeouts; the value for ``native``, the amount of a token, the
payload of a message), signed by the request's sender (the recovered address).

Limitation: a ``sendToken`` names a token address while the request names a
denom (the token, or a voucher path the bridge resolves on chain), so the
token is not compared with the denom; the packet the bridge emits is what the
relayer carries.

Hub-signed sends (``from_account``) need the bridge call, fees and nonce
management the adapter owns for its own signer; they are not wired yet
(``signs_for_accounts`` is False). Addresses: ``0x`` + 40 hex digits, mixed
case only as a valid EIP-55 checksum, kept lower-case.
"""

from __future__ import annotations

import re
from typing import Any

import rlp
from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError as AbiDecodingError
from eth_account import Account
from eth_utils import is_checksum_address

from adapters.signers import LocalSigner
from core.errors import ConfigError, InvalidInput
from core.ids import ChainId
from core.records import TransferKind
from core.seams import SECP256K1, AccountSigner
from core.swaps import NATIVE_ASSET
from core.types import ChainAction, SendIntent, SourceSend
from proofs.hashing import keccak256

RAW_TX = "raw_tx"
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
KEY_FORMAT = "eth-keystore-v3"
"""The Ethereum keystore v3 JSON, so managed-account files interoperate with geth and Foundry."""
_TYPED = {1: 4, 2: 5}  # typed transaction -> index of ``to`` in its RLP list (chain id first)
_SENDS = {
    "sendNative": ("string", "bytes", "uint64", "uint64"),
    "sendToken": ("address", "uint256", "string", "bytes", "uint64", "uint64"),
    "sendMessage": ("string", "bytes", "bytes", "uint64", "uint64"),
}
"""The sends of ``contracts/Bridge.sol`` (no artifact needed to read them)."""
_SELECTORS = {
    keccak256(f"{name}({','.join(types)})".encode())[:4]: name for name, types in _SENDS.items()
}
ARGS_DIFFER = "its arguments differ from the request (receiver, amount, timeouts…)"


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
    """A managed account's secp256k1 key (``AccountSigner``) behind the signer seam
    (``signer``: a ``core.seams.Signer``); the key never leaves it."""

    __slots__ = ("address", "signer")

    def __init__(self, secret: bytes) -> None:
        try:
            self.signer = LocalSigner(secret, SECP256K1, label="managed-account")
        except InvalidInput:  # never quote the value
            raise InvalidInput("an evm account key is a valid 32-byte secp256k1 key") from None
        self.address: bytes = keccak256(self.signer.public_key[1:])[12:]

    def __repr__(self) -> str:
        return f"EvmAccount(0x{self.address.hex()})"


def _bad(message: str) -> InvalidInput:
    return InvalidInput(f"signed_tx: {message}", field="signed_tx")


def decode_call(raw: bytes) -> tuple[int | None, bytes, int, bytes]:
    """``(EIP-155 chain id or None, to, value, data)`` of a signed transaction.

    ``ValueError`` (or an ``rlp`` error) when the bytes are not one.
    """
    if raw and raw[0] in _TYPED:
        fields = rlp.decode(raw[1:])
        at = _TYPED[raw[0]]
        chain: int | None = int.from_bytes(fields[0], "big")
    elif raw and raw[0] >= 0xC0:
        fields = rlp.decode(raw)
        if len(fields) != 9:
            raise ValueError("a legacy transaction has 9 fields")
        v = int.from_bytes(fields[6], "big")
        at, chain = 3, ((v - 35) // 2 if v >= 35 else None)
    else:
        raise ValueError("not an RLP list or a known typed transaction")
    return chain, bytes(fields[at]), int.from_bytes(fields[at + 1], "big"), bytes(fields[at + 2])


def compute_send_name(intent: SendIntent) -> tuple[str, ...]:
    """The bridge functions that can carry ``intent`` (an asset: the coin or a token)."""
    if intent.kind is TransferKind.MESSAGE:
        return ("sendMessage",)
    return ("sendNative",) if intent.denom == NATIVE_ASSET else ("sendToken",)


def is_send_of(intent: SendIntent, name: str, args: tuple[Any, ...], value: int) -> bool:
    """True when the decoded bridge call ``name(*args)`` with ``value`` is ``intent``'s send."""
    if name == "sendToken":
        _token, amount, dest, receiver, height, seconds = args
        carried, wanted = (amount, value), (intent.amount, 0)
    elif name == "sendMessage":
        dest, receiver, payload, height, seconds = args
        carried, wanted = (payload, value, 0), (intent.payload, 0, intent.amount)
    else:
        dest, receiver, height, seconds = args
        carried, wanted = (value,), (intent.amount,)
    terms = (dest, receiver, height, seconds * 1000)
    return carried == wanted and terms == (
        str(intent.dest_chain),
        intent.receiver,
        intent.timeout_height,
        intent.timeout_time_ms,
    )


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
            chain, to, value, data = decode_call(raw)
        except (rlp.DecodingError, ValueError, IndexError, TypeError, OverflowError):
            raise _bad("not a signed EVM transaction") from None
        if chain != self.evm_chain_id:
            raise _bad(f"signed for another chain than {self.chain_id}")
        if self.bridge is not None and to != self.bridge:
            raise _bad(f"not a call of the bridge of {self.chain_id}")
        self._check_send(intent, value, data)
        try:
            sender = Account.recover_transaction(raw)
        except Exception:  # eth-account raises several unrelated classes on garbage
            raise _bad("not a signed EVM transaction") from None
        if bytes.fromhex(sender[2:]) != intent.sender:
            raise _bad("not signed by sender")
        tx_hash = keccak256(raw)
        action = ChainAction(RAW_TX, {"tx": "0x" + raw.hex()}, "tx:0x" + tx_hash.hex())
        return SourceSend(action, tx_hash)

    def _check_send(self, intent: SendIntent, value: int, data: bytes) -> None:
        """The call is the bridge send of the intent's kind, with the intent's arguments."""
        name = _SELECTORS.get(data[:4])
        if name is None:
            raise _bad("not a Bridge send (sendNative, sendToken or sendMessage)")
        expected = compute_send_name(intent)
        if name not in expected:
            raise _bad(f"a {intent.kind} transfer of {intent.denom!r} is a {expected[0]} call")
        try:
            args = tuple(abi_decode(list(_SENDS[name]), data[4:]))
        except (AbiDecodingError, ValueError, TypeError, OverflowError, IndexError):
            raise _bad(f"the {name} arguments do not decode") from None
        if not is_send_of(intent, name, args, value):
            raise _bad(ARGS_DIFFER)

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
    "compute_send_name",
    "decode_call",
    "is_send_of",
    "validate_address",
    "validate_asset",
]
