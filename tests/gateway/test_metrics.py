"""``/metrics`` and ``/readyz``: request counts by route template, transfers by state, readiness."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from adapters.pujiang import PujiangAdapter, PujiangSettings
from core.errors import all_error_classes
from gateway.app import create_app
from gateway.problems import problem_table, problem_type
from gateway.settings import Settings
from gateway.store import SqlStore
from tests.gateway.helpers import PJ, Keys
from tests.gateway.test_transfers_api import assert_problem, body

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("chains")]


async def test_metrics_count_requests_by_template_and_transfers_by_state(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    headers = {"X-API-Key": keys.client, "Idempotency-Key": "m"}
    made = (await api.post("/v1/transfers", json=body(), headers=headers)).json()
    await api.get(f"/v1/transfers/{made['id']}")
    await api.get("/v1/transfers/tr_missing")
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    template = 'route="/v1/transfers/{transfer_id}"'
    assert f'pjgw_http_requests_total{{method="GET",{template},status="200"}} 1.0' in text
    assert 'route="/v1/transfers/{transfer_id}",status="404"} 1.0' in text
    assert made["id"] not in text  # templates, never raw paths
    assert (
        'pjgw_http_request_duration_seconds_bucket{le="0.05",method="POST",route="/v1/transfers"}'
        in text
    )
    assert 'pjgw_transfers{state="requested"} 1.0' in text
    assert 'pjgw_transfers{state="completed"} 0.0' in text


async def test_readyz_checks_the_store_only_without_adapters(api: httpx.AsyncClient) -> None:
    assert (await api.get("/readyz")).json() == {"status": "ready"}


def _app_with(tmp_path: Path, store: SqlStore, adapters: dict[str, object]) -> httpx.AsyncClient:
    app = create_app(Settings(data_dir=tmp_path), store, adapters)  # type: ignore[arg-type]
    app.state.ready_timeout = 1.0
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


async def test_readyz_is_503_naming_a_chain_without_an_adapter(
    tmp_path: Path, store: SqlStore
) -> None:
    async with _app_with(tmp_path, store, {}) as api:
        problem = assert_problem(await api.get("/readyz"), 503, "not-ready")
        assert {f["check"] for f in problem["failed"]} == {"chain pj-1", "chain anvil-1"}


async def test_readyz_is_503_naming_an_unreachable_chain(tmp_path: Path, store: SqlStore) -> None:
    # A real adapter pointed at a closed loopback port: the connection is refused.
    settings = PujiangSettings(
        url="http://127.0.0.1:9", chain_id=PJ, retry_attempts=1, timeout=0.5, connect_timeout=0.5
    )
    adapter = PujiangAdapter(settings)
    async with adapter, _app_with(tmp_path, store, {PJ: adapter}) as api:
        problem = assert_problem(await api.get("/readyz"), 503, "not-ready")
        reasons = {f["check"]: f["reason"] for f in problem["failed"]}
        assert reasons["chain pj-1"] == "chain-unavailable"
        assert reasons["chain anvil-1"] == "no adapter"


async def test_readyz_is_503_when_the_store_is_gone(tmp_path: Path) -> None:
    broken = SqlStore(f"sqlite:///{tmp_path / 'missing' / 'hub.db'}")
    async with _app_with(tmp_path, broken, {}) as api:
        problem = assert_problem(await api.get("/readyz"), 503, "not-ready")
        assert problem["failed"][0]["check"] == "store"


def test_every_error_class_has_a_stable_problem_type() -> None:
    table = problem_table()
    assert len(table) == len(all_error_classes())
    types = [t for t, _, _ in table]
    assert len(set(types)) == len(types)  # one type per class
    assert (problem_type("equivocation"), 409, "Equivocation") in table
    assert all(400 <= status < 600 for _, status, _ in table)


class _PoolAdapter:
    """A reachable chain whose signer pool reports balances (``core.seams.SignerHealth``)."""

    def __init__(self, chain: str, balances: dict[str, int | None], alarm: int) -> None:
        self.chain, self.balances, self.alarm = chain, balances, alarm

    async def latest_height(self) -> int:
        return 7

    def signer_alarms(self) -> list[str]:
        return [
            f"{self.chain} signer {a}: balance {b} wei below {self.alarm}"
            for a, b in self.balances.items()
            if b is not None and b < self.alarm
        ]

    def signer_balances(self) -> dict[str, int | None]:
        return dict(self.balances)


async def test_readyz_is_degraded_and_metrics_show_a_signer_below_its_alarm(
    tmp_path: Path, store: SqlStore
) -> None:
    funded, drained = "0x" + "11" * 20, "0x" + "22" * 20
    adapters = {
        PJ: _PoolAdapter(PJ, {}, 10),
        "anvil-1": _PoolAdapter("anvil-1", {funded: 10**18, drained: 0}, 10**17),
    }
    async with _app_with(tmp_path, store, adapters) as api:
        response = await api.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {
            "status": "degraded",
            "signer_alarms": [f"anvil-1 signer {drained}: balance 0 wei below {10**17}"],
        }
        text = (await api.get("/metrics")).text
    assert f'pjgw_signer_balance_wei{{address="{drained}",chain="anvil-1"}} 0.0' in text
    assert f'pjgw_signer_low_balance{{address="{drained}",chain="anvil-1"}} 1.0' in text
    assert f'pjgw_signer_low_balance{{address="{funded}",chain="anvil-1"}} 0.0' in text
    adapters["anvil-1"].balances[drained] = 10**18  # topped up: ready again
    async with _app_with(tmp_path, store, adapters) as api:
        assert (await api.get("/readyz")).json() == {"status": "ready"}


async def test_every_response_carries_a_request_id_a_well_formed_one_kept(
    api: httpx.AsyncClient,
) -> None:
    kept = await api.get("/healthz", headers={"X-Request-Id": "client-id_1.2"})
    assert kept.headers["x-request-id"] == "client-id_1.2"
    for hostile in (b"a b", b"x" * 65, "evil\u00e9".encode(), b"id\r"):
        replaced = await api.get("/healthz", headers={"X-Request-Id": hostile})
        assert replaced.headers["x-request-id"].encode() != hostile
        assert len(replaced.headers["x-request-id"]) == 16
    assert len((await api.get("/healthz")).headers["x-request-id"]) == 16
