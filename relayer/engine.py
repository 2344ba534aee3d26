"""The relayer engine: a watcher per source chain, a worker per route, the swap watchtower.

``Relayer.run`` keeps one task per part in an ``asyncio.TaskGroup``, so one
slow or dead chain delays only what depends on it:

* **routes** (the supervisor loop, every ``poll_interval``): read the enabled
  routes; a route whose source light client is frozen is stopped and says why
  (:meth:`Relayer.route_status`, reported to the store with
  ``Store.report_route_status`` so the API and the dashboard of any process
  see it); tasks are started for new chains and routes and ended for those gone;
* **a watcher per source chain**: reads the chain's events ONCE per finalized
  range, from the chain's cursor (``chain:<id>``) in chunks of
  ``chunk_size``, and hands each ``send_packet`` to the route it is for (by
  destination); the cursor advances only after every event of the chunk is
  recorded, so a crash re-reads the chunk and finds the transfers there. Of
  several relayer processes on one store, ONE watches a chain: the one holding
  the lease on its cursor key (``Store.take_watch_lease``, renewed once a third
  of ``watch_lease_seconds`` has passed); the others skip the pass and stand by, and one of
  them takes over once the holder stops renewing (issue #15: only the route
  workers and batch tasks scale with processes);
* **a batch driver per route** (a protocol that is a ``BatchDriver``, issue #15):
  steps the route's batches (signatures, sends, receipts) next to its worker;
* **a worker per route**: leases the route's due transfers
  (``Store.claim_due(route_id=…)``) and hands them to the route's protocol
  (``relayer.protocols``), which steps them, batches deliveries, and applies
  the one retry policy;
* **the swap watchtower** (``relayer.swaps.SwapWatchtower``) when the store
  keeps swaps;
* **the light-client keeper** (every ``client_refresh_interval``): each source
  chain's client is advanced to the finalized height once a third of its
  trusting period or less is left, traffic or not, so an idle route never lets
  its trusted state expire (``LightClientFollower.refresh``).

Metrics (``relayer.metrics``) are observed as the work happens; every adapter
call of the watchers, protocols and light clients crosses ``relayer.metered``,
which counts RPC failures by chain.

:meth:`Relayer.run_once` is one pass of all of it (watchers, then workers, each
concurrently), for tests and tools.

Layering: this module sees only ``core`` seams, ``proofs`` and ``adapters``
objects handed in; the gateway builds it with its ``SqlStore``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial

from adapters.chains_file import build_adapter
from core.errors import InvalidInput, NotFound, PjgwError
from core.ids import ChainId, Height, PacketId
from core.logs import log_context
from core.records import (
    ChainRecord,
    NewTransfer,
    RouteProtocol,
    RouteRecord,
    RouteStatusRecord,
    SeenPacket,
    TransferKind,
    TransferRecord,
)
from core.seams import ChainAdapter, RotationStore, Store, TransferProtocol
from core.swaps import SwapStore
from core.types import ChainEvent, EventKind, Packet, packet_to_data, plain_attributes
from relayer.async_store import AsyncStore
from relayer.breakers import BREAKERS_TASK, Breakers, Trip
from relayer.follower import relayer_follower
from relayer.metered import MeteredAdapters
from relayer.metrics import RelayerMetrics
from relayer.protocols.base import BatchDriver, Context
from relayer.protocols.batched import BatchedNotaryProtocol
from relayer.protocols.light_client import LightClientProtocol
from relayer.retry import describe
from relayer.risk.holds import ChecksFactory, hub_checks, outside_checks
from relayer.rotation import RotationDriver
from relayer.settings import RelayerSettings
from relayer.swaps import SwapWatchtower

log = logging.getLogger("pjgw.relayer")

CLIENTS_TASK = "clients"
"""The task that keeps every source chain's light client inside its trusting period."""

RECORD_BATCH = 500
"""Packets a watcher records in one store transaction (``Store.record_packets``)."""

