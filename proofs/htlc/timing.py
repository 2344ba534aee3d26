"""How far apart the two timelocks of a swap must be, from the chains' own figures.

The danger in an HTLC swap is the *late claim*: the initiator claims leg 2 on
chain B at the last moment before ``T2``; the preimage is then public, and the
responder (or the hub, for a responder that delegated) must claim leg 1 on
chain A before ``T1``, or the initiator gets both legs (leg 2 claimed, leg 1
refunded). Worst case, in wall-clock time after ``T2``:

1. B's block clock may run behind true time by ``B.clock_drift``: the claim
   is accepted at B-time ``< T2`` but true time ``T2 + drift_B``;
2. the claim becomes final on B after ``B.finality_seconds`` (until then a
   reorg could hide the preimage again);
3. the hub notices and sends the counter-claim within ``reaction_seconds``
   (poll interval + build + sign + send);
4. the counter-claim is included and final on A within ``A.finality_seconds``
   (a claim that is only included could be reorged out after ``T1``);
5. A's block clock may run AHEAD of true time by ``A.clock_drift``: ``T1``
   arrives that much earlier on A;
6. a ``margin_seconds`` for what no figure covers (fee spikes, a congested block).

So ``delta = fin_B + fin_A + drift_B + drift_A + reaction + margin`` and a
swap is safe when ``T1 >= T2 + delta`` (:func:`compute_delta`,
:func:`validate_timelocks`). A chain's finality time is ``(confirmations + 1) *
block_time``: the block that includes the transaction, then the confirmations
on top (0 on BFT chains with instant finality: Pujiang, QBFT, IBFT 2.0).

Pure: no clock is read; ``now`` is a parameter (unix seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import ConfigError
from proofs.htlc.errors import TimelockOutOfRange, UnsafeTimelocks


@dataclass(frozen=True, slots=True)
class ChainTiming:
    """One chain's timing figures, from its settings (``chain_timing()`` of the adapter's)."""

    block_time: float  # seconds between blocks (> 0)
    confirmations: int = 0  # blocks on top of the including one until final; 0 = BFT
    clock_drift: float = 0.0  # how far block timestamps may be from true time, seconds

    def __post_init__(self) -> None:
        if not (self.block_time > 0 and math.isfinite(self.block_time)):
            raise ConfigError("block_time must be a positive number of seconds")
        if self.confirmations < 0 or not (0 <= self.clock_drift < math.inf):
            raise ConfigError("confirmations and clock_drift must be non-negative")

    @property
    def finality_seconds(self) -> float:
        """Time from sending a transaction until it is final (inclusion + confirmations)."""
        return (self.confirmations + 1) * self.block_time


@dataclass(frozen=True, slots=True)
class SwapPolicy:
    """The hub's own figures (settings): every bound explicit, with safe defaults."""

    reaction_seconds: float = 30.0  # poll interval + building and sending one transaction
    margin_seconds: float = 60.0  # what no figure covers
    claim_window_seconds: float = 300.0  # time the initiator gets to claim leg 2
    # When the hub picks the timelocks: time the parties get to send their locks (leg 1,
    # then leg 2 once the hub saw leg 1 final). Without it, the earliest safe pair left a
    # few seconds, and a responder a little slow was refused leg 2 (Leg1TooLittleTime).
    lock_allowance_seconds: float = 300.0
    max_timelock_seconds: int = 7 * 24 * 3600  # no lock longer than this from now


@dataclass(frozen=True, slots=True)
class SwapTiming:
    """Everything the timing rules need: both chains and the hub's policy."""

    chain_a: ChainTiming  # leg 1 (the initiator's lock)
    chain_b: ChainTiming  # leg 2 (the responder's lock)
    policy: SwapPolicy = SwapPolicy()


def compute_delta(timing: SwapTiming) -> int:
    """The least ``T1 - T2`` in whole seconds (rounded up; see the module docstring)."""
    a, b, p = timing.chain_a, timing.chain_b, timing.policy
    total = (
        b.finality_seconds
        + a.finality_seconds
        + b.clock_drift
        + a.clock_drift
        + p.reaction_seconds
        + p.margin_seconds
    )
    return math.ceil(total)


def compute_lock_window(chain: ChainTiming, policy: SwapPolicy) -> int:
    """Least time before a leg's timelock at which locking it still leaves a claim window:
    its lock becomes final, its receiver gets ``claim_window_seconds`` to claim."""
    return math.ceil(chain.finality_seconds + chain.clock_drift + policy.claim_window_seconds)


def compute_setup_time(timing: SwapTiming) -> int:
    """Least ``T2 - now`` at proposal: leg 1 locks and is final, then leg 2 locks, is final
    and still leaves the initiator its claim window."""
    a = timing.chain_a
    return math.ceil(a.finality_seconds + a.clock_drift) + compute_lock_window(
        timing.chain_b, timing.policy
    )


def compute_default_timelocks(now: float, timing: SwapTiming) -> tuple[int, int]:
    """``(T1, T2)`` when a proposal names none: the setup time plus the parties' lock
    allowance for ``T2``, and ``T1 = T2 + delta``."""
    t2 = (
        math.ceil(now)
        + compute_setup_time(timing)
        + math.ceil(timing.policy.lock_allowance_seconds)
    )
    return t2 + compute_delta(timing), t2


def compute_min_t1(t2: int, timing: SwapTiming) -> int:
    """The earliest safe ``T1`` for a given ``T2``."""
    return t2 + compute_delta(timing)


def compute_max_t2(t1: int, timing: SwapTiming) -> int:
    """The latest safe ``T2`` for a given ``T1``."""
    return t1 - compute_delta(timing)


def validate_timelocks(t1: int, t2: int, now: float, timing: SwapTiming) -> None:
    """Refuse a proposal whose timelocks are unsafe. Checks, in order:

    1. both are whole non-negative seconds (``TimelockOutOfRange``);
    2. ``T1 <= now + max_timelock_seconds`` (``TimelockOutOfRange``: funds locked too long);
    3. ``T1 - T2 >= delta`` (``UnsafeTimelocks``);
    4. ``T2 - now >= setup time`` (``TimelockOutOfRange``: too soon to lock both legs
       and claim).
    """
    for name, value in (("t1", t1), ("t2", t2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise TimelockOutOfRange(f"{name} must be whole unix seconds", field=name)
    limit = timing.policy.max_timelock_seconds
    if t1 > now + limit:
        raise TimelockOutOfRange(
            f"T1 is {t1 - now:.0f} s away; the hub allows at most {limit} s",
            field="t1",
            t1=t1,
            max_seconds=limit,
        )
    delta = compute_delta(timing)
    if t1 - t2 < delta:
        raise UnsafeTimelocks(
            f"T1 - T2 is {t1 - t2} s; these chains need at least {delta} s "
            f"(T1 >= {t2 + delta} for this T2, or T2 <= {t1 - delta} for this T1)",
            t1=t1,
            t2=t2,
            delta=delta,
            min_t1=t2 + delta,
            max_t2=t1 - delta,
        )
    setup = compute_setup_time(timing)
    if t2 - now < setup:
        raise TimelockOutOfRange(
            f"T2 is {t2 - now:.0f} s away; locking both legs and claiming needs {setup} s",
            field="t2",
            t2=t2,
            min_t2=math.ceil(now) + setup,
        )


__all__ = [
    "ChainTiming",
    "SwapPolicy",
    "SwapTiming",
    "compute_default_timelocks",
    "compute_delta",
    "compute_lock_window",
    "compute_max_t2",
    "compute_min_t1",
    "compute_setup_time",
    "validate_timelocks",
]
