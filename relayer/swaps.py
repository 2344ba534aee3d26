"""The swap watchtower: follows both legs of every HTLC swap and acts for delegating parties.

One pass (:meth:`SwapWatchtower.run_once`), run by the ``Relayer`` after its
transfer work (a second pass of the same process, sharing its adapters):

1. **scan**: per chain with an HTLC (``HtlcEndpoint``), read the lock / claim /
   refund events from the cursor ``htlc:<chain>`` up to the chain's FINALIZED
   height, and apply each to its swap, one leg change at a time
   (``transition_swap``, compare-and-set; the swap state is
   ``proofs.htlc.rules.compute_swap_state`` of the legs). A lock counts only
   when its terms equal the leg's exactly; a claim teaches the hub the preimage.
   The cursor advances after the chunk is applied, so a crash re-reads it and
   finds the legs already moved.
2. **work**: lease due swaps and do what ``proofs.htlc.rules.plan_actions``
   says: claim leg 2 for an initiator that handed over its preimage, claim
   leg 1 for a responder once leg 2's claim made the preimage public, refund a
   leg whose timelock passed for a sender that delegated refunds; reject a
   proposal whose leg 1 can no longer be locked.

Crash safety: every chain action is journalled (``record_swap_action``)
BEFORE it is sent and marked with its transaction hash after. On a restart, a
journalled action that may not have been sent is re-sent only while the lock
is still open on chain (``HtlcEndpoint.lock_status``), as the same signed
bytes on Pujiang; a sent one is followed by its receipt. So a restart at any
point resumes the swap and never makes a second claim of one lock succeed
(the contracts pay a lock once: a duplicate can only revert).

SECURITY: the hub can never take or freeze funds. It sends only ``claim``
(the contract pays the lock's *receiver*) and ``refund`` (the contract pays
the lock's *sender*); both are open to anyone on chain, so the hub adds no
power a stranger who watches the chains lacks, and a party that delegated
nothing can ignore the hub entirely. The hub's own key pays the fees, never
receives a leg.

Limitations (see docs/htlc.md): events are taken from the chains' finalized
heights as the adapters report them, not yet re-verified by the light client;
no fee bump for a stuck EVM claim.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from core.errors import (
    ChainRejected,
    ConfigError,
    InvalidTransition,
    NotFound,
    PjgwError,
)
from core.ids import ChainId, Height
from core.records import ActionRecord, ActionStatus
from core.seams import ChainAdapter, HtlcChain
from core.states import TERMINAL_SWAP_STATES, SwapState, is_transition_allowed
from core.steps import swap_step
from core.swaps import HtlcEndpoint, HtlcEvent, LegState, SwapLegRecord, SwapRecord, SwapStore
from core.types import ChainAction, EventKind
from proofs.htlc.errors import ClaimWindowClosed
from proofs.htlc.rules import (
    PlannedAction,
    compute_refund_time,
    compute_swap_state,
    is_proposal_expired,
    plan_actions,
    validate_leg2_lock,
)
from proofs.htlc.timing import ChainTiming, SwapPolicy, SwapTiming
from relayer.retry import describe

log = logging.getLogger("pjgw.swaps")

CURSOR_PREFIX = "htlc:"
_APPLY_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class SwapWatchSettings:
    """Bounds of one watchtower pass (explicit, with safe defaults)."""

    lookback_blocks: int = 256  # a chain's first scan starts this far below its final height
    chunk_size: int = 500  # heights per events() call
    max_chunks_per_pass: int = 20
    lease_seconds: float = 60.0
    claim_limit: int = 100  # swaps leased per pass
    recheck_seconds: float = 2.0  # while an action is in flight
    idle_seconds: float = 60.0  # longest sleep of a swap that waits for chain events


def htlc_endpoint(adapter: ChainAdapter) -> HtlcEndpoint | None:
    """The chain's HTLC endpoint (``HtlcChain.htlc``), ``None`` when the chain has none."""
    if not isinstance(adapter, HtlcChain):
        return None
    try:
        return adapter.htlc()
    except ConfigError as err:  # declared but unusable here (say, contracts not built)
        log.warning("swaps: chain %s has no usable HTLC: %s", adapter.chain_id, err.message)
        return None


