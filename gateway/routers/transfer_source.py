"""The source-chain action that starts an API transfer, per source family.

Two ways in (``POST /v1/transfers``):

* ``signed_tx``: the client signed the source transaction itself. It is
  checked against the request before anything is stored (it decodes, its
  signature holds, it was signed by ``sender``, and on Pujiang it is the
  ``bridge_send`` / ``bridge_send_message`` the body describes), then
  journaled as the family's raw-transaction action (``raw_tx`` ``{"tx": hex}``),
  whose idempotency key is the transaction hash: re-sending it is harmless.
* ``from_account``: the hub signs with a managed key (``gateway.keystore``).
  On Pujiang the nonce is the larger of the committed one (asked of the
  source adapter) and one past the last this process signed, under a lock
  per account, so concurrent requests never reuse a nonce.

EVM ``from_account`` needs the bridge call, fees and nonce management the
EVM adapter owns for its own signer; it is not wired yet (501).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass

import rlp
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eth_account import Account
from eth_utils import keccak

from adapters.pujiang import actions as pj_actions
from core.errors import BadEncoding, BadSignature, InvalidInput
from core.records import ChainRecord, TransferKind
from core.types import ChainAction
from gateway.keystore import ManagedAccounts
from gateway.problems import NotImplementedYet, NotReady
from gateway.schemas.transfers import TransferRequest
from proofs.hashing import HashFunction
from proofs.pujiang import codec

RAW_TX = "raw_tx"
SOURCE_STEP = "source_submit"


@dataclass(frozen=True, slots=True)
class SourceTx:
    """A journaled source action and, when already known, the hash of its transaction."""

    action: ChainAction
    tx_hash: bytes | None


def receiver_bytes(family: str, receiver: str) -> bytes:
    """The receiver as the source chain's bridge carries it (raw address bytes)."""
    if family in ("evm", "pujiang"):
        return bytes.fromhex(receiver[2:])
    return receiver.encode()


def _hash_fn(chain: ChainRecord) -> HashFunction:
    profile = chain.settings.get("hash_profile", "sha256")
    return codec.hash_profile(str(profile))


# --- signed by the client -------------------------------------------------------------


def from_signed_tx(
    body: TransferRequest, source: ChainRecord, dest: ChainRecord, raw: bytes
) -> SourceTx:
    if source.family == "pujiang":
        return _pujiang_signed(body, source, dest, raw)
    if source.family == "evm":
        return _evm_signed(body, raw)
    raise NotImplementedYet(f"signed_tx from a {source.family} chain is not supported yet")


def _bad(message: str) -> InvalidInput:
    return InvalidInput(f"signed_tx: {message}", field="signed_tx")


def _pujiang_signed(
    body: TransferRequest, source: ChainRecord, dest: ChainRecord, raw: bytes
) -> SourceTx:
    hash_fn = _hash_fn(source)
    try:
        tx = codec.decode_transaction(raw)
    except BadEncoding as err:
        raise _bad(err.message) from None
    if tx.body.chain_id != str(source.chain_id).encode():
        raise _bad(f"signed for another chain than {source.chain_id}")
    if "0x" + codec.compute_address(tx.pubkey, hash_fn).hex() != body.sender:
        raise _bad("not signed by sender")
    expected = _pujiang_send_args(body, dest)
    kind = tx.body.kind.decode(errors="replace")
    if kind != expected[0]:
        raise _bad(f"a {body.kind} transfer is a {expected[0]} transaction, not {kind!r}")
    if rlp.encode(tx.body.args) != rlp.encode(codec.to_raw(expected[1])):
        raise _bad("its arguments differ from the request (receiver, amount, timeouts…)")
    try:
        Ed25519PublicKey.from_public_bytes(tx.pubkey).verify(
            tx.signature, codec.compute_tx_signing_message(tx.body)
        )
    except InvalidSignature:
        raise BadSignature("signed_tx: the Ed25519 signature does not verify") from None
    tx_hash = codec.compute_tx_hash(tx, hash_fn)
    return SourceTx(pj_actions.raw_tx_action(raw, hash_fn=hash_fn), tx_hash)


