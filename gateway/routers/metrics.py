"""``GET /metrics`` (Prometheus text format) and the middleware that measures requests.

Requests are counted and timed by route template (``/v1/transfers/{transfer_id}``),
never by raw path, so label cardinality stays bounded. Transfers by state are
read from the store at scrape time (``counts_by_state``). Each app has its own
``CollectorRegistry``, so several apps in one process (tests) do not collide.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.seams import SignerHealth
from core.states import TransferState
from gateway.auth import Principal, read_access

router = APIRouter(tags=["health"])

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class ApiMetrics:
    """The app's metrics in its own registry."""

    def __init__(self, store: Callable[[], Any], adapters: Any = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "pjgw_http_requests",
            "HTTP requests by method, route template and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "pjgw_http_request_duration_seconds",
            "Time to the response's headers, by method and route template",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_TransfersByState(store))
        self.registry.register(_SignerBalances(store, adapters))


class _TransfersByState(Collector):
    def __init__(self, store: Callable[[], Any]) -> None:
        self._store = store

    def describe(self) -> list[GaugeMetricFamily]:
        return []  # read at scrape time only; never at registration

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "pjgw_transfers", "Transfers in the store by state", labels=["state"]
        )
        counts = getattr(self._store(), "counts_by_state", None)
        if counts is not None:
            for state, n in counts().items():
                family.add_metric([str(TransferState(state))], float(n))
        yield family


class _SignerBalances(Collector):
    """The sending accounts of every adapter with a signer pool (``SignerHealth``), read from
    the pool's last scheduled balance read: no node is asked at scrape time."""

    def __init__(self, store: Callable[[], Any], adapters: Any) -> None:
        self._store = store
        self._adapters = adapters

    def describe(self) -> list[GaugeMetricFamily]:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        balance = GaugeMetricFamily(
            "pjgw_signer_balance_wei",
            "A sending account's balance at the last scheduled read",
            labels=["chain", "address"],
        )
        low = GaugeMetricFamily(
            "pjgw_signer_low_balance",
            "1 when a sending account is below its chain's balance alarm",
            labels=["chain", "address"],
        )
        if self._adapters is not None:
            chains = getattr(self._store(), "chains", None)
            for chain in chains() if chains is not None else []:
                adapter = self._adapters.get(str(chain.chain_id))
                if not isinstance(adapter, SignerHealth):
                    continue
                alarms = " ".join(adapter.signer_alarms())
                for address, wei in adapter.signer_balances().items():
                    labels = [str(chain.chain_id), address]
                    if wei is not None:
                        balance.add_metric(labels, float(wei))
                    low.add_metric(labels, 1.0 if address in alarms else 0.0)
        yield balance
        yield low


class MetricsMiddleware:
    """Pure ASGI (no body buffering, works with streaming responses)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                self._observe(scope, status[0], time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            self._observe(scope, 500, time.perf_counter() - started)
            raise

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "")
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.latency.labels(method, template).observe(seconds)


@router.get("/metrics", include_in_schema=False)
async def metrics(
    request: Request, _: Annotated[Principal | None, Depends(read_access)]
) -> Response:
    registry = request.app.state.metrics.registry
    body = await to_thread.run_sync(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


__all__ = ["ApiMetrics", "MetricsMiddleware", "router"]
