"""``/v1/chains``, ``/v1/routes`` and light-client status: registry families, settings, secrets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.ids import ChainId, Height
from core.records import ClientRecord
from gateway.store import SqlStore
from tests.gateway.helpers import EVM, EVM_SIGNER, PJ, Keys
from tests.gateway.test_transfers_api import assert_problem

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("chains")]

RELAYER_KEY = "0x" + "42" * 32


def chain(**settings: Any) -> dict[str, Any]:
    base = {
        "url": "http://127.0.0.1:26650",
        "chain_id": "pj-9",
        "insecure_plaintext_key": True,
        "relayer_key": RELAYER_KEY,
    }
    base.update(settings)
    return {"chain_id": "pj-9", "family": "pujiang", "settings": base}


async def test_register_chain_validates_and_never_returns_secrets(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    response = await api.post("/v1/chains", json=chain(), headers={"X-API-Key": keys.admin})
    assert response.status_code == 201, response.text
    assert response.json()["settings"]["relayer_key"] == "**********"
    listed = (await api.get("/v1/chains")).json()
    assert {c["chain_id"] for c in listed} == {PJ, EVM, "pj-9"}
    assert RELAYER_KEY[2:] not in (await api.get("/v1/chains")).text
    assert EVM_SIGNER[2:] not in (await api.get("/v1/chains")).text
    assert any(c.chain_id == "pj-9" for c in store.chains())
    again = await api.post("/v1/chains", json=chain(), headers={"X-API-Key": keys.admin})
    assert again.status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**chain(), "family": "cosmos"}, "family"),
        (chain(url="ftp://x"), "settings.url"),
        (chain(insecure_plaintext_key=True, relayer_key="0x1234"), "settings.relayer_key"),
        (chain(chain_id="pj-8"), "settings"),
        (chain(surprise=1), "settings.surprise"),
        ({**chain(), "chain_id": "Bad Id"}, "chain_id"),
    ],
)
async def test_bad_chain_registration_is_422_naming_the_field(
    api: httpx.AsyncClient, keys: Keys, payload: dict[str, Any], field: str
) -> None:
    response = await api.post("/v1/chains", json=payload, headers={"X-API-Key": keys.admin})
    problem = assert_problem(response, 422, "invalid-input")
    assert field in {".".join(str(p) for p in e["loc"][1:]) for e in problem["errors"]}
    assert "0x1234" not in response.text


async def test_routes_register_between_known_chains(api: httpx.AsyncClient, keys: Keys) -> None:
    headers = {"X-API-Key": keys.admin}
    route = {"route_id": "pj-evm-2", "source": PJ, "destination": EVM}
    assert (await api.post("/v1/routes", json=route, headers=headers)).status_code == 201
    assert "pj-evm-2" in {r["route_id"] for r in (await api.get("/v1/routes")).json()}
    unknown = {"route_id": "x", "source": PJ, "destination": "nowhere"}
    assert_problem(
        await api.post("/v1/routes", json=unknown, headers=headers), 422, "invalid-input"
    )
    loop = {"route_id": "y", "source": PJ, "destination": PJ}
    assert_problem(await api.post("/v1/routes", json=loop, headers=headers), 422, "invalid-input")


async def test_routes_carry_each_relayers_latest_status_newest_first(
    api: httpx.AsyncClient, store: SqlStore
) -> None:
    from core.records import RouteStatusRecord
    from tests.gateway.helpers import BACK, ROUTE

    listed = {r["route_id"]: r for r in (await api.get("/v1/routes")).json()}
    assert (listed[ROUTE]["status"], listed[ROUTE]["statuses"]) == (None, [])
    store.report_route_status(RouteStatusRecord(ROUTE, "r-1", "running", "scanned", 9, 1.0, 5.0))
    store.report_route_status(
        RouteStatusRecord(ROUTE, "r-2", "stopped", "light client frozen: fork", None, 6.0, 7.0)
    )
    listed = {r["route_id"]: r for r in (await api.get("/v1/routes")).json()}
    assert listed[ROUTE]["status"] == "stopped"
    assert [
        (s["worker"], s["state"], s["reason"], s["cursor"]) for s in listed[ROUTE]["statuses"]
    ] == [
        ("r-2", "stopped", "light client frozen: fork", None),
        ("r-1", "running", "scanned", 9),
    ]
    assert (listed[BACK]["status"], listed[BACK]["statuses"]) == (None, [])


async def test_client_status_reports_height_frozen_and_expiry(
    api: httpx.AsyncClient, app: Any, store: SqlStore, clock: Any
) -> None:
    assert_problem(await api.get(f"/v1/chains/{PJ}/client"), 404, "not-found")
    assert_problem(await api.get("/v1/chains/none/client"), 404, "not-found")
    store.save_client(
        ClientRecord(ChainId(EVM), b"cs", {7: b"c7"}, Height(7), True, "misbehaviour at 7", 5.0)
    )
    app.state.consensus_time = lambda chain, client: clock.now - 100.0
    status = (await api.get(f"/v1/chains/{EVM}/client")).json()
    assert status["trusted_height"] == 7
    assert (status["frozen"], status["frozen_reason"]) == (True, "misbehaviour at 7")
    assert status["trusting_period"] == 7 * 24 * 3600  # the EVM settings model's default
    assert 7 * 24 * 3600 - 101 < status["expires_in"] < 7 * 24 * 3600 - 99
