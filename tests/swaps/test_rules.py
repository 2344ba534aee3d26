"""The pure HTLC rules (``proofs.htlc``): timing safety, refusals, states, the watchtower plan.

Property tests (Hypothesis) for what must hold for every input; tables for the
exact refusal of each broken rule.
"""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError, Conflict, InvalidInput, VerificationError
from core.ids import ChainId
from core.states import SWAP_TRANSITIONS, SwapState, is_transition_allowed
from core.swaps import LEG_TRANSITIONS, LegState, NewSwap, NewSwapLeg, SwapLegRecord, SwapRecord
from proofs.htlc.errors import (
    HashlockReused,
    InvalidSwapTerms,
    Leg1NotFinal,
    Leg1TooLittleTime,
    TimelockOutOfRange,
    UnsafeTimelocks,
    WrongPreimage,
)
from proofs.htlc.rules import (
    compute_hashlock,
    compute_swap_state,
    is_valid_preimage,
    plan_actions,
    validate_leg2_lock,
    validate_preimage,
    validate_terms,
)
from proofs.htlc.timing import (
    ChainTiming,
    SwapPolicy,
    SwapTiming,
    compute_default_timelocks,
    compute_delta,
    compute_lock_window,
    compute_max_t2,
    compute_min_t1,
    compute_setup_time,
    validate_timelocks,
)

NOW = 1_800_000_000
PREIMAGE = b"\x42" * 32
HASHLOCK = hashlib.sha256(PREIMAGE).digest()
EVM = ChainTiming(block_time=12.0, confirmations=12, clock_drift=15.0)  # 156 s to final
PUJIANG = ChainTiming(block_time=1.0, confirmations=0, clock_drift=2.0)  # final in one block
TIMING = SwapTiming(PUJIANG, EVM, SwapPolicy())

chain_timings = st.builds(
    ChainTiming,
    block_time=st.floats(0.1, 600.0),
    confirmations=st.integers(0, 200),
    clock_drift=st.floats(0.0, 120.0),
)
policies = st.builds(
    SwapPolicy,
    reaction_seconds=st.floats(0.0, 600.0),
    margin_seconds=st.floats(0.0, 3600.0),
    claim_window_seconds=st.floats(0.0, 3600.0),
    max_timelock_seconds=st.just(10**9),
    lock_allowance_seconds=st.floats(0.0, 3600.0),
)
timings = st.builds(SwapTiming, chain_timings, chain_timings, policies)


# --- the timing rule --------------------------------------------------------------------


def test_delta_adds_both_finalities_drifts_reaction_and_margin() -> None:
    # EVM: (12 + 1) blocks of 12 s; Pujiang: one block of 1 s.
    assert EVM.finality_seconds == 156.0
    assert PUJIANG.finality_seconds == 1.0
    assert compute_delta(TIMING) == 156 + 1 + 15 + 2 + 30 + 60


@settings(max_examples=300)
@given(
    timing=timings,
    t2=st.integers(NOW, NOW + 10**6),
    early=st.floats(0.0, 1.0),  # how far before T2 (B-time) the initiator claims
    use=st.tuples(*[st.floats(0.0, 1.0)] * 5),  # how much of each bound the world uses
    signs=st.tuples(st.booleans(), st.booleans()),
)
def test_a_late_claim_on_b_always_leaves_time_to_claim_leg1_on_a(
    timing: SwapTiming,
    t2: int,
    early: float,
    use: tuple[float, float, float, float, float],
    signs: tuple[bool, bool],
) -> None:
    """With T1 = compute_min_t1(T2), the counter-claim is final on A before A's clock shows T1,
    whatever the chains and the hub do within their configured bounds."""
    a, b, p = timing.chain_a, timing.chain_b, timing.policy
    t1 = compute_min_t1(t2, timing)
    validate_timelocks(t1, t2, t2 - compute_setup_time(timing) - 1, timing)
    drift_b = b.clock_drift * use[0] * (1 if signs[0] else -1)  # B's clock behind (+) or ahead
    claim_true = t2 - early + drift_b  # the claim's block says < T2 on B's clock
    preimage_final = claim_true + b.finality_seconds * use[1]
    counter_sent = preimage_final + p.reaction_seconds * use[2]
    counter_final = counter_sent + a.finality_seconds * use[3]
    drift_a = a.clock_drift * use[4] * (1 if signs[1] else -1)  # A's clock ahead (+) or behind
    assert counter_final + drift_a < t1 or (p.margin_seconds == 0 and counter_final + drift_a <= t1)


