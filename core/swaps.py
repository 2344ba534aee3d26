"""Atomic swaps (HTLC): the records the store keeps and the ``SwapStore`` seam.

A swap is two hashed-timelock legs under ONE sha256 hashlock:

* **leg 1** on chain A: the initiator locks asset X for the responder until ``T1``;
* **leg 2** on chain B: the responder locks asset Y for the initiator until ``T2``;

with ``T1 >= T2 + delta`` (``proofs.htlc.timing``). Each leg's on-chain life is
its :class:`LegState`; the swap's :class:`~core.states.SwapState` is derived
from the two (``proofs.htlc.rules.compute_swap_state``) and moves only along
``core.states.SWAP_TRANSITIONS``.

Kept apart from ``core.records`` (transfers) so the swap vocabulary can grow
without touching the transfer seam; same conventions: frozen records, amounts
as ``int`` in the asset's smallest unit, times as unix seconds passed in by the
caller. Timelocks are whole unix SECONDS on every chain (a Pujiang leg locks
with ``timelock_ms = timelock * 1000``).

Asset names: a Pujiang denom (``"ucny"``); on EVM :data:`NATIVE_ASSET` for the
chain's coin or the ERC-20's lower-case ``0x`` address.

SECURITY: ``SwapRecord.preimage`` is the secret until leg 2 is claimed; it is
kept out of reprs, and the API must not return it before it is public on chain
(``SwapRecord.preimage_public``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from core.ids import ChainId, Height
from core.records import ActionRecord, ActionStatus
from core.states import SwapState
from core.types import ChainAction, ChainEvent, EventKind

NATIVE_ASSET = "native"
"""The EVM chain's own coin as a leg's ``asset`` (``address(0)`` in ``HashedTimelock``)."""

HASHLOCK_SIZE = 32
PREIMAGE_SIZE = 32


class LegState(StrEnum):
    """One leg's HTLC as seen on its chain (only moves forward)."""

    PENDING = "pending"  # not locked yet
    LOCKED = "locked"  # a lock with exactly the leg's terms is on chain
    CLAIMED = "claimed"  # claimed with the preimage: paid to the leg's receiver
    REFUNDED = "refunded"  # refunded after the timelock: paid back to the leg's sender


