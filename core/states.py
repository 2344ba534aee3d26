"""Transfer and swap states, and the one table of allowed transitions.

Every state change in the hub goes through :func:`validate_transition`, so the
store, the relayer and the API cannot disagree about what may follow what.
Terminal states have no successors; a transfer never leaves them.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import InvalidTransition


class TransferState(StrEnum):
    """Where a packet is in its life (see docs/architecture.md, "Transfers")."""

    REQUESTED = "requested"  # accepted by the API, not yet on the source chain
    SOURCE_COMMITTED = "source_committed"  # the send is in a source block
    SOURCE_FINAL = "source_final"  # that block is final by the source's rule
    PROVEN = "proven"  # header verified by our light client, inclusion proven
    ATTESTED = "attested"  # the route's protocol produced its evidence (quorum certificate…)
    DEST_SUBMITTED = "dest_submitted"  # the destination transaction was sent
    COMPLETED = "completed"  # the destination executed it
    TIMED_OUT = "timed_out"  # the timeout passed before delivery
    REFUNDED = "refunded"  # the source returned the funds
    REJECTED = "rejected"  # invalid proof or refused by policy
    HELD = "held"  # a risk limit or payload policy holds it (core.holds): why and until when


TRANSFER_TRANSITIONS: dict[TransferState, frozenset[TransferState]] = {
    TransferState.REQUESTED: frozenset(
        {TransferState.SOURCE_COMMITTED, TransferState.HELD, TransferState.REJECTED}
    ),
    TransferState.SOURCE_COMMITTED: frozenset({TransferState.SOURCE_FINAL, TransferState.REJECTED}),
    TransferState.SOURCE_FINAL: frozenset(
        {TransferState.PROVEN, TransferState.TIMED_OUT, TransferState.REJECTED}
    ),
    TransferState.PROVEN: frozenset(
        {
            TransferState.ATTESTED,
            TransferState.HELD,
            TransferState.TIMED_OUT,
            TransferState.REJECTED,
        }
    ),
    # Held by a rule (core.holds). Checked twice: at the API before anything is
    # sent (released back to ``requested``; cancelled or rejected: ``rejected``,
    # nothing left the owner) and once the relayer proved a packet sent directly
    # on the source (released back to ``proven``; cancelled or rejected: it waits
    # for its timeout and is refunded on the source, ``timed_out -> refunded``).
    TransferState.HELD: frozenset(
        {
            TransferState.REQUESTED,
            TransferState.PROVEN,
            TransferState.TIMED_OUT,
            TransferState.REJECTED,
        }
    ),
    TransferState.ATTESTED: frozenset(
        {TransferState.DEST_SUBMITTED, TransferState.TIMED_OUT, TransferState.REJECTED}
    ),
    # Once submitted, only the destination's verdict decides: it executed the
    # packet, or the timeout passed without execution (proven non-delivery), or it
    # received the packet in a batch but its receiver or token refused it (recorded
    # failed there): an ERROR_ACK root refunds it on its source, ``refunded`` with no
    # ``timed_out`` between (its timeout need not have passed; issue #15).
    TransferState.DEST_SUBMITTED: frozenset(
        {TransferState.COMPLETED, TransferState.TIMED_OUT, TransferState.REFUNDED}
    ),
    TransferState.TIMED_OUT: frozenset({TransferState.REFUNDED}),
    TransferState.COMPLETED: frozenset(),
    TransferState.REFUNDED: frozenset(),
    TransferState.REJECTED: frozenset(),
}

DELIVERY_PATH: tuple[TransferState, ...] = (
    TransferState.REQUESTED,
    TransferState.SOURCE_COMMITTED,
    TransferState.SOURCE_FINAL,
    TransferState.PROVEN,
    TransferState.ATTESTED,
    TransferState.DEST_SUBMITTED,
    TransferState.COMPLETED,
)
"""The states a delivered transfer passes, in order (the tour's progress, the benchmarks'
per-stage times): what the transitions above allow when nothing holds, times out or fails."""


class SwapState(StrEnum):
    """An HTLC swap, from proposal to a terminal state, derived from its two legs.

    Leg 1 is the initiator's lock on chain A, leg 2 the responder's on chain B
    (``core.swaps``). ``proofs.htlc.rules.compute_swap_state`` maps the legs'
    states to one of these; the driver applies one leg change at a time, so
    every move below is one leg moving.
    """

    PROPOSED = "proposed"  # terms accepted by the hub, leg 1 not locked yet
    INITIATOR_LOCKED = "initiator_locked"  # leg 1 locked on chain A
    RESPONDER_LOCKED = "responder_locked"  # leg 2 locked on chain B too
    RESPONDER_CLAIMED = "responder_claimed"  # leg 2 claimed: the preimage is public
    INITIATOR_CLAIMED = "initiator_claimed"  # leg 1 claimed first (preimage out off-chain)
    RESPONDER_REFUNDED = "responder_refunded"  # leg 2 refunded at T2, leg 1 still locked
    INITIATOR_REFUNDED = "initiator_refunded"  # leg 1 refunded, leg 2 still locked
    COMPLETED = "completed"  # both legs claimed
    REFUNDED = "refunded"  # every locked leg returned to its owner
    UNBALANCED = "unbalanced"  # one leg claimed, the other refunded: a party missed its window
    REJECTED = "rejected"  # never locked (leg 1 did not appear before T1)


SWAP_TRANSITIONS: dict[SwapState, frozenset[SwapState]] = {
    SwapState.PROPOSED: frozenset(
        {
            SwapState.INITIATOR_LOCKED,
            # leg 2 locked (against the rules) before leg 1, then leg 1 locks:
            SwapState.RESPONDER_LOCKED,
            SwapState.RESPONDER_REFUNDED,
            SwapState.UNBALANCED,  # leg 2 claimed while leg 1 never locked
            SwapState.REJECTED,
        }
    ),
    SwapState.INITIATOR_LOCKED: frozenset(
        {SwapState.RESPONDER_LOCKED, SwapState.INITIATOR_CLAIMED, SwapState.REFUNDED}
    ),
    SwapState.RESPONDER_LOCKED: frozenset(
        {
            SwapState.RESPONDER_CLAIMED,
            SwapState.RESPONDER_REFUNDED,
            SwapState.INITIATOR_CLAIMED,
            SwapState.INITIATOR_REFUNDED,
        }
    ),
    SwapState.RESPONDER_CLAIMED: frozenset({SwapState.COMPLETED, SwapState.UNBALANCED}),
    SwapState.INITIATOR_CLAIMED: frozenset({SwapState.COMPLETED, SwapState.UNBALANCED}),
    SwapState.RESPONDER_REFUNDED: frozenset({SwapState.REFUNDED, SwapState.UNBALANCED}),
    SwapState.INITIATOR_REFUNDED: frozenset({SwapState.REFUNDED, SwapState.UNBALANCED}),
    SwapState.COMPLETED: frozenset(),
    SwapState.REFUNDED: frozenset(),
    SwapState.UNBALANCED: frozenset(),
    SwapState.REJECTED: frozenset(),
}

TERMINAL_TRANSFER_STATES = frozenset(s for s, nxt in TRANSFER_TRANSITIONS.items() if not nxt)
TERMINAL_SWAP_STATES = frozenset(s for s, nxt in SWAP_TRANSITIONS.items() if not nxt)


def is_transition_allowed(
    current: TransferState | SwapState, new: TransferState | SwapState
) -> bool:
    """True when the table allows ``current -> new`` (never raises)."""
    if type(current) is not type(new):
        return False
    if isinstance(current, TransferState):
        return new in TRANSFER_TRANSITIONS[current]
    return new in SWAP_TRANSITIONS[current]


def validate_transition(current: TransferState | SwapState, new: TransferState | SwapState) -> None:
    """Raise :class:`InvalidTransition` unless ``current -> new`` is in the table."""
    if not is_transition_allowed(current, new):
        raise InvalidTransition(
            f"{type(current).__name__} cannot go from {current} to {new}",
            current=str(current),
            requested=str(new),
        )