@given(timing=timings, slow=st.floats(0.0, 1.0))
@settings(max_examples=300, deadline=None)
def test_hub_picked_timelocks_let_parties_lock_within_their_allowance(
    timing: SwapTiming, slow: float
) -> None:
    """With timelocks the hub picked, leg 2 may still be locked when the parties took any
    part of their lock allowance to lock leg 1 and see it final (the walk-through case)."""
    t1, t2 = compute_default_timelocks(NOW, timing)
    validate_timelocks(t1, t2, NOW, timing)
    a = timing.chain_a
    leg1_final_at = NOW + slow * timing.policy.lock_allowance_seconds
    leg1_final_at += a.finality_seconds + a.clock_drift
    validate_leg2_lock(t1, t2, LegState.LOCKED, True, leg1_final_at, timing)


@given(timing=timings, t2=st.integers(NOW, NOW + 10**6))
def test_one_second_less_than_delta_is_refused_and_delta_is_accepted(
    timing: SwapTiming, t2: int
) -> None:
    now = t2 - compute_setup_time(timing)
    validate_timelocks(compute_min_t1(t2, timing), t2, now, timing)
    assert compute_max_t2(compute_min_t1(t2, timing), timing) == t2
    with pytest.raises(UnsafeTimelocks) as err:
        validate_timelocks(compute_min_t1(t2, timing) - 1, t2, now, timing)
    assert err.value.details["delta"] == compute_delta(timing)
    assert err.value.details["min_t1"] == compute_min_t1(t2, timing)


@given(timing=timings, t1=st.integers(0, 2 * 10**9), t2=st.integers(0, 2 * 10**9), now=st.just(NOW))
def test_validate_timelocks_accepts_exactly_the_safe_pairs(
    timing: SwapTiming, t1: int, t2: int, now: int
) -> None:
    safe = (
        t1 <= now + timing.policy.max_timelock_seconds
        and t1 - t2 >= compute_delta(timing)
        and t2 - now >= compute_setup_time(timing)
    )
    try:
        validate_timelocks(t1, t2, now, timing)
    except (UnsafeTimelocks, TimelockOutOfRange):
        assert not safe
    else:
        assert safe