def chain_timing(adapter: ChainAdapter) -> ChainTiming:
    """The chain's timing figures (``HtlcChain.chain_timing``); ``ConfigError`` if none."""
    figures = adapter.chain_timing() if isinstance(adapter, HtlcChain) else None
    if figures is None:
        raise ConfigError(f"chain {adapter.chain_id} has no HTLC timing figures")
    if isinstance(figures, ChainTiming):
        return figures
    return ChainTiming(figures.block_time, figures.confirmations, figures.clock_drift)


def swap_timing(
    adapter_a: ChainAdapter, adapter_b: ChainAdapter, policy: SwapPolicy | None = None
) -> SwapTiming:
    """The figures the timelock rules need for a swap from chain A (leg 1) to B (leg 2)."""
    return SwapTiming(chain_timing(adapter_a), chain_timing(adapter_b), policy or SwapPolicy())


class SwapWatchtower:
    """Watches swap legs and acts for delegating parties (see the module docstring)."""

    def __init__(
        self,
        store: SwapStore,
        adapters: Mapping[ChainId, ChainAdapter],
        *,
        worker_id: str,
        clock: Callable[[], float] = time.time,
        policy: SwapPolicy | None = None,
        settings: SwapWatchSettings | None = None,
    ) -> None:
        self.store = store
        self.adapters = adapters
        self.worker_id = worker_id
        self.clock = clock
        self.policy = policy or SwapPolicy()
        self.settings = settings or SwapWatchSettings()
        self._endpoints: dict[ChainId, HtlcEndpoint | None] = {}

    # --- helpers ------------------------------------------------------------------------

    def endpoint(self, chain_id: ChainId) -> HtlcEndpoint:
        found = self._endpoint(chain_id)
        if found is None:
            raise ConfigError(f"chain {chain_id} has no HTLC the hub can use")
        return found

    def _endpoint(self, chain_id: ChainId) -> HtlcEndpoint | None:
        if chain_id not in self._endpoints:
            adapter = self.adapters.get(chain_id)
            self._endpoints[chain_id] = None if adapter is None else htlc_endpoint(adapter)
        return self._endpoints[chain_id]

    def timing(self, swap: SwapRecord) -> SwapTiming:
        return swap_timing(
            self.adapters[swap.leg1.chain_id], self.adapters[swap.leg2.chain_id], self.policy
        )

    async def check_leg2_lock(self, swap_id: str) -> None:
        """Raise unless the responder may lock leg 2 now (``validate_leg2_lock``).

        Leg 1 counts as final when the watchtower applied its lock (it reads only
        finalized heights) and the chain still holds it locked.
        """
        swap = self.store.swap(swap_id)
        leg1 = swap.leg1
        final = leg1.state is LegState.LOCKED and leg1.lock_id is not None
        if final and leg1.lock_id is not None:
            final = await self.endpoint(leg1.chain_id).lock_status(leg1.lock_id) is LegState.LOCKED
        validate_leg2_lock(
            leg1.timelock, swap.leg2.timelock, leg1.state, final, self.clock(), self.timing(swap)
        )

    # --- the pass -----------------------------------------------------------------------

    async def run_once(self) -> int:
        """Scan every HTLC chain, then work the due swaps; the number of swaps worked."""
        if not self.store.list_swaps(limit=1)[0]:
            return 0  # no swap was ever proposed: nothing to watch
        for chain_id in list(self.adapters):
            if self._endpoint(chain_id) is None:
                continue
            try:
                await self.scan(chain_id)
            except Exception as err:  # one chain's trouble must not stop the others
                log.warning("swaps: scanning %s: %s", chain_id, describe(err))
        return await self.work()

    async def scan(self, chain_id: ChainId) -> int:
        """Apply the chain's new final HTLC events; the number that moved a swap."""
        adapter, endpoint = self.adapters[chain_id], self.endpoint(chain_id)
        key = CURSOR_PREFIX + str(chain_id)
        final = int(await adapter.finalized_height())
        applied = 0
        for _ in range(self.settings.max_chunks_per_pass):
            cursor = self.store.cursor(key)
            if cursor is None:
                start = max(1, final - self.settings.lookback_blocks + 1)
            else:
                start = int(cursor) + 1
            if start > final:
                break
            end = min(final, start + self.settings.chunk_size - 1)
            for event in await adapter.events(Height(start), Height(end)):
                decoded = endpoint.decode(event)
                if decoded is not None and self.apply(decoded):
                    applied += 1
            self.store.advance_cursor(key, Height(end))
        return applied

    # --- applying chain events ----------------------------------------------------------

    def apply(self, event: HtlcEvent) -> bool:
        """Move the swap this event belongs to; False when it is not ours or already applied."""
        for _ in range(_APPLY_ATTEMPTS):
            swap = self._swap_of(event)
            if swap is None:
                return False
            try:
                return self._apply_to(swap, event)
            except InvalidTransition:  # another relayer moved it meanwhile: read again
                continue
        return False

    def _swap_of(self, event: HtlcEvent) -> SwapRecord | None:
        if event.kind is EventKind.HTLC_LOCKED and event.hashlock is not None:
            return self.store.swap_by_hashlock(event.hashlock)
        if event.kind is EventKind.HTLC_CLAIMED and event.preimage is not None:
            found = self.store.swap_by_hashlock(hashlib.sha256(event.preimage).digest())
            if found is not None:
                return found
        return self.store.swap_by_lock(event.chain_id, event.lock_id)

    def _apply_to(self, swap: SwapRecord, event: HtlcEvent) -> bool:
        leg = next((g for g in swap.legs if g.chain_id == event.chain_id), None)
        if leg is None:
            return False
        now = self.clock()
        fields: dict[str, object]
        preimage = None
        if event.kind is EventKind.HTLC_LOCKED:
            if leg.state is not LegState.PENDING:
                if leg.lock_id != event.lock_id:
                    self._note(swap, f"a second lock under this hashlock on {leg.chain_id} ignored")
                return False
            mismatch = _terms_mismatch(leg, event)
            if mismatch:
                self._note(
                    swap,
                    f"lock 0x{event.lock_id.hex()} on {leg.chain_id} ignored: its {mismatch} "
                    f"differs from leg {leg.leg}'s",
                )
                return False
            target = LegState.LOCKED
            fields = {
                "state": target,
                "lock_id": event.lock_id,
                "lock_tx": event.tx_hash,
                "lock_height": event.height,
            }
            reason = f"leg {leg.leg} locked on {leg.chain_id} at height {event.height}"
            if leg.leg == 2:
                reason += self._leg2_warning(swap, now)
        else:
            if leg.lock_id != event.lock_id or leg.state is not LegState.LOCKED:
                return False  # not this leg's lock, or applied already
            if event.kind is EventKind.HTLC_CLAIMED:
                target = LegState.CLAIMED
                fields = {"state": target, "claim_tx": event.tx_hash}
                preimage = event.preimage if swap.preimage is None else None
                reason = f"leg {leg.leg} claimed on {leg.chain_id}: the preimage is public"
            else:
                target = LegState.REFUNDED
                fields = {"state": target, "refund_tx": event.tx_hash}
                reason = f"leg {leg.leg} refunded on {leg.chain_id}"
        states = {g.leg: g.state for g in swap.legs} | {leg.leg: target}
        new = compute_swap_state(states[1], states[2])
        if new is not swap.state and not is_transition_allowed(swap.state, new):
            new = swap.state  # a terminal swap keeps its state; the leg is still recorded
        self.store.transition_swap(
            swap.id, swap.state, new, reason, now, legs={leg.leg: fields}, preimage=preimage
        )
        if event.kind is not EventKind.HTLC_LOCKED:
            self._confirm_journal(swap.id, leg.leg, event)
        log.info("swap %s: %s (%s)", swap.id, reason, new)
        return True

    def _confirm_journal(self, swap_id: str, leg: int, event: HtlcEvent) -> None:
        """Mark the hub's own claim/refund SUCCEEDED when the final event is its transaction."""
        kind = "claim" if event.kind is EventKind.HTLC_CLAIMED else "refund"
        attempt = 1
        while found := self.store.swap_action(swap_id, swap_step(kind, leg, attempt)):
            if found.tx_hash == event.tx_hash and found.status is not ActionStatus.SUCCEEDED:
                self.store.mark_swap_action(
                    found.id, ActionStatus.SUCCEEDED, tx_hash=event.tx_hash, height=event.height
                )
            attempt += 1

    def _leg2_warning(self, swap: SwapRecord, now: float) -> str:
        """Leg 2 is on chain whatever the hub thinks; say so when it was locked unsafely."""
        try:
            final = swap.leg1.state is LegState.LOCKED
            validate_leg2_lock(
                swap.leg1.timelock, swap.leg2.timelock, swap.leg1.state, final, now,
                self.timing(swap),
            )  # fmt: skip
        except PjgwError as err:
            return f" (UNSAFE: {err.message})"
        return ""

    def _note(self, swap: SwapRecord, reason: str) -> None:
        now = self.clock()
        with contextlib.suppress(NotFound):
            self.store.note_swap(swap.id, reason, now, retry_at=swap.next_attempt_at)

    # --- working leased swaps -----------------------------------------------------------

    async def work(self) -> int:
        now = self.clock()
        leased = self.store.claim_due_swaps(
            self.worker_id, now, self.settings.lease_seconds, self.settings.claim_limit
        )
        for swap in leased:
            try:
                await self.step(swap)
            except Exception as err:  # one swap's trouble must not stop the others
                log.warning("swap %s: %s", swap.id, describe(err))
                with contextlib.suppress(PjgwError):
                    now = self.clock()
                    self.store.note_swap(
                        swap.id, describe(err), now, retry_at=now + self.settings.recheck_seconds
                    )
            finally:
                with contextlib.suppress(PjgwError):
                    self.store.release_swap(swap.id, self.worker_id)
        return len(leased)

    async def step(self, swap: SwapRecord) -> None:
        """Act on one leased swap: reject an expired proposal, send what the plan says."""
        now = self.clock()
        if is_proposal_expired(swap, now):
            self.store.transition_swap(
                swap.id,
                swap.state,
                SwapState.REJECTED,
                "leg 1 was not locked before its timelock T1",
                now,
                worker=self.worker_id,
            )
            return
        in_flight = False
        timing = self.timing(swap)
        for plan in plan_actions(swap, now, timing):
            in_flight |= await self._act(swap, plan)
        if swap.state in TERMINAL_SWAP_STATES:
            return
        self.store.note_swap(
            swap.id,
            self.store.swap(swap.id).reason,
            now,
            retry_at=self._wake_at(swap, now, in_flight, timing),
        )

    def _wake_at(self, swap: SwapRecord, now: float, in_flight: bool, timing: SwapTiming) -> float:
        times = [now + self.settings.idle_seconds]
        if in_flight:
            times.append(now + self.settings.recheck_seconds)
        for leg in swap.legs:
            refund_at = compute_refund_time(leg, timing)
            if leg.state is LegState.LOCKED and leg.refund_delegated and refund_at > now:
                times.append(refund_at)
        if swap.state is SwapState.PROPOSED and swap.leg1.timelock > now:
            times.append(float(swap.leg1.timelock))
        return min(times)

    async def _act(self, swap: SwapRecord, plan: PlannedAction) -> bool:
        """Make sure ``plan`` is on its way; True while its transaction is in flight."""
        leg = swap.leg(plan.leg)
        if leg.lock_id is None:
            return False
        last, attempt = None, 0
        while (
            found := self.store.swap_action(swap.id, swap_step(plan.kind, plan.leg, attempt + 1))
        ) is not None:
            last, attempt = found, attempt + 1
        endpoint = self.endpoint(leg.chain_id)
        if last is not None and last.status is ActionStatus.SUCCEEDED:
            return True  # done on chain; the scan will see its event once final
        if last is not None and last.status is ActionStatus.SENT:
            if not await self._settle(leg, last):
                return True
            last = self.store.swap_action(swap.id, last.step)
            if last is not None and last.status is ActionStatus.SUCCEEDED:
                return True
        if last is not None and last.status is ActionStatus.RECORDED:
            # Journalled, maybe sent before a crash: resend only while the lock is open.
            action = ChainAction(last.kind, dict(last.payload), last.idempotency_key)
            if not await self._still_locked(leg, last):
                return False
            return await self._send(leg, last, action)
        # Nothing yet, or the last attempt failed: a new attempt, if the lock is still open.
        if await endpoint.lock_status(leg.lock_id) is not LegState.LOCKED:
            return False  # closed on chain; the scan records how once it is final
        step = swap_step(plan.kind, plan.leg, attempt + 1)
        key = f"swap:{swap.id}:{step}"
        if plan.kind == "claim":
            if swap.preimage is None:
                return False
            if self.clock() >= leg.timelock:
                raise ClaimWindowClosed(f"leg {leg.leg}'s timelock passed before the claim")
            action = await endpoint.claim_action(leg.lock_id, swap.preimage, key)
        else:
            action = await endpoint.refund_action(leg.lock_id, key)
        journal = self.store.record_swap_action(swap.id, step, leg.chain_id, action, self.clock())
        return await self._send(leg, journal, action)

    async def _still_locked(self, leg: SwapLegRecord, journal: ActionRecord) -> bool:
        if leg.lock_id is None:
            return False
        status = await self.endpoint(leg.chain_id).lock_status(leg.lock_id)
        if status is LegState.LOCKED:
            return True
        self.store.mark_swap_action(
            journal.id, ActionStatus.FAILED, reason=f"lock already {status}"
        )
        return False

    async def _send(self, leg: SwapLegRecord, journal: ActionRecord, action: ChainAction) -> bool:
        try:
            tx_hash = await self.adapters[leg.chain_id].submit(action)
        except ChainRejected as err:
            self.store.mark_swap_action(journal.id, ActionStatus.FAILED, reason=err.message)
            log.warning("swap leg %s on %s: %s refused: %s", leg.leg, leg.chain_id, journal.step,
                        err.message)  # fmt: skip
            return False
        self.store.mark_swap_action(journal.id, ActionStatus.SENT, tx_hash=tx_hash)
        log.info("swap leg %s: %s sent on %s", leg.leg, journal.step, leg.chain_id)
        return True

    async def _settle(self, leg: SwapLegRecord, journal: ActionRecord) -> bool:
        """Follow a sent action's receipt; True once it has one (success or failure)."""
        if journal.tx_hash is None:
            return True
        receipt = await self.adapters[leg.chain_id].receipt(journal.tx_hash)
        if receipt.success is None:
            return False
        status = ActionStatus.SUCCEEDED if receipt.success else ActionStatus.FAILED
        self.store.mark_swap_action(
            journal.id, status, height=receipt.height, reason=receipt.reason
        )
        return True


def _terms_mismatch(leg: SwapLegRecord, event: HtlcEvent) -> str:
    """The first term of ``event`` that differs from the leg's ("" when all match)."""
    checks = (
        ("sender", (event.sender or "").lower(), leg.sender.lower()),
        ("receiver", (event.receiver or "").lower(), leg.receiver.lower()),
        ("asset", (event.asset or "").lower(), leg.asset.lower()),
        ("amount", event.amount, leg.amount),
        ("timelock", event.timelock, leg.timelock),
        ("hashlock", event.hashlock, leg.hashlock),
    )
    return next((name for name, got, want in checks if got != want), "")


__all__ = [
    "CURSOR_PREFIX",
    "SwapWatchSettings",
    "SwapWatchtower",
    "chain_timing",
    "htlc_endpoint",
    "swap_timing",
]
