"""An idle route's light client never expires by neglect (issue 18, item 3).

A devnet node in this process on a fake clock, the hub's store, a relayer on
the same clock with a 600 s trusting period for the devnet. No packet ever
crosses: only the relayer's keeper pass (``Relayer.refresh_clients``) moves
the client, and it does so once a third of the period (200 s) or less is
left, not before. ``GET /v1/chains/{id}/client`` reports the real
``expires_in`` from the stored states, on the app's injected clock.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from prometheus_client.exposition import generate_latest

from core.ids import ChainId
from gateway.app import create_app
from gateway.settings import Settings
from relayer.engine import CLIENTS_TASK, Relayer
from relayer.settings import ClientParams, RelayerSettings
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import in_process_devnet
from tests.fixtures.devnet_chain import FakeClock
from tests.fixtures.relay import ROUTE, hub_store, pujiang_adapter

PERIOD = 600
CHAIN = ChainId(DEVNET_CHAIN)


def _sample(relayer: Relayer, name: str) -> float | None:
    return relayer.metrics.registry.get_sample_value(name, {"chain": DEVNET_CHAIN})


def test_an_idle_routes_client_is_refreshed_once_a_third_of_its_trusting_period_is_left(
    tmp_path: Path,
) -> None:
    asyncio.run(_idle_route(tmp_path))


async def _idle_route(tmp_path: Path) -> None:
    clock = FakeClock()  # unix ms, shared by the node, the relayer and the API
    seconds = lambda: clock.now / 1000  # noqa: E731
    with (
        in_process_devnet(tmp_path / "devnet", clock=clock) as devnet,
        hub_store(tmp_path / "hub.db") as store,
    ):
        adapter = pujiang_adapter(devnet)
        settings = RelayerSettings(clients={DEVNET_CHAIN: ClientParams(trusting_period=PERIOD)})
        relayer = Relayer(store, {CHAIN: adapter}, worker_id="w1", clock=seconds, settings=settings)
        assert CLIENTS_TASK in relayer._wanted_tasks(store.routes())  # runs for every source
        assert [r.route_id for r in store.routes()] == [ROUTE]

        # Never anchored: the keeper leaves it to the first packet (which picks the height).
        assert await relayer.refresh_clients([CHAIN]) == 0
        assert await relayer.keeper.expiry(CHAIN) is None

        devnet.node.produce_block()
        await relayer.keeper.latest_verified(CHAIN)  # the one piece of traffic there ever is
        first = await relayer.keeper.expiry(CHAIN)
        assert first is not None
        assert first.trusting_period == PERIOD
        assert first.expires_at == first.trusted_time + PERIOD

        app = create_app(Settings(data_dir=tmp_path), store, {CHAIN: adapter}, clock=seconds)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as api:
            status = (await api.get(f"/v1/chains/{DEVNET_CHAIN}/client")).json()
        assert status["trusted_height"] == first.trusted_height
        assert status["trusting_period"] == PERIOD
        assert status["expires_in"] == first.expires_at - seconds()

        # 350 s later, 250 s of trust left (> 200): blocks came, but nothing is refreshed.
        clock.advance(350_000)
        devnet.node.produce_block()
        await relayer.refresh_clients([CHAIN])
        unchanged = await relayer.keeper.expiry(CHAIN)
        assert unchanged is not None
        assert unchanged.trusted_height == first.trusted_height
        left = first.expires_in(seconds())
        assert 250 <= left < 251  # the anchored block was made 1 ms after the one before
        assert _sample(relayer, "pjgw_relayer_client_expiry_seconds") == left
        assert _sample(relayer, "pjgw_relayer_client_refreshes_total") is None

        # 60 s more, 190 s or less left (<= 200): the keeper advances it to the finalized height.
        clock.advance(60_000)
        tip = devnet.node.produce_block()
        await relayer.refresh_clients([CHAIN])
        fresh = await relayer.keeper.expiry(CHAIN)
        assert fresh is not None
        assert fresh.trusted_height == tip.height > first.trusted_height
        assert fresh.expires_in(seconds()) == PERIOD  # the new header was made just now
        assert _sample(relayer, "pjgw_relayer_client_refreshes_total") == 1.0
        assert _sample(relayer, "pjgw_relayer_client_trusted_height") == tip.height
        assert _sample(relayer, "pjgw_relayer_client_expiry_seconds") == PERIOD
        assert _sample(relayer, "pjgw_relayer_client_frozen") == 0.0

        # Without that pass the first state would have expired by now: 1 000 s after it.
        clock.advance(590_000)
        assert first.expires_in(seconds()) == 0.0
        devnet.node.produce_block()
        await relayer.refresh_clients([CHAIN])  # 10 s left of the fresh state: refreshed again
        again = await relayer.keeper.expiry(CHAIN)
        assert again is not None
        assert again.expires_in(seconds()) == PERIOD
        exposition = generate_latest(relayer.metrics.registry).decode()
        assert 'pjgw_relayer_client_refreshes_total{chain="pujiang-devnet"} 2.0' in exposition
        await adapter.aclose()
