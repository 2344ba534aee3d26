"""The relayer's Prometheus metrics, in a registry of its own (or the hub's).

Observed as the work happens: time per protocol step (by the state it starts
from and its outcome), transitions by target state, RPC failures by chain and
error code (``relayer.metered``), finalized height and watcher cursor per
source chain and whether this process watches it (its watch lease), each light
client's trusted height, seconds to expiry and refreshes, and the quorum wait
(``proven`` -> ``attested``). Read at scrape time: transfers by state, the
backoff queue and the leases this process holds (store queries through the
declared capabilities below, skipped for a store without them), and each
route's up/stopped state.

Label cardinality stays bounded: chain and route ids come from the operator's
configuration, states and error codes from fixed sets, and a stopped route's
``reason`` is one of :data:`STOP_REASONS`; transfer ids never become labels.

Each ``Relayer`` makes its own ``CollectorRegistry`` unless handed one (the hub
passes the API's, so one process exposes one registry): tests build many
relayers in one process without duplicate registrations.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol, runtime_checkable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.states import TransferState

log = logging.getLogger("pjgw.relayer")

STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
QUORUM_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
STEP_OUTCOMES = ("moved", "waited", "error")
STOP_REASONS = {"stopped": "client_frozen", "unsupported": "unsupported", "error": "error"}
"""``RouteStatus.state`` of a route that is not running -> its ``reason`` label."""


@runtime_checkable
class CountsByState(Protocol):
    """A store that counts transfers by state in one query (``gateway.store.SqlStore``)."""

    def counts_by_state(self) -> Mapping[TransferState, int]: ...


@runtime_checkable
class WorkQueueFigures(Protocol):
    """A store that tells the backoff queue and one worker's leases in one query."""

    def work_queue(self, worker: str, now: float) -> tuple[int, int]:
        """``(waiting, leased)``: non-terminal transfers not due before ``now`` (backing
        off or waiting on a chain), and those ``worker`` holds a live lease on."""
        ...


class RelayerMetrics:
    """The instruments the relayer's code updates; ``registry`` is what gets scraped."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.step_seconds = Histogram(
            "pjgw_relayer_step_duration_seconds",
            "Time of one protocol step, by the state it starts from and its outcome",
            ("state", "outcome"),
            buckets=STEP_BUCKETS,
            registry=r,
        )
        self.transitions = Counter(
            "pjgw_relayer_transitions",
            "Transfer state changes made by this process, by target state",
            ("state",),
            registry=r,
        )
        self.rpc_errors = Counter(
            "pjgw_relayer_rpc_errors",
            "Failed calls to a chain adapter, by chain id and error code",
            ("chain", "code"),
            registry=r,
        )
        self.finalized_height = Gauge(
            "pjgw_relayer_finalized_height",
            "The source chain's finalized height, as its watcher last read it",
            ("chain",),
            registry=r,
        )
        self.cursor_height = Gauge(
            "pjgw_relayer_cursor_height",
            "The last source height whose events are recorded (the watcher's cursor)",
            ("chain",),
            registry=r,
        )
        self.watching = Gauge(
            "pjgw_relayer_watching",
            "1 while this process watches the source chain (holds its watch lease), else 0",
            ("chain",),
            registry=r,
        )
        self.client_height = Gauge(
            "pjgw_relayer_client_trusted_height",
            "The light client's newest trusted height",
            ("chain",),
            registry=r,
        )
        self.client_expiry = Gauge(
            "pjgw_relayer_client_expiry_seconds",
            "Seconds until the light client's newest trusted state leaves its trusting period",
            ("chain",),
            registry=r,
        )
        self.client_period = Gauge(
            "pjgw_relayer_client_trusting_period_seconds",
            "The light client's trusting period (a state is trusted this long after its time)",
            ("chain",),
            registry=r,
        )
        self.client_frozen = Gauge(
            "pjgw_relayer_client_frozen",
            "1 when the light client is frozen",
            ("chain",),
            registry=r,
        )
        self.client_refreshes = Counter(
            "pjgw_relayer_client_refreshes",
            "Light-client updates made because a third of the trusting period was left",
            ("chain",),
            registry=r,
        )
        self.quorum_wait = Histogram(
            "pjgw_relayer_quorum_wait_seconds",
            "Time from proven to attested (the notaries' quorum), by route",
            ("route",),
            buckets=QUORUM_BUCKETS,
            registry=r,
        )

        self.breaker_trips = Counter(
            "pjgw_relayer_breaker_trips",
            "Routes this relayer paused by a circuit breaker (relayer/breakers.py)",
            ("route", "breaker"),
            registry=r,
        )
        self.breaker_tripped = Gauge(
            "pjgw_relayer_breaker_tripped",
            "1 while the route is paused by this breaker (until an operator resumes it)",
            ("route", "breaker"),
            registry=r,
        )
        self.conservation_deficit = Gauge(
            "pjgw_relayer_conservation_deficit",
            "Vouchers + in flight - escrow of an asset native to the route's source, last read",
            ("route", "denom"),
            registry=r,
        )
        self.delivery_failure_ratio = Gauge(
            "pjgw_relayer_delivery_failure_ratio",
            "Failed share of the route's recent deliveries (the failure_rate breaker's window)",
            ("route",),
            registry=r,
        )

    def rpc_error(self, chain: str, code: str) -> None:
        self.rpc_errors.labels(chain, code).inc()

    def observe_step(self, state: TransferState, outcome: str, seconds: float) -> None:
        self.step_seconds.labels(str(state), outcome).observe(seconds)

    def watch(self, source: RelayerSource, *, with_transfer_counts: bool = True) -> None:
        """Read ``source``'s state at scrape time (``with_transfer_counts=False`` when the
        API's collector already exports ``pjgw_transfers`` in this registry)."""
        self.registry.register(_ScrapeTime(source, with_transfer_counts))