LEG_TRANSITIONS: Mapping[LegState, frozenset[LegState]] = {
    LegState.PENDING: frozenset({LegState.LOCKED}),
    LegState.LOCKED: frozenset({LegState.CLAIMED, LegState.REFUNDED}),
    LegState.CLAIMED: frozenset(),
    LegState.REFUNDED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class NewSwapLeg:
    """The terms of one leg, as proposed (the lock on chain must match them exactly)."""

    chain_id: ChainId
    asset: str
    amount: int
    sender: str  # who locks (and gets a refund), 0x hex in the chain's address format
    receiver: str  # who gets the funds on a claim
    timelock: int  # unix seconds
    claim_delegated: bool = False  # the receiver lets the hub claim for it
    refund_delegated: bool = False  # the sender lets the hub refund for it


@dataclass(frozen=True, slots=True)
class NewSwap:
    """What creates a swap (``POST /v1/swaps``), after ``proofs.htlc`` accepted its terms."""

    hashlock: bytes
    leg1: NewSwapLeg  # initiator -> responder on chain A, timelock T1
    leg2: NewSwapLeg  # responder -> initiator on chain B, timelock T2
    preimage: bytes | None = field(default=None, repr=False)  # only when delegating leg 2's claim
    reason: str = "proposed"


@dataclass(frozen=True, slots=True)
class SwapLegRecord:
    """A stored leg: its terms and what happened to it on its chain."""

    leg: int  # 1 or 2
    chain_id: ChainId
    asset: str
    amount: int
    sender: str
    receiver: str
    hashlock: bytes
    timelock: int
    state: LegState
    claim_delegated: bool
    refund_delegated: bool
    lock_id: bytes | None = None  # the HTLC's id on its chain
    lock_tx: bytes | None = None
    lock_height: Height | None = None
    claim_tx: bytes | None = None
    refund_tx: bytes | None = None


@dataclass(frozen=True, slots=True)
class SwapRecord:
    """A stored swap."""

    id: str
    hashlock: bytes
    leg1: SwapLegRecord
    leg2: SwapLegRecord
    state: SwapState
    reason: str
    attempts: int
    next_attempt_at: float
    created_at: float
    updated_at: float
    preimage: bytes | None = field(default=None, repr=False)
    lease_owner: str | None = None
    lease_until: float | None = None

    @property
    def legs(self) -> tuple[SwapLegRecord, SwapLegRecord]:
        return (self.leg1, self.leg2)

    def leg(self, index: int) -> SwapLegRecord:
        return self.leg1 if index == 1 else self.leg2

    @property
    def preimage_public(self) -> bool:
        """True once a claim revealed the preimage on a chain (then the API may show it)."""
        return LegState.CLAIMED in (self.leg1.state, self.leg2.state)


@dataclass(frozen=True, slots=True)
class SwapEventRecord:
    """One line of a swap's append-only history (a state change, a leg change or a note)."""

    id: int
    swap_id: str
    at: float
    state: SwapState
    reason: str
    leg: int | None = None
    tx_hash: bytes | None = None
    chain_id: ChainId | None = None


@dataclass(frozen=True, slots=True)
class HtlcEvent:
    """An HTLC lock/claim/refund event in chain-neutral terms (``HtlcEndpoint.decode``).

    Terms are filled for a lock; ``preimage`` for a claim. ``timelock`` is whole
    unix seconds, ``None`` when the chain's value is not (a Pujiang ``timelock_ms``
    that is not a multiple of 1000: no swap leg can match it).
    """

    kind: EventKind
    chain_id: ChainId
    height: Height
    tx_hash: bytes
    lock_id: bytes
    sender: str | None = None
    receiver: str | None = None
    asset: str | None = None
    amount: int | None = None
    hashlock: bytes | None = None
    timelock: int | None = None
    preimage: bytes | None = None


@runtime_checkable
class HtlcEndpoint(Protocol):
    """A chain's HTLC (``HashedTimelock`` on EVM, the ``htlc`` module on Pujiang), in the
    watchtower's terms: one per family, wrapping that family's adapter.

    CONTRACT: ``claim_action`` / ``refund_action`` build actions whose execution pays
    the HTLC's receiver / sender (the contract decides, not the caller); building does
    not send. ``lock_status`` reads the chain's current record of the lock.
    """

    def decode(self, event: ChainEvent) -> HtlcEvent | None:
        """The HTLC event ``event`` carries; ``None`` for any other event."""
        ...

    async def claim_action(self, lock_id: bytes, preimage: bytes, key: str) -> ChainAction: ...

    async def refund_action(self, lock_id: bytes, key: str) -> ChainAction: ...

    async def lock_status(self, lock_id: bytes) -> LegState | None:
        """``LOCKED`` / ``CLAIMED`` / ``REFUNDED`` as the chain holds it now (``None``: unknown)."""
        ...


LEG_FIELDS = frozenset({"state", "lock_id", "lock_tx", "lock_height", "claim_tx", "refund_tx"})
"""What ``SwapStore.transition_swap`` may change on a leg (the terms never change)."""


@runtime_checkable
class SwapStore(Protocol):
    """Persistence of swaps (``gateway.store.SqlStore`` implements it; same rules as ``Store``).

    CONTRACT: every method is one database transaction; ``now`` is passed in.
    CONTRACT: ``transition_swap`` is compare-and-set on the swap's state (and
    lease, when ``worker`` is given); it appends one history line in the same
    transaction.
    """

    def create_swap(
        self,
        new: NewSwap,
        now: float,
        *,
        idempotency_key: str | None = None,
        request_hash: bytes | None = None,
    ) -> tuple[SwapRecord, bool]:
        """Insert, or return the existing one: ``(record, created)``.

        Same idempotency key and request hash -> the first swap, ``created``
        False; same key, other hash -> ``Conflict``. A hashlock any stored swap
        already uses (in any state) -> ``proofs.htlc.errors.HashlockReused``:
        once one swap's preimage is public, every HTLC under that hashlock can be
        claimed by anyone who watched.
        """
        ...

    def swap(self, swap_id: str) -> SwapRecord:
        """``NotFound`` when unknown."""
        ...

    def swap_by_hashlock(self, hashlock: bytes) -> SwapRecord | None: ...

    def swap_by_lock(self, chain_id: ChainId, lock_id: bytes) -> SwapRecord | None:
        """The swap one of whose legs is the HTLC ``lock_id`` on ``chain_id``."""
        ...

    def list_swaps(
        self,
        *,
        state: SwapState | None = None,
        chain: ChainId | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> tuple[list[SwapRecord], str | None]:
        """Newest first; ``after`` is the opaque cursor returned as the second item."""
        ...

    def transition_swap(
        self,
        swap_id: str,
        expected: SwapState,
        new: SwapState,
        reason: str,
        now: float,
        *,
        worker: str | None = None,
        legs: Mapping[int, Mapping[str, object]] | None = None,
        preimage: bytes | None = None,
    ) -> SwapRecord:
        """Move the swap from ``expected`` to ``new`` and update leg fields (``LEG_FIELDS``).

        ``new == expected`` records a leg change (or a learned preimage) without a
        state change. Leg state moves must follow ``LEG_TRANSITIONS``.
        ``InvalidTransition`` / ``LeaseLost`` / ``NotFound`` as ``Store.transition``.
        """
        ...

    def set_swap_preimage(self, swap_id: str, preimage: bytes, now: float) -> SwapRecord:
        """Keep a preimage the initiator handed over to delegate leg 2's claim.

        CONTRACT: the caller checked ``sha256(preimage) == hashlock``
        (``proofs.htlc.rules.validate_preimage``). Idempotent; makes the swap due now.
        """
        ...

    def note_swap(self, swap_id: str, reason: str, now: float, *, retry_at: float) -> None:
        """Keep the state, record why it waits, make it due again at ``retry_at``."""
        ...

    def swap_history(self, swap_id: str, after_id: int = 0) -> list[SwapEventRecord]: ...

    def claim_due_swaps(
        self, worker: str, now: float, lease_seconds: float, limit: int
    ) -> list[SwapRecord]:
        """Lease up to ``limit`` non-terminal swaps due at ``now``, oldest first."""
        ...

    def release_swap(self, swap_id: str, worker: str) -> None: ...

    # the journal of the chain actions the hub sends for a swap (claims, refunds)
    def record_swap_action(
        self, swap_id: str, step: str, chain_id: ChainId, action: ChainAction, now: float
    ) -> ActionRecord:
        """Journal an action before it is sent; idempotent on ``(swap_id, step)``.

        The returned ``ActionRecord.transfer_id`` holds the swap id.
        """
        ...

    def swap_action(self, swap_id: str, step: str) -> ActionRecord | None: ...

    def mark_swap_action(
        self,
        action_id: int,
        status: ActionStatus,
        *,
        tx_hash: bytes | None = None,
        height: Height | None = None,
        reason: str = "",
    ) -> None: ...


__all__ = [
    "HASHLOCK_SIZE",
    "LEG_FIELDS",
    "LEG_TRANSITIONS",
    "NATIVE_ASSET",
    "PREIMAGE_SIZE",
    "HtlcEndpoint",
    "HtlcEvent",
    "LegState",
    "NewSwap",
    "NewSwapLeg",
    "SwapEventRecord",
    "SwapLegRecord",
    "SwapRecord",
    "SwapStore",
]