@pytest.mark.parametrize(
    ("t1", "t2", "error"),
    [
        (NOW + 10_000, NOW + 9_999, UnsafeTimelocks),  # T1 - T2 far below delta
        (NOW + 10_000, NOW + 10_001, UnsafeTimelocks),  # T2 after T1
        (NOW + 400, NOW + 10, TimelockOutOfRange),  # T2 too soon to lock and claim
        (NOW + 8 * 24 * 3600, NOW + 4000, TimelockOutOfRange),  # T1 beyond the hub's limit
        (-1, NOW, TimelockOutOfRange),
        (True, NOW, TimelockOutOfRange),
    ],
)
def test_unsafe_timelocks_are_refused_with_their_own_error(
    t1: int, t2: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        validate_timelocks(t1, t2, NOW, TIMING)


def test_refusals_carry_stable_codes_and_http_statuses() -> None:
    table = {
        UnsafeTimelocks: ("htlc-unsafe-timelocks", 422, InvalidInput),
        TimelockOutOfRange: ("htlc-timelock-out-of-range", 422, InvalidInput),
        InvalidSwapTerms: ("htlc-invalid-terms", 422, InvalidInput),
        WrongPreimage: ("htlc-wrong-preimage", 422, VerificationError),
        HashlockReused: ("htlc-hashlock-reused", 409, Conflict),
        Leg1NotFinal: ("htlc-leg1-not-final", 409, Conflict),
        Leg1TooLittleTime: ("htlc-leg1-too-little-time", 409, Conflict),
    }
    for cls, (code, status, base) in table.items():
        assert (cls.code, cls.http_status) == (code, status)
        assert issubclass(cls, base)


def test_a_chain_timing_outside_its_bounds_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        ChainTiming(block_time=0)
    with pytest.raises(ConfigError):
        ChainTiming(block_time=1, confirmations=-1)


# --- terms and preimages -----------------------------------------------------------------


def good_terms(**changes: object) -> NewSwap:
    t2 = NOW + compute_setup_time(TIMING) + 10
    leg1 = NewSwapLeg(ChainId("pj"), "ucny", 10, "0xa1", "0xb1", t2 + compute_delta(TIMING))
    leg2 = NewSwapLeg(ChainId("evm"), "native", 5, "0xb2", "0xa2", t2)
    values: dict[str, object] = {"hashlock": HASHLOCK, "leg1": leg1, "leg2": leg2}
    return NewSwap(**(values | changes))  # type: ignore[arg-type]


def with_leg(name: str, **changes: object) -> NewSwap:
    terms = good_terms()
    leg = getattr(terms, name)
    fields = {f: getattr(leg, f) for f in leg.__slots__} | changes
    return good_terms(**{name: NewSwapLeg(**fields)})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("terms", "error"),
    [
        (good_terms(hashlock=b"\x00" * 31), InvalidSwapTerms),
        (with_leg("leg2", chain_id=ChainId("pj")), InvalidSwapTerms),
        (with_leg("leg1", amount=0), InvalidSwapTerms),
        (with_leg("leg2", amount=2**256), InvalidSwapTerms),
        (with_leg("leg1", receiver="0xa1"), InvalidSwapTerms),
        (with_leg("leg2", asset=""), InvalidSwapTerms),
        (with_leg("leg1", timelock=NOW + 100), UnsafeTimelocks),
        (good_terms(preimage=b"\x00" * 32), WrongPreimage),
    ],
)
def test_validate_terms_names_the_one_broken_term(terms: NewSwap, error: type[Exception]) -> None:
    validate_terms(good_terms(preimage=PREIMAGE), NOW, TIMING)  # the unbroken fixture passes
    with pytest.raises(error):
        validate_terms(terms, NOW, TIMING)


@given(st.one_of(st.binary(max_size=64), st.none(), st.integers(), st.text()))
def test_is_valid_preimage_never_raises_and_accepts_only_the_secret(value: object) -> None:
    assert is_valid_preimage(value, HASHLOCK) is (value == PREIMAGE)


def test_validate_preimage_refuses_without_quoting_the_value() -> None:
    validate_preimage(PREIMAGE, compute_hashlock(PREIMAGE))
    wrong = b"\x43" * 32
    with pytest.raises(WrongPreimage) as err:
        validate_preimage(wrong, HASHLOCK)
    assert wrong.hex() not in str(err.value)


# --- states -----------------------------------------------------------------------------


def test_every_single_leg_move_is_a_move_the_transition_table_allows() -> None:
    """The driver applies one leg change at a time; each must be in SWAP_TRANSITIONS."""
    seen = set()
    for leg1, leg2 in itertools.product(LegState, LegState):
        current = compute_swap_state(leg1, leg2)
        seen.add(current)
        for index, old in ((1, leg1), (2, leg2)):
            for new in LEG_TRANSITIONS[old]:
                pair = (new, leg2) if index == 1 else (leg1, new)
                target = compute_swap_state(*pair)
                terminal = not SWAP_TRANSITIONS[current]
                assert target is current or is_transition_allowed(current, target) or terminal, (
                    f"{leg1}/{leg2} -> {pair}: {current} -> {target}"
                )
    assert seen | {SwapState.REJECTED} == set(SwapState)


def test_states_of_the_two_outcomes() -> None:
    assert compute_swap_state(LegState.CLAIMED, LegState.CLAIMED) is SwapState.COMPLETED
    assert compute_swap_state(LegState.REFUNDED, LegState.REFUNDED) is SwapState.REFUNDED
    assert compute_swap_state(LegState.REFUNDED, LegState.PENDING) is SwapState.REFUNDED
    assert compute_swap_state(LegState.REFUNDED, LegState.CLAIMED) is SwapState.UNBALANCED


