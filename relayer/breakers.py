"""Circuit breakers: a route stops itself when something is wrong that no retry mends.

Every ``breaker_interval`` the engine's ``breakers`` task checks each route with
the breakers named in ``RelayerSettings.breakers`` (``docs/supervision.md``
"Circuit breakers"):

* ``conservation``: the route's assets read from the chains: escrow on the source
  against vouchers on the destination plus what is certainly in flight
  (``core.conservation``); a deficit above ``breaker_conservation_tolerance``, seen
  twice in a row (the second read confirms the first), trips it. The reads go
  destination first, then the source, then the store, each source counted only up
  to the height read before its escrow: a packet that moves meanwhile can make a
  surplus, not a deficit.
* ``client_frozen``: the hub's light client of the route's source or destination is
  frozen (misbehaviour evidence: a fork, a conflicting header).
* ``failure_rate``: of the route's last ``breaker_failure_window`` deliveries in the
  last ``breaker_failure_minutes``, at least ``breaker_failure_min`` are known and the
  failed share is ``breaker_failure_rate`` or more. Outcomes are counted in this
  process (``DeliveryWindow``, fed by the protocols' one hook,
  ``Context.delivery_outcome``).

A trip is ``BreakerStore.trip_breakers``: the route (and, for ``conservation``, its
reverse, in the same commit) is paused with a reason naming the breaker, audited as
``breaker:<name>``, only when it is not paused already (so two relayers checking the
same route write one pause); the relayer logs it and counts it
(``pjgw_relayer_breaker_trips_total``). Only an operator resumes the route (``resume``
with a reason); a breaker whose cause remains trips it again on its next check. Nothing
a paused route holds is lost: its watcher still records packets and its transfers wait
in their states until it resumes.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from adapters.follower import LightClientFollower
from core.conservation import AssetLedger, home_denoms, voucher_path
from core.ids import ChainId, Height
from core.records import RouteRecord
from core.seams import BridgeLedger, ChainAdapter
from relayer.async_store import AsyncStore
from relayer.metrics import RelayerMetrics
from relayer.retry import describe
from relayer.settings import BREAKERS, RelayerSettings

log = logging.getLogger("pjgw.relayer")

BREAKERS_TASK = "breakers"
"""The engine's task that runs every breaker over every route (one per relayer process;
idempotent: the store's compare-and-set pause decides who writes)."""


@dataclass(frozen=True, slots=True)
class Trip:
    """A breaker that found its cause on a route (``paused``: this check paused it)."""

    route_id: str
    breaker: str
    reason: str
    paused: bool


class DeliveryWindow:
    """The last ``size`` delivery outcomes of each route not older than ``seconds``.

    Kept in this process: each relayer judges the deliveries it made (a sample of the
    route's, with two relayers); a restart starts empty.
    """

    def __init__(self, size: int, seconds: float) -> None:
        self.size = size
        self.seconds = seconds
        self._outcomes: dict[str, deque[tuple[float, bool]]] = {}

    def record(self, route_id: str, ok: bool, at: float, count: int = 1) -> None:
        window = self._outcomes.setdefault(route_id, deque(maxlen=self.size))
        for _ in range(max(0, count)):
            window.append((at, ok))

    def figures(self, route_id: str, now: float) -> tuple[int, int]:
        """``(failed, known)`` among the route's outcomes inside the window at ``now``."""
        window = self._outcomes.get(route_id, ())
        recent = [ok for at, ok in window if now - at <= self.seconds]
        return sum(1 for ok in recent if not ok), len(recent)

    def clear(self, route_id: str) -> None:
        """Forget a route's outcomes (it was paused: a resumed route starts afresh)."""
        self._outcomes.pop(route_id, None)


