"""The hub process: the store, the chains file's adapters, the relayer and the API, together.

``pjgw serve --chains FILE`` runs this. One asyncio loop holds uvicorn's
server and the relayer's loop, so a route's adapters (httpx pools) are shared
by both; Ctrl-C (or SIGTERM) sets one stop event, the relayer finishes its
pass, the server drains, and the adapters close. Several hub processes on one
PostgreSQL database share the relayer work through the store's leases; each
names itself with a distinct ``worker_id`` (host, pid and a random suffix).

The chains file (``adapters.chains_file``) is applied to the store at start:
chains and routes in the file are upserted, so the file stays the operator's
source of truth; chains registered through ``POST /v1/chains`` live alongside.

Metrics: the API's and the relayer's instruments share ONE registry per process
(``GET /metrics`` of the API serves both); ``PJGW_RELAYER_METRICS_PORT`` also
serves it on a port of its own, which is how a relayer process without the API
(``pjgw relay``) is scraped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
from collections.abc import Mapping
from pathlib import Path

import uvicorn
from prometheus_client.exposition import start_http_server
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from adapters.chains_file import ChainsFile, build_adapter, load_chains_file
from adapters.registry import discover
from core.errors import PjgwError
from core.http_server import HeadDeadline
from core.ids import ChainId
from core.runtime import bound_recursion
from core.seams import ChainAdapter, Closable
from gateway.app import create_app
from gateway.limits import server_limits
from gateway.settings import Settings
from gateway.store import SqlStore
from relayer.engine import Relayer
from relayer.metrics import RelayerMetrics
from relayer.settings import RelayerSettings

log = logging.getLogger("pjgw.hub")


class _Protocol(HeadDeadline, H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request head (``core.http_server``)."""


def worker_id() -> str:
    """Unique per process and readable in the store's lease columns."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def open_store(settings: Settings) -> SqlStore:
    """The store of ``settings``, migrated to the newest schema (idempotent)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(settings.store_url())
    store.migrate()
    return store


def apply_chains_file(store: SqlStore, chains: ChainsFile) -> None:
    for chain in chains.chains.values():
        store.upsert_chain(chain)
    for route in chains.routes.values():
        store.upsert_route(route)


def build_adapters(chains: ChainsFile) -> dict[ChainId, ChainAdapter]:
    registry = discover()  # one entry-point scan for every chain of the file
    return {cid: build_adapter(record, registry) for cid, record in chains.chains.items()}


async def close_adapters(adapters: Mapping[ChainId, ChainAdapter]) -> None:
    for adapter in adapters.values():
        if isinstance(adapter, Closable):
            with contextlib.suppress(Exception):
                await adapter.aclose()


def reload_signers(
    chains_path: Path, adapters: Mapping[ChainId, ChainAdapter]
) -> dict[str, dict[str, list[str]]]:
    """``SIGHUP``: read the chains file again and rotate each chain's signing accounts
    without stopping delivery (an adapter's ``reload_signers``: new accounts take new
    sends at once, the ones no longer named take no new nonce and leave once their
    transactions are mined). A chain whose new keys do not open keeps its old ones."""
    try:
        chains = load_chains_file(chains_path)
    except PjgwError as err:
        log.error("chains file not reloaded: %s", err.message)
        return {}
    done: dict[str, dict[str, list[str]]] = {}
    for chain_id, record in chains.chains.items():
        reload = getattr(adapters.get(chain_id), "reload_signers", None)
        if reload is None:
            continue
        try:
            done[str(chain_id)] = reload(dict(record.settings))
        except PjgwError as err:
            log.error("chain %s: signers not reloaded: %s", chain_id, err.message)
            continue
        log.info("chain %s: signers reloaded: %s", chain_id, done[str(chain_id)])
    return done


async def run_hub(
    settings: Settings,
    chains_path: Path | None,
    *,
    relayer_settings: RelayerSettings | None = None,
    with_relayer: bool = True,
    with_api: bool = True,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve the API and/or relay until ``stop`` is set or a signal arrives.

    ``with_api=False`` is a relayer process (``pjgw relay``): no port is
    opened, so an operator can run several beside one API and kill or restart
    them independently; they share the work through the store's leases.
    """
    if not (with_api or with_relayer):
        raise ValueError("a hub process runs the API, the relayer, or both")
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    store = open_store(settings)
    adapters: dict[ChainId, ChainAdapter] = {}
    if chains_path is not None:
        chains = load_chains_file(chains_path)
        apply_chains_file(store, chains)
        adapters = build_adapters(chains)
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            path = chains_path
            loop.add_signal_handler(signal.SIGHUP, lambda: reload_signers(path, adapters))
    app = create_app(settings, store=store, adapters=adapters)
    relayer_settings = relayer_settings or RelayerSettings()
    # The API reads the relayers' settings too (the notaries' work follows the attestation
    # mode; the transfer and operator routes their limits): read once, not per request.
    app.state.relayer_settings = relayer_settings
    registry = app.state.metrics.registry  # one registry per process: API and relayer
    bound_recursion()  # after the adapters' imports: py_ecc raises it at import
    server: uvicorn.Server | None = None
    tasks: list[asyncio.Task[None]] = []
    if with_api:
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            # JSON logs: uvicorn's lines go through the root handler (core.logs) too
            log_config=None if settings.log_format == "json" else LOGGING_CONFIG,
            lifespan="on",
            **server_limits(settings).uvicorn_options(_Protocol),  # type: ignore[arg-type]
        )
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        tasks.append(asyncio.create_task(server.serve(), name="api"))
    if with_relayer:  # also with no chains yet: POST /v1/chains + /v1/routes add them
        relayer = Relayer(
            store,
            adapters,
            worker_id=worker_id(),
            settings=relayer_settings,
            metrics=RelayerMetrics(registry),
            transfer_counts=False,  # the API's collector exports pjgw_transfers already
        )
        app.state.relayer = relayer
        tasks.append(asyncio.create_task(relayer.run(stop), name="relayer"))
    metrics_server = None
    if relayer_settings.metrics_port:
        metrics_server, _thread = start_http_server(
            relayer_settings.metrics_port, addr=relayer_settings.metrics_host, registry=registry
        )
        log.info(
            "metrics on http://%s:%d/metrics",
            relayer_settings.metrics_host,
            relayer_settings.metrics_port,
        )
    try:
        done, _ = await asyncio.wait(
            [*tasks, asyncio.create_task(stop.wait(), name="stop")],
            return_when=asyncio.FIRST_COMPLETED,
        )
        for task in done:
            if task.get_name() != "stop" and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        if server is not None:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        await close_adapters(adapters)
        if metrics_server is not None:
            metrics_server.shutdown()
            metrics_server.server_close()
        store.close()
