"""Fixtures of the API tests: a real ``SqlStore`` on a SQLite file, the app over ASGI.

Every API test talks to the app through ``httpx.ASGITransport`` (no socket)
and to a real store; chains are registered in the store directly where the
test is not about registration.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from gateway.app import create_app
from gateway.settings import Settings
from gateway.store import SqlStore
from tests.gateway.helpers import BACK, EVM, EVM_SIGNER, PJ, ROUTE, Keys, StepClock


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore(f"sqlite:///{tmp_path / 'hub.db'}", sqlite_synchronous="NORMAL")
    opened.migrate()
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def keys(store: SqlStore) -> Keys:
    return Keys(
        client=store.create_api_key("acme", "client", 1.0),
        admin=store.create_api_key("ops", "admin", 1.0),
        notary=store.create_api_key("notary-1", "notary", 1.0),
    )


@pytest.fixture
def chains(store: SqlStore) -> None:
    """A Pujiang chain and an EVM chain, a route each way."""
    store.upsert_chain(
        ChainRecord(ChainId(PJ), "pujiang", {"url": "http://pj.invalid", "chain_id": PJ})
    )
    store.upsert_chain(
        ChainRecord(
            ChainId(EVM),
            "evm",
            {
                "chain": EVM,
                "rpc_url": "http://anvil.invalid",
                "evm_chain_id": 31337,
                "insecure_plaintext_key": True,
                "signer_key": EVM_SIGNER,
            },
        )
    )
    store.upsert_route(RouteRecord(ROUTE, ChainId(PJ), ChainId(EVM), RouteProtocol.NOTARY))
    store.upsert_route(RouteRecord(BACK, ChainId(EVM), ChainId(PJ), RouteProtocol.NOTARY))


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def app(tmp_path: Path, store: SqlStore, clock: StepClock) -> FastAPI:
    made = create_app(Settings(data_dir=tmp_path), store, clock=clock)
    made.state.sse_poll_seconds = 0.02
    return made


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        yield client
