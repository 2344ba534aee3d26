"""The FastAPI application factory.

One ``APIRouter`` per resource; the factory takes its settings (and,
optionally, its store and chain adapters) as arguments so tests build an app
without touching the environment. Everything the routers share hangs off
``app.state``: ``settings``, ``get_store()``, ``adapters`` (a provider of
``ChainAdapter`` by chain id, or None), ``accounts`` (the managed-account
keystore, or None), ``clock``, ``catalog``, ``families`` (each chain family's
adapter class and rules, ``gateway.families``), ``metrics``, ``sessions`` (the
dashboard's session cookies, ``gateway.sessions``).

Without a ``store`` the app opens ``settings.store_url()`` on first use (not
at construction, so building an app never touches a disk); an embedded
SQLite file is migrated to the newest schema then, a PostgreSQL database is
expected to be migrated by ``pjgw db upgrade``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from adapters.registry import Registry, discover
from core.http_limits import InputBounds
from core.seams import Store
from gateway.auth import KeyCache
from gateway.families import Families
from gateway.keystore import FileKeystore, ManagedAccounts
from gateway.limits import input_limits
from gateway.openapi import install_openapi
from gateway.problems import install_problem_handlers
from gateway.ratelimit import RateLimits
from gateway.request_ids import RequestIds
from gateway.routers import (
    audit,
    chains,
    committee,
    health,
    info,
    metrics,
    notary,
    operations,
    policies,
    ready,
    risk,
    swaps,
    transfers,
)
from gateway.routers.deps import AdapterProvider, Catalog
from gateway.routers.transfer_source import NonceBook
from gateway.settings import Settings, get_settings
from gateway.streams import StreamSlots
from gateway.ui import install as install_dashboard

SSE_POLL_SECONDS = 0.5


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    adapters: AdapterProvider | None = None,
    *,
    accounts: ManagedAccounts | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    settings = settings or get_settings()
    holder = _StoreHolder(settings, store)

    families = Families(_lazy_registry())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await families.aclose()
        holder.close()

    app = FastAPI(
        title="Pujiang Gateway",
        version=info.project_version(),
        summary="Cross-chain hub between Pujiang subchains and regional chains",
        lifespan=lifespan,
    )
    state = app.state
    state.settings = settings
    state.get_store = holder.get
    state.adapters = adapters
    state.accounts = accounts if accounts is not None else _keystore(settings, families)
    state.clock = clock
    state.catalog = Catalog(holder.get)
    state.key_cache = KeyCache()
    state.nonces = NonceBook()
    state.sse_poll_seconds = SSE_POLL_SECONDS
    state.families = families
    state.get_registry = families.registry
    state.metrics = metrics.ApiMetrics(holder.get, adapters)
    state.streams = StreamSlots(settings.max_event_streams, settings.max_event_streams_per_address)
    app.add_middleware(InputBounds, limits=input_limits(settings))  # before anything parses
    app.add_middleware(RateLimits, settings=settings)  # before bodies are read or keys checked
    app.add_middleware(metrics.MetricsMiddleware, metrics=state.metrics)  # counts refusals too
    app.add_middleware(RequestIds)  # outermost: every log line of a request carries its id
    install_problem_handlers(app)
    install_openapi(app, settings)
    for module in (
        health,
        ready,
        metrics,
        info,
        operations,  # before transfers: its POST /v1/transfers/{id}/… paths are more specific
        risk,  # likewise (POST /v1/transfers/{id}/cancel)
        transfers,
        swaps,
        chains,
        notary,
        committee,
        audit,
        policies,
    ):
        app.include_router(module.router)
    install_dashboard(app)  # /ui: the operator dashboard (not in the OpenAPI document)
    return app


class _StoreHolder:
    """The store given to the factory, or the one opened from settings on first use."""

    def __init__(self, settings: Settings, store: Store | None) -> None:
        self._settings = settings
        self._store = store
        self._owned = False
        self._lock = threading.Lock()

    def get(self) -> Store:
        if self._store is not None:
            return self._store
        with self._lock:
            if self._store is None:
                from gateway.store import SqlStore

                url = self._settings.store_url()
                if url.startswith("sqlite"):
                    self._settings.data_dir.mkdir(parents=True, exist_ok=True)
                opened = SqlStore(url)
                if opened.dialect == "sqlite":
                    opened.migrate()
                self._store, self._owned = opened, True
        return self._store

    def close(self) -> None:
        if self._owned and self._store is not None:
            close: Any = getattr(self._store, "close", None)
            if close is not None:
                close()


def _keystore(settings: Settings, families: Families) -> ManagedAccounts | None:
    if settings.keystore_dir is None or settings.keystore_password is None:
        return None
    return FileKeystore(settings.keystore_dir, settings.keystore_password, families=families.keys)


def _lazy_registry() -> Callable[[], Registry]:
    found: list[Registry] = []

    def get() -> Registry:
        if not found:
            found.append(discover())
        return found[0]

    return get
