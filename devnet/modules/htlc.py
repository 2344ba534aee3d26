"""Hashed timelock contracts: one leg of an atomic swap.

``htlc_lock`` moves an amount out of the sender's balance into a contract
``htlc/<id>`` whose id is the hash of all its terms and the sender's nonce
(``H(rlp([b"pujiang/htlc/v1", chain_id, sender, nonce, receiver, denom,
amount, hashlock, timelock_ms]))``), so two locks never share an id. Before
``timelock_ms`` (compared with the block time: ``time_ms < timelock_ms``),
anyone holding the 32-byte preimage with ``sha256(preimage) == hashlock`` may
claim it for the receiver; the ``htlc_claimed`` event carries the preimage, so
the other leg's party learns it from this chain. From ``timelock_ms`` on
(``time_ms >= timelock_ms``), anyone may refund it to the sender. A contract
stays in state with its status (0 locked, 1 claimed, 2 refunded), so it is
settled at most once.

State value: ``rlp([sender, receiver, denom, amount, hashlock, timelock_ms, status])``.
"""

from __future__ import annotations

import hashlib
import hmac

import rlp

from devnet.modules.context import (
    TxContext,
    as_address,
    as_amount,
    as_bytes,
    as_denom,
    as_uint,
    unpack,
)
from devnet.state import HTLC_CLAIMED, HTLC_LOCKED, HTLC_REFUNDED, htlc_key
from devnet.txs import Reason, TxRejected
from proofs.pujiang import codec

HTLC_TAG = b"pujiang/htlc/v1"
_STATUS = {HTLC_LOCKED: "locked", HTLC_CLAIMED: "claimed", HTLC_REFUNDED: "refunded"}


class Htlc:
    """A decoded ``htlc/<id>`` entry."""

    __slots__ = ("amount", "denom", "hashlock", "receiver", "sender", "status", "timelock_ms")

    def __init__(self, value: bytes) -> None:
        sender, receiver, denom, amount, hashlock, timelock, status = rlp.decode(value)
        self.sender: bytes = sender
        self.receiver: bytes = receiver
        self.denom: bytes = denom
        self.amount = codec.raw_int(amount, "amount")
        self.hashlock: bytes = hashlock
        self.timelock_ms = codec.raw_int(timelock, "timelock_ms")
        self.status = codec.raw_int(status, "status")

    def encode(self) -> bytes:
        return rlp.encode(
            [
                self.sender,
                self.receiver,
                self.denom,
                self.amount,
                self.hashlock,
                self.timelock_ms,
                self.status,
            ]
        )


def compute_htlc_id(ctx: TxContext, terms: list[object]) -> bytes:
    return ctx.hash_fn(rlp.encode([HTLC_TAG, ctx.block.chain_id, ctx.sender, ctx.nonce, *terms]))


def htlc_lock(ctx: TxContext, args: object) -> None:
    """``[receiver (20), denom, amount, hashlock (32), timelock_ms]``."""
    names = ("receiver", "denom", "amount", "hashlock", "timelock_ms")
    receiver_item, denom_item, amount_item, hashlock_item, timelock_item = unpack(
        args, names, "htlc_lock"
    )
    receiver = as_address(receiver_item, "receiver")
    denom = as_denom(denom_item)
    amount = as_amount(amount_item)
    hashlock = as_bytes(hashlock_item, "hashlock", size=32)
    timelock = as_uint(timelock_item, "timelock_ms")
    if timelock <= ctx.block.time_ms:
        raise TxRejected(
            Reason.BAD_ARGS, f"timelock {timelock} is not after the block time {ctx.block.time_ms}"
        )
    htlc_id = compute_htlc_id(ctx, [receiver, denom, amount, hashlock, timelock])
    if ctx.state.get(htlc_key(htlc_id)) is not None:
        raise TxRejected(Reason.HTLC_EXISTS, f"htlc 0x{htlc_id.hex()} exists")
    ctx.debit(ctx.sender, denom, amount)
    ctx.state.set(
        htlc_key(htlc_id),
        rlp.encode([ctx.sender, receiver, denom, amount, hashlock, timelock, HTLC_LOCKED]),
    )
    ctx.emit(
        "htlc_locked",
        {
            "htlc_id": htlc_id,
            "sender": ctx.sender,
            "receiver": receiver,
            "denom": denom,
            "amount": amount,
            "hashlock": hashlock,
            "timelock_ms": timelock,
        },
    )


def _open_htlc(ctx: TxContext, item: object) -> tuple[bytes, Htlc]:
    htlc_id = as_bytes(item, "htlc_id", size=32)
    value = ctx.state.get(htlc_key(htlc_id))
    if value is None:
        raise TxRejected(Reason.HTLC_NOT_FOUND, f"no htlc 0x{htlc_id.hex()}")
    htlc = Htlc(value)
    if htlc.status != HTLC_LOCKED:
        raise TxRejected(Reason.HTLC_CLOSED, f"htlc 0x{htlc_id.hex()} is {_STATUS[htlc.status]}")
    return htlc_id, htlc


def htlc_claim(ctx: TxContext, args: object) -> None:
    """``[htlc_id (32), preimage (32)]``: pays the receiver, before the timelock only."""
    id_item, preimage_item = unpack(args, ("htlc_id", "preimage"), "htlc_claim")
    preimage = as_bytes(preimage_item, "preimage", size=32)
    htlc_id, htlc = _open_htlc(ctx, id_item)
    if ctx.block.time_ms >= htlc.timelock_ms:
        raise TxRejected(
            Reason.HTLC_EXPIRED,
            f"block time {ctx.block.time_ms} reached the timelock {htlc.timelock_ms}",
        )
    if not hmac.compare_digest(hashlib.sha256(preimage).digest(), htlc.hashlock):
        raise TxRejected(Reason.WRONG_PREIMAGE, "sha256(preimage) is not the hashlock")
    ctx.credit(htlc.receiver, htlc.denom, htlc.amount)
    htlc.status = HTLC_CLAIMED
    ctx.state.set(htlc_key(htlc_id), htlc.encode())
    ctx.emit(
        "htlc_claimed",
        {
            "htlc_id": htlc_id,
            "receiver": htlc.receiver,
            "denom": htlc.denom,
            "amount": htlc.amount,
            "hashlock": htlc.hashlock,
            "preimage": preimage,
        },
    )


def htlc_refund(ctx: TxContext, args: object) -> None:
    """``[htlc_id (32)]``: pays the sender back, from the timelock on."""
    (id_item,) = unpack(args, ("htlc_id",), "htlc_refund")
    htlc_id, htlc = _open_htlc(ctx, id_item)
    if ctx.block.time_ms < htlc.timelock_ms:
        raise TxRejected(
            Reason.HTLC_NOT_EXPIRED,
            f"block time {ctx.block.time_ms} is before the timelock {htlc.timelock_ms}",
        )
    ctx.credit(htlc.sender, htlc.denom, htlc.amount)
    htlc.status = HTLC_REFUNDED
    ctx.state.set(htlc_key(htlc_id), htlc.encode())
    ctx.emit(
        "htlc_refunded",
        {"htlc_id": htlc_id, "sender": htlc.sender, "denom": htlc.denom, "amount": htlc.amount},
    )
