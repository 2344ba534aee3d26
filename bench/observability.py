"""What the observability costs: a protocol step with its metrics and log context, an
adapter call through the RPC-error meter, and a scrape of a relayer's registry.

    .venv/bin/python bench/observability.py            # 200 000 steps / calls, 200 scrapes
    .venv/bin/python bench/observability.py --quick

Each figure has its baseline measured in the same run:

* **step**: ``Context.guarded`` (time the step, label its outcome, set the transfer
  and route in the log context) around a step that does nothing, against awaiting
  the same step bare;
* **adapter call**: ``MeteredAdapter`` (``relayer/metered.py``) around an adapter
  method that answers at once, against calling the adapter itself;
* **scrape**: ``generate_latest`` of a relayer's registry with 10 chains and 10
  routes (every family populated, the store read through SQLite), against the
  API's registry alone.

Medians of ``time.perf_counter`` over repeated batches; prints the figures and
ratios, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client.exposition import generate_latest

from core.ids import ChainId
from core.records import RouteProtocol, RouteRecord
from core.states import TransferState
from relayer.engine import Relayer, RouteStatus
from relayer.metered import MeteredAdapter


class _Adapter:
    async def finalized_height(self) -> int:
        return 7


class _Transfer:
    id = "01JBENCH"
    state = TransferState.PROVEN
    route_id = "route-0"


async def _step() -> None:
    return None


def _median_ns(run: Callable[[], float], batches: int) -> float:
    return statistics.median(run() for _ in range(batches))


def _async_batch(make: Callable[[], object], n: int) -> float:
    async def batch() -> float:
        started = time.perf_counter()
        for _ in range(n):
            await make()  # type: ignore[misc]
        return (time.perf_counter() - started) / n * 1e9

    return asyncio.run(batch())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 000 calls, 20 scrapes")
    args = parser.parse_args()
    calls, scrapes, batches = (20_000, 20, 5) if args.quick else (200_000, 200, 7)

    from gateway.app import create_app
    from gateway.settings import Settings
    from gateway.store import SqlStore
    from relayer.metrics import RelayerMetrics

    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(f"sqlite:///{Path(tmp) / 'hub.db'}")
        store.migrate()
        app = create_app(Settings(data_dir=Path(tmp)), store)
        relayer = Relayer(
            store,
            {},
            worker_id="bench",
            metrics=RelayerMetrics(app.state.metrics.registry),
            transfer_counts=False,
        )
        ctx = relayer.ctx
        route = RouteRecord("route-0", ChainId("a"), ChainId("b"), RouteProtocol.NOTARY)
        t = _Transfer()

        bare = _median_ns(lambda: _async_batch(_step, calls // batches), batches)
        guarded = _median_ns(
            lambda: _async_batch(lambda: ctx.guarded(route, t, _step()), calls // batches),  # type: ignore[arg-type]
            batches,
        )
        raw = _Adapter()
        metered = MeteredAdapter(ChainId("a"), raw, relayer.metrics.rpc_error)  # type: ignore[arg-type]
        direct = _median_ns(lambda: _async_batch(raw.finalized_height, calls // batches), batches)
        wrapped = _median_ns(
            lambda: _async_batch(metered.finalized_height, calls // batches),  # type: ignore[attr-defined]
            batches,
        )

        api_only = create_app(Settings(data_dir=Path(tmp)), store).state.metrics.registry
        for i in range(10):
            chain = f"chain-{i}"
            relayer.metrics.finalized_height.labels(chain).set(100)
            relayer.metrics.cursor_height.labels(chain).set(90)
            relayer.metrics.client_height.labels(chain).set(90)
            relayer.metrics.client_expiry.labels(chain).set(1e6)
            relayer.metrics.client_period.labels(chain).set(1.2e6)
            relayer.metrics.client_frozen.labels(chain).set(0)
            relayer.metrics.rpc_error(chain, "chain-unavailable")
            relayer._status[f"route-{i}"] = RouteStatus(f"route-{i}", "running", "", 90, 0.0)
            relayer.metrics.quorum_wait.labels(f"route-{i}").observe(3.0)
        for state in TransferState:
            for outcome in ("moved", "waited", "error"):
                relayer.metrics.observe_step(state, outcome, 0.01)
        registry = app.state.metrics.registry

        def scrape_ms(target: object) -> float:
            started = time.perf_counter()
            for _ in range(scrapes // batches):
                generate_latest(target)  # type: ignore[arg-type]
            return (time.perf_counter() - started) / (scrapes // batches) * 1e3

        api_ms = _median_ns(lambda: scrape_ms(api_only), batches)
        full_ms = _median_ns(lambda: scrape_ms(registry), batches)
        size = len(generate_latest(registry))
        relayer.db.close()
        store.close()

    print(f"observability overhead ({calls} steps and calls, {scrapes} scrapes, medians)")
    print(f"  step, bare await                 {bare:9.0f} ns")
    print(
        f"  step, Context.guarded            {guarded:9.0f} ns   "
        f"(+{guarded - bare:.0f} ns, {guarded / bare:.1f}x)"
    )
    print(f"  adapter call, direct             {direct:9.0f} ns")
    print(
        f"  adapter call, MeteredAdapter     {wrapped:9.0f} ns   "
        f"(+{wrapped - direct:.0f} ns, {wrapped / direct:.1f}x)"
    )
    print(f"  scrape, API registry alone       {api_ms:9.2f} ms")
    print(
        f"  scrape, API + relayer (10 chains, 10 routes) {full_ms:6.2f} ms   "
        f"({full_ms / api_ms:.1f}x, {size} bytes)"
    )


if __name__ == "__main__":
    main()