# --- leg 2's lock -----------------------------------------------------------------------


def test_validate_leg2_lock_checks_in_order() -> None:
    delta, window = compute_delta(TIMING), compute_lock_window(EVM, TIMING.policy)
    t2 = NOW + window + 100
    t1 = t2 + delta
    validate_leg2_lock(t1, t2, LegState.LOCKED, True, NOW, TIMING)
    cases: list[tuple[tuple[object, ...], type[Exception]]] = [
        ((t1, t2, LegState.PENDING, True, NOW), Leg1NotFinal),
        ((t1, t2, LegState.LOCKED, False, NOW), Leg1NotFinal),
        ((t1, t1 - delta + 1, LegState.LOCKED, True, NOW), UnsafeTimelocks),
        ((t1, t2, LegState.LOCKED, True, t1 - delta - window + 1), Leg1TooLittleTime),
        ((t1 + 1000, t2, LegState.LOCKED, True, t2 - window + 1), TimelockOutOfRange),
    ]
    for args, error in cases:
        with pytest.raises(error):
            validate_leg2_lock(*args, TIMING)  # type: ignore[arg-type]


# --- the watchtower's plan ----------------------------------------------------------------


def swap_record(
    leg1: LegState, leg2: LegState, preimage: bytes | None, flags: tuple[bool, ...]
) -> SwapRecord:
    def leg(i: int, state: LegState, timelock: int, claim: bool, refund: bool) -> SwapLegRecord:
        return SwapLegRecord(i, ChainId(f"c{i}"), "x", 1, f"s{i}", f"r{i}", HASHLOCK, timelock,
                             state, claim, refund, lock_id=bytes([i]) * 32)  # fmt: skip

    return SwapRecord(
        id="sw_x", hashlock=HASHLOCK,
        leg1=leg(1, leg1, NOW + 1000, flags[0], flags[1]),
        leg2=leg(2, leg2, NOW + 500, flags[2], flags[3]),
        state=compute_swap_state(leg1, leg2), reason="", attempts=0, next_attempt_at=0,
        created_at=0, updated_at=0, preimage=preimage,
    )  # fmt: skip


@given(
    leg1=st.sampled_from(LegState),
    leg2=st.sampled_from(LegState),
    preimage=st.sampled_from([None, PREIMAGE, b"\x00" * 32]),
    flags=st.tuples(*[st.booleans()] * 4),
    now=st.integers(NOW, NOW + 1500),
)
def test_the_hub_only_ever_plans_what_the_contracts_allow_and_parties_delegated(
    leg1: LegState,
    leg2: LegState,
    preimage: bytes | None,
    flags: tuple[bool, ...],
    now: int,
) -> None:
    swap = swap_record(leg1, leg2, preimage, flags)
    for action in plan_actions(swap, now, None):
        leg = swap.leg(action.leg)
        assert leg.state is LegState.LOCKED
        if action.kind == "claim":
            assert leg.claim_delegated
            assert preimage == PREIMAGE  # never a claim without the real secret
            assert now < leg.timelock  # never a claim the contract would refuse
            if action.leg == 1:  # leg 1 only once the preimage is public on leg 2's chain
                assert swap.leg2.state is LegState.CLAIMED
            else:  # leg 2 only while leg 1 is at stake
                assert swap.leg1.state is LegState.LOCKED
        else:
            assert leg.refund_delegated
            assert now >= leg.timelock


def test_the_hub_claims_leg1_for_a_delegating_responder_once_leg2_is_claimed() -> None:
    flags = (True, False, False, False)
    assert plan_actions(swap_record(LegState.LOCKED, LegState.LOCKED, PREIMAGE, flags), NOW) == ()
    (claim,) = plan_actions(swap_record(LegState.LOCKED, LegState.CLAIMED, PREIMAGE, flags), NOW)
    assert (claim.kind, claim.leg) == ("claim", 1)
    assert (
        plan_actions(swap_record(LegState.LOCKED, LegState.CLAIMED, PREIMAGE, flags), NOW + 1000)
        == ()
    )
