"""core.states: the transition table is the single authority on state changes."""

from __future__ import annotations

import itertools

import pytest

from core.errors import InvalidTransition
from core.states import (
    DELIVERY_PATH,
    SWAP_TRANSITIONS,
    TERMINAL_TRANSFER_STATES,
    TRANSFER_TRANSITIONS,
    SwapState,
    TransferState,
    is_transition_allowed,
    validate_transition,
)

HAPPY_PATH = [
    TransferState.REQUESTED,
    TransferState.SOURCE_COMMITTED,
    TransferState.SOURCE_FINAL,
    TransferState.PROVEN,
    TransferState.ATTESTED,
    TransferState.DEST_SUBMITTED,
    TransferState.COMPLETED,
]


def test_the_delivery_path_the_tour_and_benchmarks_show_is_the_happy_path() -> None:
    assert DELIVERY_PATH == tuple(HAPPY_PATH)


def test_tables_cover_every_state() -> None:
    assert set(TRANSFER_TRANSITIONS) == set(TransferState)
    assert set(SWAP_TRANSITIONS) == set(SwapState)


def test_happy_path_is_allowed_step_by_step() -> None:
    for current, new in itertools.pairwise(HAPPY_PATH):
        validate_transition(current, new)


def test_terminal_states_are_the_three_ends() -> None:
    assert TERMINAL_TRANSFER_STATES == {
        TransferState.COMPLETED,
        TransferState.REFUNDED,
        TransferState.REJECTED,
    }


@pytest.mark.parametrize("terminal", sorted(TERMINAL_TRANSFER_STATES))
def test_nothing_leaves_a_terminal_state(terminal: TransferState) -> None:
    for new in TransferState:
        assert not is_transition_allowed(terminal, new)
        with pytest.raises(InvalidTransition):
            validate_transition(terminal, new)


def test_skipping_a_step_is_refused() -> None:
    with pytest.raises(InvalidTransition) as err:
        validate_transition(TransferState.SOURCE_FINAL, TransferState.DEST_SUBMITTED)
    assert err.value.details == {"current": "source_final", "requested": "dest_submitted"}


def test_refund_only_after_timeout_or_a_failure_recorded_by_the_destination() -> None:
    """``timed_out -> refunded`` (non-delivery), ``dest_submitted -> refunded`` (an ERROR_ACK
    batch refunds a packet its destination received but recorded failed, issue #15)."""
    refund_sources = {s for s, nxt in TRANSFER_TRANSITIONS.items() if TransferState.REFUNDED in nxt}
    assert refund_sources == {TransferState.TIMED_OUT, TransferState.DEST_SUBMITTED}


def test_completed_only_from_dest_submitted() -> None:
    sources = {s for s, nxt in TRANSFER_TRANSITIONS.items() if TransferState.COMPLETED in nxt}
    assert sources == {TransferState.DEST_SUBMITTED}


def test_every_state_is_reachable_from_requested() -> None:
    seen = {TransferState.REQUESTED}
    frontier = [TransferState.REQUESTED]
    while frontier:
        for nxt in TRANSFER_TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(TransferState)


def test_swap_and_transfer_states_do_not_mix() -> None:
    assert not is_transition_allowed(TransferState.REQUESTED, SwapState.PROPOSED)
    with pytest.raises(InvalidTransition):
        validate_transition(SwapState.PROPOSED, TransferState.REQUESTED)