class Breakers:
    """Every breaker of one relayer process; :meth:`check` is one pass over the routes."""

    def __init__(
        self,
        db: AsyncStore,
        adapters: Mapping[ChainId, ChainAdapter],
        chains: Mapping[ChainId, ChainAdapter],
        keeper: LightClientFollower,
        settings: RelayerSettings,
        clock: Callable[[], float],
        metrics: RelayerMetrics,
    ) -> None:
        """``adapters`` are asked for capabilities, ``chains`` (the metered view) are called."""
        self.db = db
        self.adapters = adapters
        self.chains = chains
        self.keeper = keeper
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.deliveries = DeliveryWindow(
            settings.breaker_failure_window, settings.breaker_failure_minutes * 60.0
        )
        self._checks: dict[
            str, Callable[[RouteRecord, Sequence[RouteRecord]], Awaitable[str | None]]
        ] = {
            "conservation": self.conservation,
            "client_frozen": self.client_frozen,
            "failure_rate": self.failure_rate,
        }

    def delivery_outcome(self, route_id: str, ok: bool, count: int = 1) -> None:
        """One or ``count`` deliveries of ``route_id`` succeeded (``ok``) or failed."""
        self.deliveries.record(route_id, ok, self.clock(), count)

    async def check(self, routes: Sequence[RouteRecord]) -> list[Trip]:
        """Run every enabled breaker over every enabled route not paused yet; the trips
        found. A breaker that cannot read now (a node down) is logged and tried next pass:
        it never trips for want of an answer."""
        trips: list[Trip] = []
        for route in routes:
            self._publish(route)
            if (
                not route.enabled
                or route.paused_reason is not None
                or any(t.route_id == route.route_id for t in trips)
            ):
                continue
            for name in self.settings.breakers:
                try:
                    reason = await self._checks[name](route, routes)
                except Exception as err:  # one route's trouble must not stop the others
                    log.warning(
                        "breaker %s of route %s could not check: %s",
                        name,
                        route.route_id,
                        describe(err),
                    )
                    continue
                if reason is None:
                    continue
                reasons = [(route.route_id, reason)]
                reverse = reverse_of(route, routes)
                if name == "conservation" and reverse is not None:
                    # Unbacked vouchers are cashed out through the reverse route: it stops too,
                    # in the same commit (the reverse's own check reads other assets).
                    why = f"the reverse route {route.route_id} is unbalanced: {reason}"
                    reasons.append((reverse.route_id, why))
                trips += await self._trip(name, reasons)
                break  # paused: the other breakers wait for the operator's resume
        return trips

    async def _trip(self, breaker: str, reasons: list[tuple[str, str]]) -> list[Trip]:
        paused = await self.db.trip_breakers(breaker, reasons, self.clock())
        trips = []
        for (route_id, reason), route in zip(reasons, paused, strict=True):
            if route is not None:
                self.metrics.breaker_trips.labels(route_id, breaker).inc()
                self.metrics.breaker_tripped.labels(route_id, breaker).set(1.0)
                self.deliveries.clear(route_id)
                log.error("route %s paused by breaker %s: %s", route_id, breaker, reason)
            trips.append(Trip(route_id, breaker, reason, route is not None))
        return trips

    def _publish(self, route: RouteRecord) -> None:
        """``pjgw_relayer_breaker_tripped``: 1 for the breaker whose pause the route holds."""
        held = breaker_of(route.paused_reason)
        for name in BREAKERS:
            self.metrics.breaker_tripped.labels(route.route_id, name).set(
                1.0 if name == held else 0.0
            )

    # --- the breakers ---------------------------------------------------------------------

    async def client_frozen(
        self, route: RouteRecord, routes: Sequence[RouteRecord] = ()
    ) -> str | None:
        """Why a light client of the route (its source's or destination's) is frozen."""
        for chain in (route.source, route.destination):
            frozen = await self.keeper.frozen_reason(chain)
            if frozen is not None:
                return f"the light client of {chain} is frozen: {frozen}"
        return None

    async def failure_rate(
        self, route: RouteRecord, routes: Sequence[RouteRecord] = ()
    ) -> str | None:
        """Why the route's delivery failure rate is at or past the threshold."""
        failed, known = self.deliveries.figures(route.route_id, self.clock())
        rate = failed / known if known else 0.0
        self.metrics.delivery_failure_ratio.labels(route.route_id).set(rate)
        if known < self.settings.breaker_failure_min or rate < self.settings.breaker_failure_rate:
            return None
        return (
            f"{failed} of the last {known} deliveries failed ({rate:.0%} >= "
            f"{self.settings.breaker_failure_rate:.0%})"
        )

    async def conservation(self, route: RouteRecord, routes: Sequence[RouteRecord]) -> str | None:
        """Why the route's assets do not balance, read twice; None when they do or the two
        chains cannot read their bridge's books (``BridgeLedger`` not declared)."""
        first = await self.ledgers(route, routes)
        broken = [x for x in first if x.breaks(self.settings.breaker_conservation_tolerance)]
        if not broken:
            return None
        again = {x.denom: x for x in await self.ledgers(route, routes)}
        confirmed = [
            again[x.denom]
            for x in broken
            if x.denom in again
            and again[x.denom].breaks(self.settings.breaker_conservation_tolerance)
        ]
        if not confirmed:
            log.info("route %s: a deficit read once was gone on the second read", route.route_id)
            return None
        return "conservation broken: " + "; ".join(map(str, confirmed))

    async def ledgers(self, route: RouteRecord, routes: Sequence[RouteRecord]) -> list[AssetLedger]:
        """The books of every asset native to the route's source it (or its reverse route)
        carried, read destination, source, store (module docstring); [] without the
        capability on both chains."""
        home, away = route.source, route.destination
        if not all(isinstance(self.adapters.get(c), BridgeLedger) for c in (home, away)):
            return []
        src, dst = self.chains[home], self.chains[away]
        reverse = reverse_of(route, routes)
        out_known = await self.db.value_in_flight(route.route_id, Height(0))
        back_known = (
            await self.db.value_in_flight(reverse.route_id, Height(0))
            if reverse is not None
            else {}
        )
        denoms = home_denoms(str(home), str(away), out_known, back_known)
        if not denoms:
            return []
        away_height = await dst.latest_height()
        vouchers = {
            d: await dst.voucher_supply(voucher_path(str(home), d))  # type: ignore[attr-defined]
            for d in denoms
        }
        home_height = await src.latest_height()
        escrowed = {d: await src.escrowed(away, d) for d in denoms}  # type: ignore[attr-defined]
        out = await self.db.value_in_flight(route.route_id, home_height)
        back = (
            await self.db.value_in_flight(reverse.route_id, away_height)
            if reverse is not None
            else {}
        )
        ledgers = [
            AssetLedger(
                home=str(home),
                away=str(away),
                denom=d,
                escrowed=escrowed[d],
                vouchers=vouchers[d],
                out=out.get(d, 0),
                back=back.get(voucher_path(str(home), d), 0),
            )
            for d in denoms
        ]
        for ledger in ledgers:
            self.metrics.conservation_deficit.labels(route.route_id, ledger.denom).set(
                float(ledger.deficit)
            )
        return ledgers


def reverse_of(route: RouteRecord, routes: Sequence[RouteRecord]) -> RouteRecord | None:
    """The route from ``route``'s destination back to its source, if the hub has one."""
    return next(
        (r for r in routes if r.source == route.destination and r.destination == route.source),
        None,
    )


def breaker_of(paused_reason: str | None) -> str | None:
    """The breaker a route's pause names (``breaker <name>: …``), or None (an operator's)."""
    if paused_reason is None or not paused_reason.startswith("breaker "):
        return None
    name = paused_reason[len("breaker ") :].split(":", 1)[0]
    return name if name in BREAKERS else None


__all__ = ["BREAKERS_TASK", "Breakers", "DeliveryWindow", "Trip", "breaker_of", "reverse_of"]