def _pujiang_send_args(body: TransferRequest, dest: ChainRecord) -> tuple[str, list[object]]:
    receiver = receiver_bytes(dest.family, body.receiver)
    timeout_ms = body.timeout_seconds * 1000
    if body.kind is TransferKind.ASSET:
        if body.payload != "0x":
            raise InvalidInput("a Pujiang asset transfer carries no payload", field="payload")
        return "bridge_send", [
            str(dest.chain_id).encode(),
            receiver,
            body.denom.encode(),
            int(body.amount),
            body.timeout_height,
            timeout_ms,
        ]
    if int(body.amount) != 0 or body.denom:
        raise InvalidInput("a Pujiang message carries no amount or denom", field="amount")
    return "bridge_send_message", [
        str(dest.chain_id).encode(),
        receiver,
        body.payload_bytes(),
        body.timeout_height,
        timeout_ms,
    ]


def _evm_signed(body: TransferRequest, raw: bytes) -> SourceTx:
    try:
        sender = Account.recover_transaction(raw)
    except Exception:  # eth-account raises several unrelated classes on garbage
        raise _bad("not a signed EVM transaction") from None
    if sender.lower() != body.sender:
        raise _bad("not signed by sender")
    tx_hash = keccak(raw)
    return SourceTx(ChainAction(RAW_TX, {"tx": "0x" + raw.hex()}, "tx:0x" + tx_hash.hex()), tx_hash)


# --- signed by the hub ------------------------------------------------------------------


class NonceBook:
    """The next nonce per managed account, as this process has used them."""

    def __init__(self) -> None:
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.next: dict[str, int] = {}


def check_managed(
    body: TransferRequest, source: ChainRecord, accounts: ManagedAccounts | None
) -> None:
    """Everything about ``from_account`` that needs no chain: it exists, fits, is sender."""
    if accounts is None:
        raise NotImplementedYet("this hub has no keystore (set keystore_dir)")
    name = body.from_account or ""
    account = accounts.account(name)
    if account.family != source.family:
        raise InvalidInput(
            f"account {name!r} is a {account.family} account; the route starts on "
            f"a {source.family} chain",
            field="from_account",
        )
    if source.family != "pujiang":
        raise NotImplementedYet(f"from_account on a {source.family} source is not wired yet")
    signer = accounts.pujiang_signer(name)
    if "0x" + signer.address(_hash_fn(source)).hex() != body.sender:
        raise InvalidInput(f"sender is not the address of account {name!r}", field="sender")


async def from_managed_account(
    body: TransferRequest,
    source: ChainRecord,
    dest: ChainRecord,
    accounts: ManagedAccounts,
    adapter: object,
    nonces: NonceBook,
) -> SourceTx:
    """Sign the Pujiang send with the managed key at the account's next nonce."""
    name = body.from_account or ""
    signer = accounts.pujiang_signer(name)
    account_nonce = getattr(adapter, "account_nonce", None)
    if account_nonce is None:
        raise NotReady(f"no adapter reaches chain {source.chain_id} to read the account nonce")
    hash_fn = _hash_fn(source)
    kind, args = _pujiang_send_args(body, dest)
    async with nonces.locks[name]:
        committed = await asyncio.wait_for(account_nonce(signer.address(hash_fn)), 10.0)
        nonce = max(int(committed), nonces.next.get(name, 0))
        raw = pj_actions.build_signed_tx(signer, str(source.chain_id), nonce, kind, args)
        nonces.next[name] = nonce + 1
    tx_hash = hash_fn(raw)
    return SourceTx(pj_actions.raw_tx_action(raw, hash_fn=hash_fn), tx_hash)


__all__ = [
    "RAW_TX",
    "SOURCE_STEP",
    "NonceBook",
    "SourceTx",
    "check_managed",
    "from_managed_account",
    "from_signed_tx",
    "receiver_bytes",
]