PROTOCOLS: dict[RouteProtocol, Callable[[Context], TransferProtocol]] = {
    RouteProtocol.NOTARY: BatchedNotaryProtocol,
    RouteProtocol.LIGHT_CLIENT: LightClientProtocol,
}
"""Protocol implementations by ``RouteRecord.protocol`` (``htlc``: later)."""

STOP_GRACE = 5.0
"""Seconds a stopping relayer lets its tasks finish their current pass before it cancels
them: under ``docker stop``'s 10 s before its SIGKILL, so a stop is a clean one."""

STATUS_HEARTBEAT_SECONDS = 10.0
"""A route's status is written to the store when its state (or, off ``running``, its
reason) changes, and otherwise at most this often: a running route's reason names the
height scanned, which changes every pass, and a write per pass per route is waste."""


@dataclass(frozen=True, slots=True)
class RouteStatus:
    """What one route is doing, for the API and operators (kept in memory per process)."""

    route_id: str
    state: str  # "running" | "stopped" | "unsupported" | "error"
    reason: str
    cursor: int | None
    since: float


class Relayer:
    """Watches routes and drives their transfers; ``run`` until ``stop`` is set.

    ``worker_id`` names this process in leases (unique per process); ``clock``
    returns unix seconds (a parameter so tests can move time).
    """

    def __init__(
        self,
        store: Store,
        adapters: Mapping[ChainId, ChainAdapter],
        *,
        worker_id: str,
        clock: Callable[[], float] = time.time,
        settings: RelayerSettings | None = None,
        adapter_factory: Callable[[ChainRecord], ChainAdapter] | None = None,
        metrics: RelayerMetrics | None = None,
        transfer_counts: bool = True,
        checks: ChecksFactory = hub_checks,
    ) -> None:
        if not worker_id:
            raise InvalidInput("a relayer needs a worker id", field="worker_id")
        self.store = store
        # Shared with the protocols and the client keeper, and with the API when the hub
        # hands this very dict to it: adapters built at run time are seen by all.
        self.adapters = adapters if isinstance(adapters, dict) else dict(adapters)
        self.adapter_factory = adapter_factory or build_adapter
        self.worker_id = worker_id
        self.clock = clock
        self.settings = settings or RelayerSettings()
        self.metrics = metrics or RelayerMetrics()
        """``transfer_counts=False``: the hub's API already exports ``pjgw_transfers``."""
        # What the relayer's own code calls: the same adapters, each RPC failure counted.
        self.chains = MeteredAdapters(self.adapters, self.metrics.rpc_error)
        self.keeper = relayer_follower(store, self.chains, self.settings, clock)
        self.db = AsyncStore(store)
        """Every store call of the relayer crosses this boundary (``relayer/async_store.py``)."""
        self.ctx = Context(
            store=self.db,
            adapters=self.chains,
            keeper=self.keeper,
            settings=self.settings,
            clock=clock,
            worker_id=worker_id,
            on_freeze=self._freeze_route,
            metrics=self.metrics,
            checks=checks,
            outside=outside_checks(store),
        )
        self.breakers = Breakers(
            self.db, self.adapters, self.chains, self.keeper, self.settings, clock, self.metrics
        )
        """The circuit breakers (``relayer/breakers.py``): their own task, every
        ``breaker_interval``; told every delivery's outcome through the context."""
        self.ctx.on_delivery = self.breakers.delivery_outcome
        self._protocols: dict[RouteProtocol, TransferProtocol] = {
            name: make(self.ctx) for name, make in PROTOCOLS.items()
        }
        self._status: dict[str, RouteStatus] = {}
        self._scanned: dict[ChainId, int] = {}  # source chain -> the height its watcher reached
        self._stopped: dict[str, str] = {}  # route id -> why (frozen client)
        self._reported: dict[str, tuple[str, str, float]] = {}  # route -> (state, reason, at)
        self._watching: dict[ChainId, float] = {}
        """Source chain -> until when this process holds its watch lease."""
        self._wakeups: dict[str, asyncio.Event] = {}
        """Task name -> the event that ends its idle wait early (``wake``)."""
        self._running_loop: asyncio.AbstractEventLoop | None = None
        """The loop ``run`` runs on (``wake_from_thread`` hands wakes to it)."""
        # HTLC swaps: a second pass of this process over the same adapters (relayer/swaps.py).
        self.swaps = (
            SwapWatchtower(store, self.adapters, worker_id=worker_id, clock=clock)
            if isinstance(store, SwapStore)
            else None
        )
        # Committee rotations (relayer/rotation.py): the hold, the drain and the rotation.
        self.rotations = RotationDriver(self.ctx) if isinstance(store, RotationStore) else None
        self.metrics.watch(self, with_transfer_counts=transfer_counts)

    # --- status -------------------------------------------------------------------------

    def route_status(self) -> dict[str, RouteStatus]:
        """Every route this relayer knows, with its state and the reason."""
        return dict(self._status)

    def route_states(self) -> dict[str, str]:
        """Route id -> ``running``/``stopped``/``unsupported``/``error`` (for the metrics, read
        in the scraper's thread: the dict is copied first, in one step)."""
        return {route: status.state for route, status in self._status.copy().items()}

    @property
    def sync_store(self) -> Store:
        """The store itself, for the metrics' scrape-time reads (in the scraper's thread)."""
        return self.store

    def _set_status(self, route: RouteRecord, state: str, reason: str) -> None:
        old = self._status.get(route.route_id)
        since = old.since if old is not None and old.state == state else self.clock()
        cursor = self._scanned.get(route.source)
        self._status[route.route_id] = RouteStatus(
            route.route_id, state, reason, None if cursor is None else int(cursor), since
        )

    async def report_statuses(self) -> int:
        """Write each route's status that changed (or is due a heartbeat) to the store, as
        this relayer's report (``worker_id``); the number written. A failed write is
        logged and retried on the next pass."""
        now = self.clock()
        written = 0
        for route_id, status in list(self._status.items()):
            last = self._reported.get(route_id)
            if (
                last is not None
                and last[0] == status.state
                and (status.state == "running" or last[1] == status.reason)
                and now - last[2] < STATUS_HEARTBEAT_SECONDS
            ):
                continue
            record = RouteStatusRecord(
                route_id,
                self.worker_id,
                status.state,
                status.reason,
                status.cursor,
                status.since,
                now,
            )
            try:
                await self.db.report_route_status(record)
            except PjgwError as err:
                log.warning("route %s: could not report its status: %s", route_id, err)
                continue
            self._reported[route_id] = (status.state, status.reason, now)
            written += 1
        return written

    def _freeze_route(self, route: RouteRecord, reason: str) -> None:
        self._stopped[route.route_id] = reason
        self._set_status(route, "stopped", reason)
        log.error("route %s stopped: %s", route.route_id, reason)

    # --- the loop -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """A watcher per source chain, a worker per route and the watchtower, each a task of
        its own, until ``stop`` is set; every ``poll_interval`` the route list is read again
        and tasks are started for new chains and routes (and ended for those gone)."""
        tasks: dict[str, asyncio.Task[None]] = {}
        self._running_loop = asyncio.get_running_loop()
        if self.rotations is not None:  # committees rotated before a restart, before any batch
            try:
                await self.rotations.run_once()
            except Exception:  # the store may be briefly away: the rotations task retries
                log.exception("reading the committee rotations failed")
        async with asyncio.TaskGroup() as group:
            while not stop.is_set():
                wanted: dict[str, Callable[[], Awaitable[int]]] | None
                try:
                    wanted = self._wanted_tasks(await self._routes())
                except Exception:  # the store may be briefly away: keep what runs
                    log.exception("reading the routes failed")
                    wanted = None
                await self.report_statuses()
                if wanted is not None:
                    self._reconcile(group, tasks, wanted, stop)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.poll_interval)
            await self._wind_down(tasks)
        await self.release_watches()

    def _reconcile(
        self,
        group: asyncio.TaskGroup,
        tasks: dict[str, asyncio.Task[None]],
        wanted: Mapping[str, Callable[[], Awaitable[int]]],
        stop: asyncio.Event,
    ) -> None:
        """Start the wanted tasks not running, end those no longer wanted (a route gone)."""
        for name, work in wanted.items():
            if name not in tasks or tasks[name].done():
                interval = {
                    CLIENTS_TASK: self.settings.client_refresh_interval,
                    BREAKERS_TASK: self.settings.breaker_interval,
                }.get(name, self.settings.poll_interval)
                tasks[name] = group.create_task(self._loop(name, work, stop, interval), name=name)
        for name in [n for n in tasks if n not in wanted]:
            tasks.pop(name).cancel()

    @staticmethod
    async def _wind_down(tasks: Mapping[str, asyncio.Task[None]]) -> None:
        """On stop, each task ends after its current pass (``_loop`` looks at ``stop``
        between passes), for at most ``STOP_GRACE`` seconds; then what still runs is
        cancelled. A pass cut short is safe (every step is journaled and resumes), but one
        that finishes leaves nothing to resume."""
        running = [t for t in tasks.values() if not t.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=STOP_GRACE)
            for task in late:
                log.warning(
                    "%s: still running %g s after the stop; cancelled", task.get_name(), STOP_GRACE
                )
                task.cancel()

    def _wanted_tasks(self, routes: list[RouteRecord]) -> dict[str, Callable[[], Awaitable[int]]]:
        wanted: dict[str, Callable[[], Awaitable[int]]] = {}
        for chain, chain_routes in self._by_source(routes).items():
            wanted[f"watch:{chain}"] = partial(self.watch_chain, chain, chain_routes)
        for route in routes:
            for n in range(self.settings.route_workers):
                # Concurrent passes over one route lease disjoint transfers (as relayer
                # processes do): a pass waiting on the chain or the store's lock no longer
                # holds up the next claimed set (issue #15).
                name = f"route:{route.route_id}" + (f"#{n + 1}" if n else "")
                wanted[name] = partial(self.work_route, route.route_id)
            if isinstance(self._protocols.get(route.protocol), BatchDriver):
                # Its own task: a batch's signatures, sends and receipts are not held up
                # behind the proofs of the route's next transfers.
                wanted[f"batches:{route.route_id}"] = partial(self.drive_route, route.route_id)
        if self.swaps is not None:
            wanted["swaps"] = self.swaps.run_once
        if self.rotations is not None:
            wanted["rotations"] = self.rotations.run_once
        sources = sorted({r.source for r in routes})
        if sources:
            wanted[CLIENTS_TASK] = partial(self.refresh_clients, sources)
        if routes and self.settings.breakers:
            wanted[BREAKERS_TASK] = self._breaker_pass
        return wanted

    async def _breaker_pass(self) -> int:
        """One check of the breakers; always 0 (the task waits ``breaker_interval``)."""
        await self.check_breakers()
        return 0

    async def _loop(
        self,
        name: str,
        work: Callable[[], Awaitable[int]],
        stop: asyncio.Event,
        interval: float | None = None,
    ) -> None:
        """``work`` pass after pass until ``stop``; a failed pass is logged and retried; an
        idle pass waits ``interval`` (default ``poll_interval``)."""
        interval = self.settings.poll_interval if interval is None else interval
        wake = self._wakeups.setdefault(name, asyncio.Event())
        while not stop.is_set():
            wake.clear()  # a wake during the pass makes the next one start at once
            try:
                done = await work()
            except Exception:  # one part's trouble must end neither it nor the others
                log.exception("%s: pass failed", name)
                done = 0
            if not done:
                await _first_of(stop, wake, interval)

    def wake_from_thread(self, task: str) -> None:
        """``wake`` from another thread (the API's handlers run in a thread pool: a notary's
        signature that completes a quorum wakes the route's batch task at once)."""
        loop = self._running_loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.wake, task)

    def wake(self, task: str) -> None:
        """End the idle wait of ``task`` and of its numbered siblings (``route:<id>#2`` …):
        a part that just made work for another says so, instead of that part finding it
        one ``poll_interval`` later (the watcher wakes the route's workers, a worker that
        assembled batches wakes the route's batch task)."""
        for name, event in self._wakeups.items():
            if name == task or name.startswith(task + "#"):
                event.set()

    async def run_once(self) -> int:
        """One pass of everything: the watchers, then the route workers (each set running
        concurrently), then the watchtower; the transfers and swaps stepped."""
        routes = await self._routes()
        await asyncio.gather(
            *(
                self._watch_guarded(chain, chain_routes)
                for chain, chain_routes in self._by_source(routes).items()
            )
        )
        await self.refresh_clients(sorted({r.source for r in routes}))
        if self.rotations is not None:
            await self.rotations.run_once()
        stepped = sum(await asyncio.gather(*(self.drive_route(r.route_id) for r in routes)))
        stepped += sum(await asyncio.gather(*(self.work_route(r.route_id) for r in routes)))
        if self.swaps is not None:
            try:
                stepped += await self.swaps.run_once()
            except Exception:  # the swap pass must not stop transfers (or the reverse)
                log.exception("swap watchtower pass failed")
        await self.report_statuses()
        return stepped

    def _by_source(self, routes: list[RouteRecord]) -> dict[ChainId, list[RouteRecord]]:
        """The running routes (not stopped) grouped by their source chain."""
        grouped: dict[ChainId, list[RouteRecord]] = defaultdict(list)
        for route in routes:
            if route.route_id not in self._stopped:
                grouped[route.source].append(route)
        return dict(grouped)

    async def _routes(self) -> list[RouteRecord]:
        running = []
        for route in await self.db.routes():
            if not route.enabled:
                self._set_status(route, "stopped", "disabled by an operator")
                continue
            if route.protocol not in self._protocols:
                self._set_status(route, "unsupported", f"protocol {route.protocol} not built yet")
                continue
            missing = await self._ensure_adapters(route)
            if missing:
                self._set_status(route, "error", missing)
                continue
            frozen = await self.keeper.frozen_reason(route.source)
            if frozen is not None:
                if route.route_id not in self._stopped:
                    self._freeze_route(route, f"light client of {route.source} frozen: {frozen}")
            else:
                self._stopped.pop(route.route_id, None)  # an operator re-anchored it
            running.append(route)
        return running

    async def _ensure_adapters(self, route: RouteRecord) -> str:
        """Build the adapters of a route's chains registered after start (``POST /v1/chains``).

        Returns why the route cannot run ("" when both adapters exist). A chain
        whose adapter fails to build is retried on the next pass, not forgotten.
        """
        for chain_id in (route.source, route.destination):
            if chain_id in self.adapters:
                continue
            record = next((c for c in await self.db.chains() if c.chain_id == chain_id), None)
            if record is None:
                return f"chain {chain_id} is not registered"
            if not record.enabled:
                return f"chain {chain_id} is disabled"
            try:
                self.adapters[chain_id] = self.adapter_factory(record)
            except Exception as err:  # a bad registration must not stop the other routes
                return f"chain {chain_id}: no adapter ({describe(err)})"
            log.info("built the %s adapter of %s (registered at run time)", record.family, chain_id)
        return ""

    # --- circuit breakers -------------------------------------------------------------------

    async def check_breakers(self) -> list[Trip]:
        """One pass of every circuit breaker over every route (``relayer/breakers.py``): a
        route whose breaker trips is paused in the store, audited as ``breaker:<name>``;
        the trips found. Not part of :meth:`run_once` (its own task in :meth:`run`)."""
        trips = await self.breakers.check(await self.db.routes())
        for trip in trips:
            route = await self.db.route(trip.route_id)
            if route.paused_reason is not None:
                self._set_status(route, "paused", route.paused_reason)
        return trips

    # --- light clients --------------------------------------------------------------------

    async def refresh_clients(self, chains: list[ChainId]) -> int:
        """Refresh each chain's light client when a third of its trusting period or less is
        left (``LightClientFollower.refresh``) and publish its height and expiry; always 0
        (the keeper's loop waits ``client_refresh_interval`` between passes).

        A chain whose client cannot be refreshed now (node down, header refused) is logged
        and tried again next pass; a frozen client is left to the operator.
        """
        for chain_id in chains:
            with log_context(chain=chain_id):
                try:
                    before = await self.keeper.expiry(chain_id)
                    after = await self.keeper.refresh(chain_id)
                except Exception as err:  # one chain's trouble must not stop the others
                    log.warning("refreshing the light client of %s: %s", chain_id, describe(err))
                    continue
                if after is None:
                    continue
                if before is not None and after.trusted_height != before.trusted_height:
                    self.metrics.client_refreshes.labels(str(chain_id)).inc()
                    log.info(
                        "light client of %s refreshed to height %d (%.0f s of trust were left)",
                        chain_id,
                        after.trusted_height,
                        before.expires_in(self.clock()),
                    )
                label = str(chain_id)
                self.metrics.client_height.labels(label).set(after.trusted_height)
                self.metrics.client_expiry.labels(label).set(after.expires_in(self.clock()))
                self.metrics.client_period.labels(label).set(after.trusting_period)
                self.metrics.client_frozen.labels(label).set(1.0 if after.frozen else 0.0)
        return 0

    # --- watching -------------------------------------------------------------------------

    @staticmethod
    def chain_cursor_key(chain_id: ChainId) -> str:
        """The store cursor of a source chain's watcher: the last height fully recorded."""
        return f"chain:{chain_id}"

    async def _watch_guarded(self, chain_id: ChainId, routes: list[RouteRecord]) -> None:
        try:
            await self.watch_chain(chain_id, routes)
        except Exception as err:  # one chain's trouble must not stop the others
            for route in routes:
                self._set_status(route, "error", describe(err))
            log.warning("watcher of %s: %s", chain_id, describe(err))

    async def watch_chain(self, chain_id: ChainId, routes: list[RouteRecord] | None = None) -> int:
        """Record the new ``send_packet`` events of ``chain_id`` for its routes, chunk by
        chunk, each finalized range listed once; the count recorded (its log lines carry
        the chain)."""
        with log_context(chain=chain_id):
            recorded = await self._watch_chain(chain_id, routes)
            if recorded:
                log.info("%d packet(s) of %s recorded", recorded, chain_id)
            return recorded

    async def _hold_watch(self, chain_id: ChainId) -> str | None:
        """Take or renew this process's watch lease on ``chain_id``; None when it holds it,
        else the worker id of the process that does (a live lease of its own)."""
        label = str(chain_id)
        lease = await self.db.take_watch_lease(
            self.chain_cursor_key(chain_id),
            self.worker_id,
            self.clock(),
            self.settings.watch_lease_seconds,
        )
        if lease.owner != self.worker_id:
            if self._watching.pop(chain_id, None) is not None:
                log.warning(
                    "the watch of %s passed to relayer %s (this process's lease lapsed)",
                    chain_id,
                    lease.owner,
                )
            self.metrics.watching.labels(label).set(0)
            return lease.owner
        if lease.taken_from is not None:
            log.info(
                "took over the watch of %s from relayer %s (its lease expired)",
                chain_id,
                lease.taken_from,
            )
        elif chain_id not in self._watching:
            log.info("watching %s (no other relayer held its lease)", chain_id)
        self._watching[chain_id] = lease.until
        self.metrics.watching.labels(label).set(1)
        return None

    def _renewal_due(self, chain_id: ChainId) -> bool:
        """Whether a third of the watch lease has passed since it was last taken, or this
        process holds none (a long pass renews it between chunks, so it never lapses while
        the watcher works)."""
        left = self._watching.get(chain_id, 0.0) - self.clock()
        return left < self.settings.watch_lease_seconds * 2 / 3

    async def release_watches(self) -> None:
        """End every watch lease this process holds (a clean stop): another process takes
        each chain at its next pass, not ``watch_lease_seconds`` later."""
        for chain_id in list(self._watching):
            try:
                await self.db.release_watch_lease(self.chain_cursor_key(chain_id), self.worker_id)
            except PjgwError as err:  # it expires on its own
                log.warning("could not release the watch of %s: %s", chain_id, err)
            self._watching.pop(chain_id, None)
            self.metrics.watching.labels(str(chain_id)).set(0)

    def _watched_elsewhere(self, chain_id: ChainId, routes: list[RouteRecord], owner: str) -> int:
        for route in routes:
            self._set_status(route, "running", f"{chain_id} is watched by relayer {owner}")
        return 0

    async def _watch_chain(self, chain_id: ChainId, routes: list[RouteRecord] | None) -> int:
        if routes is None:
            routes = self._by_source(await self._routes()).get(chain_id, [])
        routes = [r for r in routes if r.route_id not in self._stopped]
        if not routes:
            return 0
        # One process watches a chain; the others' route workers use what it records. The
        # holder renews once a third of its lease passed, not on every pass (a store write
        # per chain per poll, on SQLite behind the one write lock).
        if self._renewal_due(chain_id):  # also true when this process does not hold it
            owner = await self._hold_watch(chain_id)
            if owner is not None:
                return self._watched_elsewhere(chain_id, routes, owner)
        source = self.ctx.adapter(chain_id)
        bridge = self.ctx.bridge(chain_id)
        by_destination = {r.destination: r for r in routes}
        starts = {r.route_id: self._start_height(r) for r in routes}
        key = self.chain_cursor_key(chain_id)
        recorded = 0
        final = int(await source.finalized_height())
        self.metrics.finalized_height.labels(str(chain_id)).set(final)
        for _ in range(self.settings.max_chunks_per_pass):
            if self._renewal_due(chain_id):
                owner = await self._hold_watch(chain_id)
                if owner is not None:  # lapsed mid-pass: the new holder goes on from the cursor
                    return recorded + self._watched_elsewhere(chain_id, routes, owner)
            cursor = await self.db.cursor(key)
            start = (
                int(cursor) + 1 if cursor is not None else await self._first_height(routes, starts)
            )
            self.metrics.cursor_height.labels(str(chain_id)).set(start - 1)
            if start > final:
                break
            end = min(final, start + self.settings.chunk_size - 1)
            found = []
            for event in await source.events(Height(start), Height(end)):
                if event.kind is not EventKind.SEND_PACKET:
                    continue
                packet = bridge.packet_of(event)
                route = by_destination.get(packet.dest_chain)
                if route is None or int(event.height) < starts[route.route_id]:
                    continue
                found.append((route, event, packet))
            # Recorded in one store transaction per ``RECORD_BATCH`` packets (issue #15: one
            # per packet was the watcher's whole time under load), all before the cursor
            # moves: a crash re-reads the chunk and finds them recorded. The range read is
            # finalized, so a transfer the watcher creates starts in ``source_final`` (its
            # ``source_committed`` and ``source_final`` lines written with it: two bulk
            # moves and a pass fewer per transfer).
            for first in range(0, len(found), RECORD_BATCH):
                await self.db.record_packets(
                    [self._seen(*item) for item in found[first : first + RECORD_BATCH]],
                    self.clock(),
                    final=True,
                )
            recorded += len(found)
            for route_id in {route.route_id for route, _event, _packet in found}:
                self.wake(f"route:{route_id}")
            await self.db.advance_cursor(key, Height(end))
            self._scanned[chain_id] = end
            self.metrics.cursor_height.labels(str(chain_id)).set(end)
        for route in routes:
            self._set_status(route, "running", f"scanned to {chain_id} height {final}")
        return recorded

    async def _first_height(self, routes: list[RouteRecord], starts: Mapping[str, int]) -> int:
        """Where a chain with no cursor yet starts: the lowest route start, or just past the
        lowest per-route cursor an earlier version of the relayer left."""
        legacy = [await self.db.cursor(r.route_id) for r in routes]
        known = [int(c) + 1 for c in legacy if c is not None]
        if known:
            return min(known)
        return min(starts.values())

    def _start_height(self, route: RouteRecord) -> int:
        configured = route.settings.get("start_height")
        if isinstance(configured, int) and not isinstance(configured, bool) and configured >= 0:
            return configured
        return self.settings.start_height

    @staticmethod
    def _seen(route: RouteRecord, event: ChainEvent, packet: Packet) -> SeenPacket:
        """What the store records of a packet the watcher found: the transfer to create when
        none tracks it yet, and its event with where it sits, stored once (later steps never
        list the block again; the state change is the protocol's, on its next step)."""
        pid = PacketId(packet.source_chain, packet.dest_chain, packet.sequence)
        return SeenPacket(
            new=NewTransfer(
                route_id=route.route_id,
                kind=TransferKind.ASSET if packet.amount else TransferKind.MESSAGE,
                sender="0x" + packet.sender.hex(),
                receiver="0x" + packet.receiver.hex(),
                denom=packet.denom,
                amount=packet.amount,
                payload=packet.payload,
                timeout_height=packet.timeout_height,
                timeout_time=packet.timeout_time_ms // 1000,
                packet=pid,
                source_tx=event.tx_hash,
                reason=f"packet seen on {route.source}",
            ),
            reason=f"send_packet {pid} seen in block {event.height} of {route.source}",
            source_height=int(event.height),
            source_position=tuple(event.position),
            source_event=event.raw,
            packet_data=packet_to_data(packet),
            source_attributes=plain_attributes(event.attributes),
        )

    # --- working --------------------------------------------------------------------------

    async def work_route(self, route_id: str) -> int:
        """Lease the route's due transfers and hand them to its protocol; the number leased.

        A stopped, disabled or unsupported route parks its transfers with the reason; a
        route a supervisor paused (``paused_reason``) leases nothing at all.
        """
        paused = await self._paused(route_id)
        if paused is not None:
            return 0
        claimed = await self.db.claim_due(
            self.worker_id,
            self.clock(),
            self.settings.lease_seconds,
            self.settings.claim_limit,
            route_id=route_id,
        )
        if not claimed:
            return 0
        try:
            route = await self.db.route(route_id)
        except NotFound:
            route = None
        if (
            route is None
            or not route.enabled
            or route_id in self._stopped
            or route.protocol not in self._protocols
        ):
            why = self._stopped.get(route_id, f"route {route_id} is disabled or unsupported")
            await self._park(claimed, why)
            return len(claimed)
        await self._protocols[route.protocol].process(route, claimed)
        self.wake(f"batches:{route_id}")  # what this pass assembled is stepped at once
        return len(claimed)

    async def _paused(self, route_id: str) -> str | None:
        """Why a supervisor paused the route (its status says so), or None."""
        try:
            route = await self.db.route(route_id)
        except NotFound:
            return None
        if route.paused_reason is not None:
            self._set_status(route, "paused", route.paused_reason)
        return route.paused_reason

    async def drive_route(self, route_id: str) -> int:
        """One pass of the route's protocol over its own work (``BatchDriver``: batches), a
        task of its own next to the route's worker; the number of batches worked."""
        if route_id in self._stopped:
            return 0
        try:
            route = await self.db.route(route_id)
        except NotFound:
            return 0
        protocol = self._protocols.get(route.protocol)
        if (
            not route.enabled
            or route.paused_reason is not None
            or not isinstance(protocol, BatchDriver)
        ):
            return 0
        return await protocol.drive(route)

    async def _park(self, transfers: list[TransferRecord], reason: str) -> None:
        now = self.clock()
        for t in transfers:
            try:
                await self.db.note(t.id, reason, now, retry_at=now + self.settings.config_backoff)
                await self.db.release(t.id, self.worker_id)
            except PjgwError as err:
                log.warning("transfer %s: could not park: %s", t.id, err)


async def _first_of(stop: asyncio.Event, wake: asyncio.Event, timeout: float) -> None:
    """Wait until ``stop`` or ``wake`` is set, or ``timeout`` seconds pass."""
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


__all__ = [
    "BREAKERS_TASK",
    "CLIENTS_TASK",
    "PROTOCOLS",
    "STATUS_HEARTBEAT_SECONDS",
    "Relayer",
    "RouteStatus",
]
