"""Block production: run a block's transactions, build its header, sign its commit.

Pure of I/O: the node (``devnet.node``) feeds in the parent, the committed
state and the transactions, stores what comes out, and only then makes it
visible. The functions follow ``docs/pujiang-chain.md`` field for field.

Transaction outcomes inside a block:

* wrong nonce (the sender's committed nonce, counting the block's earlier
  transactions): **excluded**, not in ``tx_root``; its receipt is ``failed``
  with no height. Nothing else about the chain changes.
* any other rejection by a handler: **included** and ``failed``: the sender's
  nonce advances, every other write and event of the transaction is dropped.
* success: included, ``committed``, its writes and events kept.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import proofs.bls as bls
from devnet.keys import Keyring
from devnet.modules import HANDLERS
from devnet.modules.context import BlockScope, TxContext
from devnet.state import Overlay, Reader, nonce_key
from devnet.txs import CheckedTx, Reason, TxRejected
from proofs.hashing import HashFunction
from proofs.merkle import merkle_root
from proofs.pujiang import codec

log = logging.getLogger("pjgw.devnet")

COMMITTED, FAILED, PENDING = "committed", "failed", "pending"


@dataclass(frozen=True)
class Receipt:
    tx_hash: bytes
    status: str
    height: int | None
    index: int | None
    reason: str | None


@dataclass(frozen=True)
class EventRecord:
    """One leaf of a block's events root, with where it came from."""

    index: int
    tx_hash: bytes
    event: codec.Event
    leaf: bytes


@dataclass
class Execution:
    """What running a block's transactions produced (before the header exists)."""

    state: Overlay
    included: list[CheckedTx] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    accepted_valset: tuple[int, list[codec.Validator]] | None = None


class ValidatorSchedule:
    """Which set signs which height: ``(from_height, set)`` entries, ascending."""

    def __init__(self, hash_fn: HashFunction) -> None:
        self._hash_fn = hash_fn
        self._starts: list[int] = []
        self._sets: list[list[codec.Validator]] = []
        self._hashes: list[bytes] = []

    def add(self, from_height: int, validators: Sequence[codec.Validator]) -> None:
        if self._starts and from_height <= self._starts[-1]:
            raise ValueError("validator sets are scheduled in increasing height order")
        self._starts.append(from_height)
        self._sets.append(list(validators))
        self._hashes.append(codec.compute_validators_hash(validators, self._hash_fn))

    def _position(self, height: int) -> int:
        position = bisect.bisect_right(self._starts, height) - 1
        if position < 0:
            raise KeyError(f"no validator set signs height {height}")
        return position

    def set_at(self, height: int) -> list[codec.Validator]:
        return self._sets[self._position(height)]

    def hash_at(self, height: int) -> bytes:
        return self._hashes[self._position(height)]

    @property
    def last_start(self) -> int:
        return self._starts[-1]


def execute_block(
    scope: BlockScope, committed: Reader, txs: Sequence[CheckedTx], height: int
) -> Execution:
    """Run ``txs`` in order on an overlay of ``committed``; see the module doc for outcomes."""
    out = Execution(state=Overlay(committed))
    block_state = out.state
    for tx in txs:
        key = nonce_key(tx.sender)
        expected = block_state.get_uint(key)
        if tx.nonce != expected:
            reason = TxRejected(
                Reason.WRONG_NONCE, f"nonce {tx.nonce}, the account is at {expected}"
            )
            out.receipts.append(Receipt(tx.hash, FAILED, None, None, reason.text))
            continue
        index = len(out.included)
        out.included.append(tx)
        block_state.set_uint(key, expected + 1)
        ctx = TxContext(scope, block_state.child(), tx.sender, tx.nonce, index)
        try:
            HANDLERS[tx.kind](ctx, tx.args)
        except TxRejected as rejection:
            out.receipts.append(Receipt(tx.hash, FAILED, height, index, rejection.text))
            continue
        except Exception:  # a handler bug must not stop the chain: fail the tx, keep going
            log.exception("transaction 0x%s crashed its handler", tx.hash.hex())
            reason = f"{Reason.INTERNAL_ERROR.value}: the handler failed (logged by the node)"
            out.receipts.append(Receipt(tx.hash, FAILED, height, index, reason))
            continue
        ctx.state.merge_into_parent()
        for event in ctx.events:
            leaf = codec.encode(event)
            out.events.append(EventRecord(len(out.events), tx.hash, event, leaf))
        out.receipts.append(Receipt(tx.hash, COMMITTED, height, index, None))
    out.accepted_valset = scope.accepted_valset
    return out


def build_header(
    *,
    chain_id: bytes,
    height: int,
    time_ms: int,
    parent_hash: bytes,
    last_commit_hash: bytes,
    txs: Sequence[bytes],
    event_leaves: Sequence[bytes],
    state_root: bytes,
    state_size: int,
    schedule: ValidatorSchedule,
    hash_fn: HashFunction,
) -> codec.Header:
    return codec.Header(
        version=codec.FORMAT_VERSION,
        chain_id=chain_id,
        height=height,
        time_ms=time_ms,
        parent_hash=parent_hash,
        last_commit_hash=last_commit_hash,
        tx_root=merkle_root(list(txs), hash_fn=hash_fn),
        tx_count=len(txs),
        events_root=merkle_root(list(event_leaves), hash_fn=hash_fn),
        event_count=len(event_leaves),
        state_root=state_root,
        state_size=state_size,
        validators_hash=schedule.hash_at(height),
        next_validators_hash=schedule.hash_at(height + 1),
    )


def sign_commit(
    header: codec.Header,
    header_hash: bytes,
    validators: Sequence[codec.Validator],
    keyring: Keyring,
    signers: Sequence[int],
    round_: int = 0,
) -> codec.Commit:
    """Each signer's BLS signature over the commit payload, aggregated (real signing, N times)."""
    payload = codec.compute_commit_signing_payload(
        header.chain_id, header.height, round_, header_hash
    )
    signatures = [bls.sign(keyring.secret(validators[i].bls_pubkey), payload) for i in signers]
    return codec.Commit(
        height=header.height,
        round=round_,
        header_hash=header_hash,
        signers=codec.encode_signers(signers, len(validators)),
        aggregate_signature=bls.aggregate(signatures),
    )
