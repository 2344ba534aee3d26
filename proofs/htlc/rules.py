"""The HTLC swap rules the hub applies: preimages, terms, states, leg 2's lock, and
what the watchtower may do. Pure functions (no I/O, ``now`` passed in).

Prefixes as in the consensus specs: ``is_*`` never raises, ``compute_*`` derives,
``validate_*`` raises the first failed check (an ``errors`` class).

SECURITY: the hub can never take funds. The only chain actions it plans are a
claim (``HashedTimelock.claim`` / ``htlc_claim``), which the contract pays to
the HTLC's *receiver*, and a refund, which it pays to the HTLC's *sender*;
both are open to anyone, so the hub adds no power a watching stranger lacks.
:func:`plan_actions` only ever plans them for a party that delegated them.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

from core.states import SwapState
from core.swaps import (
    HASHLOCK_SIZE,
    PREIMAGE_SIZE,
    LegState,
    NewSwap,
    NewSwapLeg,
    SwapLegRecord,
    SwapRecord,
)
from proofs.htlc.errors import (
    InvalidSwapTerms,
    Leg1NotFinal,
    Leg1TooLittleTime,
    TimelockOutOfRange,
    UnsafeTimelocks,
    WrongPreimage,
)
from proofs.htlc.timing import (
    SwapTiming,
    compute_delta,
    compute_lock_window,
    validate_timelocks,
)

MAX_UINT256 = 2**256 - 1

_P, _L, _C, _R = LegState.PENDING, LegState.LOCKED, LegState.CLAIMED, LegState.REFUNDED
_STATE_OF_LEGS: dict[tuple[LegState, LegState], SwapState] = {
    # leg 1 not locked: a proposal, whatever leg 2 did (except being claimed: then the
    # responder paid for nothing, having locked before leg 1 against the rules)
    (_P, _P): SwapState.PROPOSED,
    (_P, _L): SwapState.PROPOSED,
    (_P, _R): SwapState.PROPOSED,
    (_P, _C): SwapState.UNBALANCED,
    (_L, _P): SwapState.INITIATOR_LOCKED,
    (_L, _L): SwapState.RESPONDER_LOCKED,
    (_L, _C): SwapState.RESPONDER_CLAIMED,
    (_L, _R): SwapState.RESPONDER_REFUNDED,
    (_C, _P): SwapState.INITIATOR_CLAIMED,
    (_C, _L): SwapState.INITIATOR_CLAIMED,
    (_C, _C): SwapState.COMPLETED,
    (_C, _R): SwapState.UNBALANCED,
    (_R, _P): SwapState.REFUNDED,
    (_R, _L): SwapState.INITIATOR_REFUNDED,
    (_R, _C): SwapState.UNBALANCED,
    (_R, _R): SwapState.REFUNDED,
}


# --- preimages ---------------------------------------------------------------------------


def compute_hashlock(preimage: bytes) -> bytes:
    """``sha256(preimage)``, the hashlock both chains' HTLCs check."""
    return hashlib.sha256(preimage).digest()


def is_valid_preimage(preimage: object, hashlock: bytes) -> bool:
    """True for a 32-byte ``preimage`` whose sha256 is ``hashlock`` (never raises)."""
    if not isinstance(preimage, bytes) or len(preimage) != PREIMAGE_SIZE:
        return False
    return hmac.compare_digest(compute_hashlock(preimage), hashlock)


def validate_preimage(preimage: object, hashlock: bytes) -> None:
    """``WrongPreimage`` unless :func:`is_valid_preimage` (the message never quotes it)."""
    if not isinstance(preimage, bytes) or len(preimage) != PREIMAGE_SIZE:
        raise WrongPreimage(f"a preimage is {PREIMAGE_SIZE} bytes")
    if not is_valid_preimage(preimage, hashlock):
        raise WrongPreimage("sha256(preimage) is not the swap's hashlock")


# --- terms -------------------------------------------------------------------------------


def _validate_leg(leg: NewSwapLeg, name: str) -> None:
    if isinstance(leg.amount, bool) or not isinstance(leg.amount, int):
        raise InvalidSwapTerms(f"{name}.amount must be an integer", field=f"{name}.amount")
    if not 0 < leg.amount <= MAX_UINT256:
        raise InvalidSwapTerms(f"{name}.amount must be in [1, 2**256-1]", field=f"{name}.amount")
    for part in ("asset", "sender", "receiver"):
        value = getattr(leg, part)
        if not isinstance(value, str) or not value or len(value) > 256:
            raise InvalidSwapTerms(
                f"{name}.{part} must be 1-256 characters", field=f"{name}.{part}"
            )
    if leg.sender == leg.receiver:
        raise InvalidSwapTerms(f"{name}: sender and receiver are the same", field=name)


def validate_terms(new: NewSwap, now: float, timing: SwapTiming) -> None:
    """Refuse a proposal the hub will not coordinate. Checks, in order:

    1. the hashlock is 32 bytes (``InvalidSwapTerms``);
    2. the legs are on two different chains (``InvalidSwapTerms``);
    3. each leg: amount in ``[1, 2**256-1]``, asset/sender/receiver present,
       sender != receiver (``InvalidSwapTerms``);
    4. the timelocks (:func:`~proofs.htlc.timing.validate_timelocks`);
    5. a preimage handed over for delegation matches the hashlock (``WrongPreimage``).
    """
    if not isinstance(new.hashlock, bytes) or len(new.hashlock) != HASHLOCK_SIZE:
        raise InvalidSwapTerms(f"the hashlock is {HASHLOCK_SIZE} bytes", field="hashlock")
    if new.leg1.chain_id == new.leg2.chain_id:
        raise InvalidSwapTerms("both legs are on one chain; a swap spans two", field="leg2")
    _validate_leg(new.leg1, "leg1")
    _validate_leg(new.leg2, "leg2")
    validate_timelocks(new.leg1.timelock, new.leg2.timelock, now, timing)
    if new.preimage is not None:
        validate_preimage(new.preimage, new.hashlock)


