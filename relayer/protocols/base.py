"""What every route protocol shares: the engine's services and the one error policy.

A protocol (``notary`` today; ``htlc`` and ``light_client`` later) is a state
machine over stored transfers. It gets a :class:`Context` from the engine and
implements the seam ``core.seams.TransferProtocol``: ``process`` works a batch of leased
transfers of one route, each advanced by at most ``steps_per_claim``
idempotent steps. Errors never escape a step: :meth:`Context.handle_error`
applies ``relayer.retry.classify`` (reject, retry with backoff, wait for an
operator, freeze the route).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from adapters.follower import LightClientFollower
from core.committee import CommitteeState
from core.errors import ChainRejected, ConfigError, InvalidTransition, LeaseLost, PjgwError
from core.ids import ChainId, Height
from core.logs import log_context
from core.records import RouteRecord, TransferRecord
from core.seams import BridgeEndpoint, ChainAdapter
from core.states import TRANSFER_TRANSITIONS, TransferState
from core.types import ChainEvent, Packet
from relayer.async_store import AsyncStore
from relayer.metrics import RelayerMetrics
from relayer.retry import Disposition, backoff_delay, classify, describe
from relayer.risk.holds import ChecksFactory, decider, hub_checks, prior_verdicts
from relayer.risk.policies import PolicyCheck
from relayer.settings import RelayerSettings

log = logging.getLogger("pjgw.relayer")

DELIVERING = frozenset({TransferState.ATTESTED, TransferState.DEST_SUBMITTED})
"""States whose step delivers to the destination: an error there is a failed delivery."""


@runtime_checkable
class BatchDriver(Protocol):
    """A protocol with work of its own besides leased transfers (batches, issue #15): the
    engine calls ``drive`` once per route pass, before leasing transfers."""

    async def drive(self, route: RouteRecord) -> int:
        """Advance the route's own work; how much was worked (0: nothing to do)."""
        ...


@dataclass
class Context:
    """The engine's services, shared by every protocol instance of one ``Relayer``."""

    store: AsyncStore
    adapters: Mapping[ChainId, ChainAdapter]
    keeper: LightClientFollower
    settings: RelayerSettings
    clock: Callable[[], float]
    worker_id: str
    on_freeze: Callable[[RouteRecord, str], None]
    metrics: RelayerMetrics = field(default_factory=RelayerMetrics)
    checks: ChecksFactory = hub_checks
    outside: Sequence[PolicyCheck] = ()
    """Checks run before the screening transaction (the payload policies; they block: a
    store read, maybe a scanner), off the event loop (``relayer.risk.holds``)."""
    on_delivery: Callable[[str, bool, int], None] | None = None
    """Told each delivery's outcome (route id, succeeded, how many): the failure-rate
    breaker's window (``relayer/breakers.py``)."""
    _bridges: dict[ChainId, BridgeEndpoint] = field(default_factory=dict)
    held: frozenset[ChainId] = frozenset()
    """Chains whose committee is rotating: no new certificate acting on them is assembled
    or counted until the rotation is done (``relayer/rotation.py``, the drain)."""

    def now(self) -> float:
        return self.clock()

    def adapter(self, chain_id: ChainId) -> ChainAdapter:
        found = self.adapters.get(chain_id)
        if found is None:
            raise ConfigError(f"no adapter is configured for chain {chain_id}")
        return found

    def bridge(self, chain_id: ChainId) -> BridgeEndpoint:
        """The chain's ``BridgeEndpoint`` (``adapter.bridge()``), built once."""
        if chain_id not in self._bridges:
            make = getattr(self.adapter(chain_id), "bridge", None)
            if make is None:
                raise ConfigError(f"the adapter of {chain_id} has no bridge endpoint")
            self._bridges[chain_id] = make()
        return self._bridges[chain_id]

    def adopt_committee(self, chain_id: ChainId, committee: CommitteeState) -> None:
        """After a rotation: the adapter and the cached bridge trust ``committee``."""
        adopt = getattr(self.adapter(chain_id), "adopt_committee", None)
        if adopt is not None:
            adopt(committee)
        bridge = self._bridges.get(chain_id)
        if bridge is not None:
            bridge.adopt_committee(committee)

    def delivery_outcome(self, route_id: str, ok: bool, count: int = 1) -> None:
        """Report ``count`` deliveries of the route that succeeded (``ok``) or failed."""
        if self.on_delivery is not None and count > 0:
            self.on_delivery(route_id, ok, count)

    # --- moving a transfer ------------------------------------------------------------

    async def move(
        self, t: TransferRecord, new: TransferState, reason: str, **fields: object
    ) -> TransferRecord:
        """Compare-and-set ``t.state -> new`` under this worker's lease (one DB transaction)."""
        now = self.now()
        moved = await self.store.transition(
            t.id, t.state, new, reason, now, worker=self.worker_id, **fields
        )
        log.info("transfer %s: %s -> %s (%s)", t.id, t.state, new, reason)
        self.metrics.transitions.labels(str(new)).inc()
        if new is TransferState.COMPLETED:
            self.delivery_outcome(t.route_id, True)
        if new is TransferState.ATTESTED:
            await self._observe_quorum_wait(moved, now)
        return moved

    async def screen(
        self,
        transfers: Sequence[TransferRecord],
        expected: TransferState,
        origin: str,
        *,
        leased: bool = True,
    ) -> list[TransferRecord]:
        """Screen transfers not admitted yet against the hub's checks (``relayer.risk.holds``),
        in one store transaction; the records after. ``leased=False`` for transfers a bulk
        move already let go of (``move_many``): screening is compare-and-set on the state
        and ``admitted_at``, so two relayers screening one transfer decide it once."""
        todo = [t for t in transfers if t.admitted_at is None]
        if not todo:
            return list(transfers)
        now = self.now()
        prior = (
            await asyncio.to_thread(prior_verdicts, self.outside, todo, origin, now)
            if self.outside
            else None
        )
        after = await self.store.screen(
            [t.id for t in todo],
            expected,
            origin,
            decider(origin, now, self.checks, prior),
            now,
            recheck_at=now + self.settings.hold_recheck,
            worker=self.worker_id if leased else None,
        )
        by_id = {t.id: t for t in after}
        for t in after:
            if t.state is not expected:
                log.info("transfer %s: %s -> %s (%s)", t.id, expected, t.state, t.reason)
                self.metrics.transitions.labels(str(t.state)).inc()
        return [by_id.get(t.id, t) for t in transfers]

    async def _observe_quorum_wait(self, t: TransferRecord, now: float) -> None:
        """``proven`` -> ``attested`` from the journal's history (whichever process proved it)."""
        try:
            history = await self.store.history(t.id)
        except PjgwError:
            return
        proven = [e.at for e in history if e.state is TransferState.PROVEN]
        if proven:
            self.metrics.quorum_wait.labels(t.route_id).observe(max(0.0, now - min(proven)))

    async def wait(self, t: TransferRecord, reason: str, delay: float | None = None) -> None:
        """Keep the state, say why, and come back after ``delay`` (default ``wait_interval``)."""
        now = self.now()
        wait = self.settings.wait_interval if delay is None else delay
        await self.store.note(t.id, reason, now, retry_at=now + wait)

    def backoff(self, t: TransferRecord) -> float:
        return backoff_delay(
            t.attempts, base=self.settings.backoff_base, cap=self.settings.backoff_cap
        )

    # --- the error policy -------------------------------------------------------------

    async def guarded(
        self, route: RouteRecord, t: TransferRecord, work: Awaitable[TransferRecord | None]
    ) -> TransferRecord | None:
        """Run one step; an error becomes the policy's note, rejection or freeze.

        The step is timed (``pjgw_relayer_step_duration_seconds``) and its log lines
        carry the transfer id and route (``core.logs``)."""
        started = time.perf_counter()
        outcome = "error"
        with log_context(transfer_id=t.id, route=route.route_id):
            try:
                result = await work
                outcome = "waited" if result is None else "moved"
                return result
            except Exception as err:  # every error of a step is handled by the one policy
                await self.handle_error(route, t, err)
                return None
            finally:
                self.metrics.observe_step(t.state, outcome, time.perf_counter() - started)

    async def handle_error(self, route: RouteRecord, t: TransferRecord, err: BaseException) -> None:
        disposition = classify(err)
        reason = describe(err)
        now = self.now()
        if t.state in DELIVERING and isinstance(err, ChainRejected) and not err.retryable:
            # The destination refused or reverted the delivery (a node that is down is not
            # the destination's verdict: its errors are retried and counted as RPC errors;
            # nor is a refusal that passes by itself, a nonce ahead or taken).
            self.delivery_outcome(route.route_id, False)
        try:
            if disposition is Disposition.YIELD:
                log.info("transfer %s: %s", t.id, reason)
            elif disposition is Disposition.REJECT:
                if TransferState.REJECTED in TRANSFER_TRANSITIONS[t.state]:
                    await self.move(t, TransferState.REJECTED, f"rejected: {reason}")
                else:  # past the point of no return: an operator must look
                    await self.store.note(
                        t.id, reason, now, retry_at=now + self.settings.config_backoff
                    )
            elif disposition is Disposition.FREEZE:
                self.on_freeze(route, reason)
                await self.store.note(
                    t.id,
                    f"route {route.route_id} stopped: {reason}",
                    now,
                    retry_at=now + self.settings.config_backoff,
                )
            elif disposition is Disposition.RETRY:
                await self.store.note(
                    t.id, f"retrying: {reason}", now, retry_at=now + self.backoff(t)
                )
            else:
                log.warning("transfer %s waits for an operator: %s", t.id, reason)
                await self.store.note(
                    t.id, reason, now, retry_at=now + self.settings.config_backoff
                )
        except (LeaseLost, InvalidTransition) as lost:
            log.info("transfer %s moved elsewhere: %s", t.id, lost)
        except PjgwError as store_err:  # the store itself failed: the lease expires, it returns
            log.warning("transfer %s: could not record %r: %s", t.id, reason, store_err)


async def found_all_since(
    chain: ChainAdapter,
    floor: int,
    packets: Sequence[Packet],
    matches: Callable[[ChainEvent, Packet], bool],
    chunk_size: int,
) -> ChainEvent | None:
    """After a crash between journaling a batch chunk and sending it: the chain's event
    of the chunk's LAST packet found when every packet is found (``matches``) at or above
    ``floor``, the height noted on the journal row; ``None``: send the chunk."""
    latest = int(await chain.latest_height())
    start = max(int(floor), 1)
    left = list(packets)
    last: ChainEvent | None = None
    while start <= latest and left:
        end = min(latest, start + chunk_size - 1)
        for event in await chain.events(Height(start), Height(end)):
            for packet in left:
                if matches(event, packet):
                    left.remove(packet)
                    last = event
                    break
        start = end + 1
    return last if not left else None
