"""What the routers share: the store, the adapters, the families, the clock and a cached catalog.

All of it hangs off ``app.state`` (set by ``gateway.app.create_app``), so tests
build an app with their own store, adapters and clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from fastapi import Request

from core.errors import InvalidInput, NotFound
from core.records import ChainRecord, RouteRecord
from core.seams import ChainAdapter, Store
from gateway.families import Families

CATALOG_SECONDS = 2.0


class AdapterProvider(Protocol):
    """Adapters by chain id (a plain ``dict`` is one); ``None`` when there is none."""

    def get(self, chain_id: str, /) -> ChainAdapter | None: ...


class Catalog:
    """Chains and routes, re-read from the store at most every ``ttl`` seconds.

    A transfer request needs its route and both chains' families; reading them
    per request would double the database work of ``POST /v1/transfers``.
    Registration through this process invalidates at once; another process's
    registration is seen within ``ttl``.
    """

    def __init__(self, store: Callable[[], Store], ttl: float = CATALOG_SECONDS) -> None:
        self._store = store
        self.ttl = ttl
        self._lock = threading.Lock()
        self._loaded_at = -1e18
        self._routes: dict[str, RouteRecord] = {}
        self._chains: dict[str, ChainRecord] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = -1e18

    def _load(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._loaded_at < self.ttl:
                return
        store = self._store()
        routes = {r.route_id: r for r in store.routes()}
        chains = {str(c.chain_id): c for c in store.chains()}
        with self._lock:
            self._routes, self._chains, self._loaded_at = routes, chains, now

    def route(self, route_id: str) -> RouteRecord:
        """The route (``InvalidInput`` on ``route_id`` when unknown: it is a body field)."""
        self._load()
        found = self._routes.get(route_id)
        if found is None:
            self._load(force=True)
            found = self._routes.get(route_id)
        if found is None:
            raise InvalidInput(f"route {route_id!r} is not registered", field="route_id")
        return found

    def chain(self, chain_id: str) -> ChainRecord:
        self._load()
        found = self._chains.get(str(chain_id))
        if found is None:
            self._load(force=True)
            found = self._chains.get(str(chain_id))
        if found is None:
            raise NotFound(f"chain {chain_id!r} is not registered", chain_id=str(chain_id))
        return found


def get_store(request: Request) -> Store:
    return request.app.state.get_store()  # type: ignore[no-any-return]


def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog  # type: ignore[no-any-return]


def get_families(request: Request) -> Families:
    return request.app.state.families  # type: ignore[no-any-return]


def get_adapters(request: Request) -> AdapterProvider | None:
    return request.app.state.adapters  # type: ignore[no-any-return]


def get_clock(request: Request) -> Callable[[], float]:
    return request.app.state.clock  # type: ignore[no-any-return]


def adapter_for(provider: AdapterProvider | Mapping[str, Any] | None, chain_id: str) -> Any:
    """The adapter of ``chain_id`` or None (no provider, or it has none)."""
    if provider is None:
        return None
    return provider.get(str(chain_id))