# --- states ------------------------------------------------------------------------------


def compute_swap_state(leg1: LegState, leg2: LegState) -> SwapState:
    """The swap's state from its legs' (total over every pair; never ``REJECTED``)."""
    return _STATE_OF_LEGS[(LegState(leg1), LegState(leg2))]


def is_proposal_expired(swap: SwapRecord, now: float) -> bool:
    """True when leg 1 can no longer be locked (its timelock passed: both chains refuse a
    lock whose timelock is not in the future) and leg 2 holds nothing: the swap is over."""
    return (
        swap.state is SwapState.PROPOSED
        and swap.leg1.state is LegState.PENDING
        and swap.leg2.state in (LegState.PENDING, LegState.REFUNDED)
        and now >= swap.leg1.timelock
    )


# --- leg 2 ------------------------------------------------------------------------------


def validate_leg2_lock(
    t1: int, t2: int, leg1: LegState, leg1_final: bool, now: float, timing: SwapTiming
) -> None:
    """May the responder lock leg 2 now? Checks, in order:

    1. leg 1 is locked (``Leg1NotFinal``);
    2. that lock is final on chain A (``Leg1NotFinal``, retryable);
    3. ``T1 - T2 >= delta`` still holds with today's chain figures (``UnsafeTimelocks``);
    4. leg 1 has at least ``delta`` + leg 2's lock window left (``Leg1TooLittleTime``);
    5. leg 2's own timelock leaves its lock window (``TimelockOutOfRange``).
    """
    if leg1 is not LegState.LOCKED:
        raise Leg1NotFinal(f"leg 1 is {leg1}, not locked", leg1=str(leg1))
    if not leg1_final:
        raise Leg1NotFinal("leg 1's lock is not final on its chain yet")
    delta = compute_delta(timing)
    if t1 - t2 < delta:
        raise UnsafeTimelocks(
            f"T1 - T2 is {t1 - t2} s; these chains now need {delta} s", t1=t1, t2=t2, delta=delta
        )
    window = compute_lock_window(timing.chain_b, timing.policy)
    if t1 - now < delta + window:
        raise Leg1TooLittleTime(
            f"leg 1 expires in {t1 - now:.0f} s; leg 2 needs {delta + window} s of it",
            left=t1 - now,
            needed=delta + window,
        )
    if t2 - now < window:
        raise TimelockOutOfRange(
            f"leg 2's timelock is {t2 - now:.0f} s away; it needs {window} s", field="t2"
        )


# --- the watchtower ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """A chain action the hub should send: claim pays the leg's receiver, refund its sender."""

    kind: Literal["claim", "refund"]
    leg: int


def compute_refund_time(leg: SwapLegRecord, timing: SwapTiming | None) -> float:
    """When the hub sends a delegated refund: the timelock plus the chain's clock drift, so
    the chain's own clock (which decides) has surely reached the timelock."""
    if timing is None:
        return float(leg.timelock)
    chain = timing.chain_a if leg.leg == 1 else timing.chain_b
    return leg.timelock + chain.clock_drift


def plan_actions(
    swap: SwapRecord, now: float, timing: SwapTiming | None = None
) -> tuple[PlannedAction, ...]:
    """What the hub should do for ``swap`` at ``now`` (the caller skips journalled ones).

    * **claim leg 2** for the initiator: it delegated (``claim_delegated``), the hub holds
      a valid preimage, leg 1 is locked (the hub never helps take leg 2 while leg 1 is not
      at stake), leg 2 is locked and ``now < T2``;
    * **claim leg 1** for the responder: it delegated, leg 2 is claimed (the preimage is
      public, so claiming leg 1 reveals nothing new), the hub holds the preimage, leg 1 is
      locked and ``now < T1``;
    * **refund** a leg for its sender: it delegated, the leg is locked and ``now >= T``
      (plus the chain's clock drift when ``timing`` is given: :func:`compute_refund_time`).
    """
    planned: list[PlannedAction] = []
    leg1, leg2 = swap.leg1, swap.leg2
    secret = swap.preimage is not None and is_valid_preimage(swap.preimage, swap.hashlock)
    if (
        secret
        and leg2.claim_delegated
        and leg1.state is LegState.LOCKED
        and leg2.state is LegState.LOCKED
        and now < leg2.timelock
    ):
        planned.append(PlannedAction("claim", 2))
    if (
        secret
        and leg1.claim_delegated
        and leg2.state is LegState.CLAIMED
        and leg1.state is LegState.LOCKED
        and now < leg1.timelock
    ):
        planned.append(PlannedAction("claim", 1))
    for leg in (leg1, leg2):
        due = compute_refund_time(leg, timing)
        if leg.refund_delegated and leg.state is LegState.LOCKED and now >= due:
            planned.append(PlannedAction("refund", leg.leg))
    return tuple(planned)


__all__ = [
    "PlannedAction",
    "compute_hashlock",
    "compute_refund_time",
    "compute_swap_state",
    "is_proposal_expired",
    "is_valid_preimage",
    "plan_actions",
    "validate_leg2_lock",
    "validate_preimage",
    "validate_terms",
]
