"""Rate limits per client address and per API key (429 + Retry-After), and the event-stream
bound, through the app in-process.

Refill rates are tiny (one token per 1,000 s) so no bucket refills during a test: the counts
are exact without any timing.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from core.states import TransferState
from gateway.app import create_app
from gateway.ratelimit import Buckets, TokenBucket
from gateway.settings import Settings
from gateway.store import SqlStore
from tests.gateway.helpers import Keys
from tests.gateway.test_transfers_api import body, post

pytestmark = pytest.mark.anyio
SLOW = 0.001
"""Tokens per second: a bucket takes 1,000 s to regain one."""


def _client(app: FastAPI, address: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://hub")


def _limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "rate-limited"
    assert problem["type"] == "https://pujiang.dev/problems/rate-limited"
    assert problem["retryable"] is True
    assert 1 <= int(response.headers["retry-after"]) <= math.ceil(1 / SLOW)


def test_token_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    bucket = TokenBucket(rate=2.0, burst=3.0, tokens=3.0, stamp=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)  # one token comes back in 1/rate s
    assert bucket.take(0.5) == 0.0
    assert bucket.take(100.0) == 0.0  # refilled, but never past the burst
    assert [bucket.take(100.0) for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]


def test_buckets_keep_at_most_their_size_and_rate_zero_admits_all() -> None:
    buckets = Buckets(rate=SLOW, burst=1, size=2)
    assert buckets.take("a", 0.0) == 0.0
    assert buckets.take("a", 0.0) > 0
    buckets.take("b", 0.0)
    buckets.take("c", 0.0)  # "a" is the least recently used: dropped
    assert buckets.take("a", 0.0) == 0.0
    unlimited = Buckets(rate=0, burst=1)
    assert all(unlimited.take("x", 0.0) == 0.0 for _ in range(1000))


async def test_each_address_has_its_own_bucket_and_probes_are_exempt(tmp_path: Path) -> None:
    app = create_app(
        Settings(data_dir=tmp_path, rate_per_address=SLOW, burst_per_address=3, rate_per_key=0)
    )
    async with _client(app, "10.0.0.1") as one, _client(app, "10.0.0.2") as two:
        for _ in range(3):
            assert (await one.get("/v1/info")).status_code == 200
        _limited(await one.get("/v1/info"))
        _limited(await one.post("/v1/transfers", content=b"[" * 100_000))  # before the body
        assert (await two.get("/v1/info")).status_code == 200  # another address
        for _ in range(10):
            assert (await one.get("/healthz")).status_code == 200


async def test_each_key_has_its_own_bucket_whatever_the_address(
    tmp_path: Path, store: SqlStore, keys: Keys
) -> None:
    settings = Settings(data_dir=tmp_path, rate_per_address=0, rate_per_key=SLOW, burst_per_key=2)
    app = create_app(settings, store)
    bearer = {"Authorization": f"Bearer {keys.client}"}
    async with _client(app, "10.0.0.1") as one, _client(app, "10.0.0.2") as two:
        assert (await one.get("/v1/info", headers={"X-API-Key": keys.client})).status_code == 200
        assert (await two.get("/v1/info", headers=bearer)).status_code == 200  # same key
        limited = await one.get("/v1/info", headers={"X-API-Key": keys.client})
        _limited(limited)
        assert keys.client not in limited.text
        assert (await one.get("/v1/info", headers={"X-API-Key": keys.admin})).status_code == 200
        assert (await one.get("/v1/info")).status_code == 200  # no key: the address only


@pytest.mark.usefixtures("chains")
async def test_event_streams_are_bounded_in_total_and_per_address(
    tmp_path: Path, store: SqlStore, keys: Keys, clock: Any
) -> None:
    settings = Settings(data_dir=tmp_path, max_event_streams=3, max_event_streams_per_address=2)
    app = create_app(settings, store, clock=clock)
    app.state.sse_poll_seconds = 0.02
    async with _client(app, "10.0.0.1") as one, _client(app, "10.0.0.2") as two:
        made = (await post(one, keys, body())).json()
        path = f"/v1/transfers/{made['id']}/events"
        open_streams = [asyncio.create_task(one.get(path)), asyncio.create_task(one.get(path))]
        while app.state.streams.active < 2:
            await asyncio.sleep(0.01)
        _limited(await one.get(path))  # a third from the same address
        third = asyncio.create_task(two.get(path))
        while app.state.streams.active < 3:
            await asyncio.sleep(0.01)
        full = await two.get(path)
        assert full.status_code == 503
        assert full.json()["code"] == "streams-exhausted"
        assert int(full.headers["retry-after"]) >= 1
        store.transition(made["id"], TransferState.REQUESTED, TransferState.REJECTED, "x", clock())
        for stream in [*open_streams, third]:
            assert (await asyncio.wait_for(stream, 30)).status_code == 200  # ended: terminal
        assert app.state.streams.active == 0  # every slot given back
        assert (await asyncio.wait_for(one.get(path), 30)).status_code == 200
