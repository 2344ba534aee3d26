"""The source-chain action that starts an API transfer, asked of the source chain's family.

Two ways in (``POST /v1/transfers``), both through the source adapter's
``SourceTransactions`` (``core.seams``) and the request as a chain-neutral
``SendIntent``:

* ``signed_tx``: the client signed the source transaction itself. The family
  checks it against the intent before anything is stored (it decodes, it is
  for this chain, ``sender`` signed it, it is the send the body describes, its
  signature holds) and returns the action to journal, whose idempotency key is
  the transaction hash: re-sending it is harmless.
* ``from_account``: the hub signs with a managed key (``gateway.keystore``).
  The nonce is the larger of the committed one (``SourceChain.account_nonce``
  of the hub's live adapter) and one past the last this process signed, under
  a lock per account, so concurrent requests never reuse a nonce. A family
  whose ``SourceTransactions`` does not sign for accounts is a 501, refused
  before anything is stored.

Checking needs the chain's settings but no node, so without a live adapter the
check runs on an adapter built from the chain's record (``Families.offline_adapter``).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass

from core.errors import InvalidInput
from core.records import ChainRecord
from core.seams import SourceChain, SourceTransactions
from core.steps import Step
from core.types import ChainAction, SendIntent
from gateway.families import Families
from gateway.keystore import ManagedAccounts
from gateway.problems import NotImplementedYet, NotReady
from gateway.schemas.transfers import TransferRequest

SOURCE_STEP = Step.SOURCE_SUBMIT
NONCE_TIMEOUT = 10.0
"""Seconds to wait for the source chain's committed nonce of a managed account."""


@dataclass(frozen=True, slots=True)
class SourceTx:
    """A journaled source action and, when already known, the hash of its transaction."""

    action: ChainAction
    tx_hash: bytes | None


def send_intent(
    body: TransferRequest, source: ChainRecord, dest: ChainRecord, families: Families
) -> SendIntent:
    """The request as the send on the source chain (addresses already validated)."""
    return SendIntent(
        kind=body.kind,
        source_chain=source.chain_id,
        dest_chain=dest.chain_id,
        sender=families.address_bytes(source.family, body.sender),
        receiver=families.address_bytes(dest.family, body.receiver),
        denom=body.denom,
        amount=int(body.amount),
        payload=body.payload_bytes(),
        timeout_height=body.timeout_height,
        timeout_time_ms=body.timeout_seconds * 1000,
    )


def source_transactions(adapter: object, source: ChainRecord) -> SourceTransactions:
    """The source chain's rules for starting a transfer (501 when its family has none)."""
    found = adapter.source_transactions() if isinstance(adapter, SourceChain) else None
    if found is None:
        raise NotImplementedYet(
            f"transfers cannot start from {source.chain_id} ({source.family} chains) "
            "through the API yet"
        )
    return found


# --- signed by the client -------------------------------------------------------------


def from_signed_tx(
    body: TransferRequest,
    source: ChainRecord,
    dest: ChainRecord,
    raw: bytes,
    families: Families,
    adapter: object,
) -> SourceTx:
    """``raw`` checked by the source family against the request; what to journal."""
    rules = source_transactions(adapter or families.offline_adapter(source), source)
    sent = rules.validate_signed_send(send_intent(body, source, dest, families), raw)
    return SourceTx(sent.action, sent.tx_hash)


# --- signed by the hub ------------------------------------------------------------------


class NonceBook:
    """The next nonce per managed account, as this process has used them."""

    def __init__(self) -> None:
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.next: dict[str, int] = {}


def check_managed(
    body: TransferRequest,
    source: ChainRecord,
    accounts: ManagedAccounts | None,
    families: Families,
    adapter: object,
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
    rules = source_transactions(adapter or families.offline_adapter(source), source)
    if not rules.signs_for_accounts:
        raise NotImplementedYet(f"from_account on a {source.family} source is not wired yet")
    sender = families.address_bytes(source.family, body.sender)
    if rules.account_address(accounts.signer(name)) != sender:
        raise InvalidInput(f"sender is not the address of account {name!r}", field="sender")


async def from_managed_account(
    body: TransferRequest,
    source: ChainRecord,
    dest: ChainRecord,
    accounts: ManagedAccounts,
    adapter: object,
    nonces: NonceBook,
    families: Families,
) -> SourceTx:
    """The send signed with the managed key at the account's next nonce."""
    if not isinstance(adapter, SourceChain):
        raise NotReady(f"no adapter reaches chain {source.chain_id} to read the account nonce")
    rules = source_transactions(adapter, source)
    name = body.from_account or ""
    signer = accounts.signer(name)
    address = rules.account_address(signer)
    intent = send_intent(body, source, dest, families)
    async with nonces.locks[name]:
        committed = await asyncio.wait_for(adapter.account_nonce(address), NONCE_TIMEOUT)
        nonce = max(int(committed), nonces.next.get(name, 0))
        sent = await rules.build_signed_send(intent, signer, nonce)
        nonces.next[name] = nonce + 1
    return SourceTx(sent.action, sent.tx_hash)


__all__ = [
    "SOURCE_STEP",
    "NonceBook",
    "SourceTx",
    "check_managed",
    "from_managed_account",
    "from_signed_tx",
    "send_intent",
    "source_transactions",
]
