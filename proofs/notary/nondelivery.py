"""Non-delivery: when a notary may state that a packet will never be received. Pure.

A non-delivery attestation lets the SOURCE refund a packet, so it must be
true forever, not just now. Both destination bridges refuse a delivery in a
block whose height reached ``timeout_height`` or whose time reached the
timeout (``Bridge.receivePacket``, the devnet's ``bridge_recv``). Block
heights grow by one and block times never decrease, so:

    if at a FINAL destination block B the timeout has passed and the packet
    is NOT in B's state, no block after B can receive it, and B itself
    did not: the packet is never received.

That is the whole rule (:func:`nondelivery_verdict`). Its inputs must be
verified by the caller: B's height and time from a header its own light
client accepted, ``received`` from a state proof against that header's
state root. It is safe even after the same notary attested DELIVERY of the
packet: that attestation could only have been used before the timeout,
and B proves it was not.

:func:`statement_verdict` is the signed log's rule built on it: per packet at
most one delivery digest and one non-delivery digest; a non-delivery after
a delivery only with the non-receipt proof; never a delivery after a
non-delivery (the refund may already be paid); the hub's store keeps each
statement with its kind. The receipt-entry locations of both
destination families are here too, so their derivation is tested once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from eth_hash.auto import keccak

from core.errors import InvalidInput

DELIVERY = "delivery"
NONDELIVERY = "nondelivery"
KINDS = (DELIVERY, NONDELIVERY)
ERROR_ACK = "error_ack"
"""The batch-only statement that refunds a packet its destination received but recorded
failed (issue #15): its proof is the destination's ``packet_failed`` event, not a
non-receipt."""
REFUNDS = frozenset({NONDELIVERY, ERROR_ACK})
"""Statements that refund a packet on its source: a packet is refunded by one of them."""

EVM_RECEIVED_SLOT = 7
"""Storage slot of ``Bridge.received`` (``mapping(bytes32 => mapping(uint64 => bool))``):
slots 0 ``localChain``, 1 ``admin``+``paused``+``epoch``, 2 ``threshold``,
3 ``isMember``, 4 ``_members``, 5 ``lastSequence``, 6 ``commitments``, 7 ``received``.
``tests/timeouts`` reads a delivered packet's slot from anvil to pin it."""


@dataclass(frozen=True, slots=True)
class Timeout:
    """A packet's timeout; 0 means "none" (never both 0 for a packet a bridge accepted)."""

    height: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class DestinationBlock:
    """What the notary VERIFIED at one final destination block.

    ``height`` and ``time_ms`` come from a header its light client accepted;
    ``received`` from a state proof of the packet's receipt entry against
    that header's state root (the state after the block).
    """

    height: int
    time_ms: int
    received: bool


class Verdict(StrEnum):
    SIGN = "sign"
    NO_TIMEOUT = "no-timeout"  # the packet has neither a timeout height nor a time
    NOT_TIMED_OUT = "not-timed-out"  # the block is before the timeout
    RECEIVED = "received"  # the destination holds the packet: delivered, no refund


def is_timeout_passed(timeout: Timeout, height: int, time_ms: int) -> bool:
    """Whether a destination block at ``height`` / ``time_ms`` refuses the packet."""
    by_height = timeout.height > 0 and height >= timeout.height
    by_time = timeout.time_ms > 0 and time_ms >= timeout.time_ms
    return by_height or by_time


def nondelivery_verdict(timeout: Timeout, block: DestinationBlock) -> Verdict:
    """``SIGN`` only when the timeout passed at ``block`` and the packet is not in its state."""
    if timeout.height <= 0 and timeout.time_ms <= 0:
        return Verdict.NO_TIMEOUT
    if block.received:
        return Verdict.RECEIVED
    if not is_timeout_passed(timeout, block.height, block.time_ms):
        return Verdict.NOT_TIMED_OUT
    return Verdict.SIGN


class Statement(StrEnum):
    NEW = "new"  # sign and record
    REPEAT = "repeat"  # the same digest again: return the stored signature
    EQUIVOCATION = "equivocation"  # another digest of the same kind
    AFTER_NONDELIVERY = "after-nondelivery"  # a delivery after a non-delivery
    UNPROVEN = "unproven"  # a non-delivery without the non-receipt proof
    DOUBLE_REFUND = "double-refund"  # an error ack after a non-delivery, or the reverse


def statement_verdict(
    signed: Mapping[str, bytes], kind: str, digest: bytes, *, nonreceipt_proven: bool
) -> Statement:
    """May a notary that signed ``signed`` (kind -> digest) for a packet now sign ``kind``?

    Checks in order: a statement of the same kind (``REPEAT`` for the same
    digest, else ``EQUIVOCATION``); a delivery after a non-delivery
    (``AFTER_NONDELIVERY``); a non-delivery without the proof (``UNPROVEN``).
    """
    if kind not in KINDS:
        raise InvalidInput(f"unknown statement kind {kind!r}")
    if kind in signed:
        return Statement.REPEAT if signed[kind] == digest else Statement.EQUIVOCATION
    if kind == DELIVERY and NONDELIVERY in signed:
        return Statement.AFTER_NONDELIVERY
    if kind == NONDELIVERY and not nonreceipt_proven:
        return Statement.UNPROVEN
    return Statement.NEW


def compute_pujiang_recv_key(source_chain: str, sequence: int) -> bytes:
    """The devnet bridge's receipt entry ``recv/<source>/<seq 8 bytes BE>``."""
    return b"recv/" + source_chain.encode("ascii") + b"/" + sequence.to_bytes(8, "big")


def compute_evm_received_slot(source_chain: str, sequence: int) -> bytes:
    """Storage slot of ``received[keccak256(source)][sequence]`` in ``Bridge.sol``."""
    outer = keccak(keccak(source_chain.encode()) + EVM_RECEIVED_SLOT.to_bytes(32, "big"))
    return keccak(sequence.to_bytes(32, "big") + outer)


__all__ = [
    "DELIVERY",
    "ERROR_ACK",
    "NONDELIVERY",
    "REFUNDS",
    "DestinationBlock",
    "Statement",
    "Timeout",
    "Verdict",
    "compute_evm_received_slot",
    "compute_pujiang_recv_key",
    "is_timeout_passed",
    "nondelivery_verdict",
    "statement_verdict",
]
