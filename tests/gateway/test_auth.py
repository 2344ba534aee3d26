"""API keys and roles: 401 without a known key, 403 for the wrong role, keys never echoed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.settings import Settings
from gateway.store import SqlStore
from tests.gateway.helpers import PJ, Keys
from tests.gateway.test_transfers_api import assert_problem, body

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("chains")]

CHAIN = {
    "chain_id": "pj-2",
    "family": "pujiang",
    "settings": {"url": "http://x", "chain_id": "pj-2"},
}


async def test_mutating_call_without_key_is_401_problem(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/transfers", json=body(), headers={"Idempotency-Key": "a"})
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("ApiKey")


async def test_unknown_key_is_401_and_never_echoed(api: httpx.AsyncClient) -> None:
    token = "pjgw_not-a-real-key-0123456789"
    response = await api.post("/v1/chains", json=CHAIN, headers={"X-API-Key": token})
    assert_problem(response, 401, "unauthorized")
    assert token not in response.text


async def test_client_key_on_admin_endpoint_is_403(api: httpx.AsyncClient, keys: Keys) -> None:
    response = await api.post("/v1/chains", json=CHAIN, headers={"X-API-Key": keys.client})
    assert_problem(response, 403, "forbidden")


async def test_notary_key_cannot_create_transfers(api: httpx.AsyncClient, keys: Keys) -> None:
    headers = {"X-API-Key": keys.notary, "Idempotency-Key": "a"}
    assert_problem(await api.post("/v1/transfers", json=body(), headers=headers), 403, "forbidden")


async def test_client_key_cannot_use_notary_endpoints(api: httpx.AsyncClient, keys: Keys) -> None:
    response = await api.get(
        "/v1/notary/requests",
        params={"notary": "0x" + "00" * 20},
        headers={"X-API-Key": keys.client},
    )
    assert_problem(response, 403, "forbidden")


async def test_bearer_token_is_accepted_like_x_api_key(api: httpx.AsyncClient, keys: Keys) -> None:
    response = await api.post(
        "/v1/chains", json=CHAIN, headers={"Authorization": f"Bearer {keys.admin}"}
    )
    assert response.status_code == 201, response.text


async def test_admin_key_may_create_transfers(api: httpx.AsyncClient, keys: Keys) -> None:
    headers = {"X-API-Key": keys.admin, "Idempotency-Key": "a"}
    assert (await api.post("/v1/transfers", json=body(), headers=headers)).status_code == 201


async def test_revoked_key_stops_working_after_the_cache(
    app: object, api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    headers = {"X-API-Key": keys.admin}
    assert (await api.post("/v1/chains", json=CHAIN, headers=headers)).status_code == 201
    store.revoke_api_key("ops")
    app.state.key_cache.clear()  # type: ignore[attr-defined]  # what CACHE_SECONDS does
    assert_problem(await api.post("/v1/chains", json=CHAIN, headers=headers), 401, "unauthorized")


async def test_reads_are_open_by_default(api: httpx.AsyncClient) -> None:
    assert (await api.get("/v1/chains")).status_code == 200


@pytest.fixture
def locked_api(tmp_path: Path, store: SqlStore) -> httpx.AsyncClient:
    settings = Settings(
        data_dir=tmp_path, require_read_key=True, dev_api_key=SecretStr("dev-key-123")
    )
    app = create_app(settings, store)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


async def test_require_read_key_closes_reads(locked_api: httpx.AsyncClient, keys: Keys) -> None:
    async with locked_api as api:
        assert_problem(await api.get("/v1/chains"), 401, "unauthorized")
        assert (await api.get("/v1/chains", headers={"X-API-Key": keys.notary})).status_code == 200


async def test_dev_key_is_an_admin_key(locked_api: httpx.AsyncClient) -> None:
    async with locked_api as api:
        response = await api.post("/v1/chains", json=CHAIN, headers={"X-API-Key": "dev-key-123"})
        assert response.status_code == 201
        assert "dev-key-123" not in response.text
        assert PJ in {
            c["chain_id"]
            for c in (await api.get("/v1/chains", headers={"X-API-Key": "dev-key-123"})).json()
        }