class RelayerSource(Protocol):
    """What the scrape-time collector reads of a relayer (``relayer.engine.Relayer``)."""

    worker_id: str
    clock: Callable[[], float]

    @property
    def sync_store(self) -> object: ...

    def route_states(self) -> Mapping[str, str]: ...


class _ScrapeTime(Collector):
    def __init__(self, source: RelayerSource, with_transfer_counts: bool) -> None:
        self._source = source
        self._counts = with_transfer_counts

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only; never at registration

    def collect(self) -> Iterator[Metric]:
        yield from self._routes()
        store = self._source.sync_store
        try:
            if self._counts and isinstance(store, CountsByState):
                family = GaugeMetricFamily(
                    "pjgw_transfers", "Transfers in the store by state", labels=["state"]
                )
                for state, n in store.counts_by_state().items():
                    family.add_metric([str(TransferState(state))], float(n))
                yield family
            if isinstance(store, WorkQueueFigures):
                waiting, leased = store.work_queue(self._source.worker_id, self._source.clock())
                yield GaugeMetricFamily(
                    "pjgw_relayer_backoff_queue",
                    "Non-terminal transfers not due yet (backing off or waiting on a chain)",
                    value=float(waiting),
                )
                yield GaugeMetricFamily(
                    "pjgw_relayer_leases_held",
                    "Transfers this relayer process holds a live lease on",
                    value=float(leased),
                )
        except Exception as err:  # a scrape must answer even while the store is away
            log.warning("metrics: the store did not answer: %s", err)

    def _routes(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "pjgw_relayer_route_up", "1 when the route is running, else 0", labels=["route"]
        )
        stopped = GaugeMetricFamily(
            "pjgw_relayer_route_stopped",
            "1 when the route is not running, with why (client_frozen, unsupported, error)",
            labels=["route", "reason"],
        )
        for route, state in sorted(self._source.route_states().items()):
            up.add_metric([route], 1.0 if state == "running" else 0.0)
            for value, reason in ((s, r) for s, r in STOP_REASONS.items()):
                stopped.add_metric([route, reason], 1.0 if state == value else 0.0)
        yield up
        yield stopped


__all__ = [
    "STOP_REASONS",
    "CountsByState",
    "RelayerMetrics",
    "RelayerSource",
    "WorkQueueFigures",
]
