"""The race of docs/api.md through the API, on SQLite and on PostgreSQL: concurrent
``POST /v1/transfers`` with one ``signed_tx`` and a different ``Idempotency-Key`` each make
one transfer (``uq_transfers_pending_source_tx``, migration 0004)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from gateway.app import create_app
from gateway.settings import Settings
from gateway.store import SqlStore
from tests.gateway.helpers import EVM, PJ, ROUTE
from tests.gateway.test_transfers_api import body

ADMIN = "race-test-admin-key"
REQUESTS = 8


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def hub_store(store_url: str) -> Iterator[SqlStore]:
    store = SqlStore(store_url)
    store.migrate()
    store.upsert_chain(
        ChainRecord(ChainId(PJ), "pujiang", {"url": "http://pj.invalid", "chain_id": PJ})
    )
    store.upsert_chain(ChainRecord(ChainId(EVM), "evm", {"chain": EVM, "evm_chain_id": 31337}))
    store.upsert_route(RouteRecord(ROUTE, ChainId(PJ), ChainId(EVM), RouteProtocol.NOTARY))
    yield store
    store.close()


@pytest.mark.anyio
async def test_concurrent_requests_with_one_signed_tx_make_one_transfer(
    hub_store: SqlStore, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, dev_api_key=ADMIN, rate_per_address=0)
    app = create_app(settings, hub_store)
    transport = httpx.ASGITransport(app=app)
    payload = body()
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as api:
        answers = await asyncio.gather(
            *(
                api.post(
                    "/v1/transfers",
                    json=payload,
                    headers={"X-API-Key": ADMIN, "Idempotency-Key": f"key-{i}"},
                )
                for i in range(REQUESTS)
            )
        )
    assert sorted(a.status_code for a in answers) == [200] * (REQUESTS - 1) + [201], [
        a.text for a in answers if a.status_code >= 300
    ]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(hub_store.list_transfers()[0]) == 1
