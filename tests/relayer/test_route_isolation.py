"""One destination down stalls only its own routes: each route has a worker of its own.

Two routes from the real devnet: to anvil (up) and to an EVM chain whose node
accepts connections and never answers (a black hole: every request waits for
the adapter's 120 s timeout). ``Relayer.run`` keeps a watcher per source chain
and a worker per route in a ``TaskGroup``, so while the dead route's worker
hangs on its destination, the anvil route's worker carries its packet through
every step to a delivery on anvil, well within the dead call's timeout. With
the routes worked one after another, the anvil packet would wait behind the
hanging call on every pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from adapters.evm.adapter import EvmAdapter
from adapters.evm.settings import EvmChainSettings
from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from core.states import TransferState
from devnet import keys
from proofs.pujiang import codec
from relayer.engine import Relayer
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet
from tests.fixtures.relay import (
    NOTARIES,
    ROUTE,
    THRESHOLD,
    Anvil,
    evm_adapter,
    pujiang_adapter,
    sign_proven,
)
from tests.relayer.test_engine_e2e import AMOUNT, FAST, deliveries_on_anvil

DEAD_CHAIN = "dead-4242"
DEAD_ROUTE = "devnet-to-dead"
DEAD_TIMEOUT = 120.0  # seconds the dead destination holds each request
DEADLINE = 60.0  # the live route must complete well before one dead request times out


def _send(devnet: InProcessDevnet, dest: str, receiver: bytes, deadline_s: int) -> bytes:
    """Alice sends ``AMOUNT`` upj to ``dest`` in a committed block; the tx hash."""
    alice = keys.account_key(DEVNET_SEED, 0)
    nonce = devnet.node.committed_nonce(codec.compute_address(bytes(alice.verify_key)))
    args = [dest.encode(), receiver, b"upj", AMOUNT, 0, deadline_s * 1000]
    tx_hash = devnet.node.submit(keys.sign_tx(alice, DEVNET_CHAIN, nonce, "bridge_send", args))
    devnet.node.produce_block()
    return tx_hash


async def _hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The black hole: read what comes, never answer."""
    with contextlib.suppress(Exception):
        while await reader.read(4096):
            pass


def test_a_dead_destination_stalls_only_its_own_route(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    start = devnet.node.produce_block().height + 1
    store.upsert_chain(ChainRecord(ChainId(DEAD_CHAIN), "evm"))
    for route_id, dest in ((ROUTE, LOCAL_CHAIN), (DEAD_ROUTE, DEAD_CHAIN)):
        store.upsert_route(
            RouteRecord(
                route_id,
                ChainId(DEVNET_CHAIN),
                ChainId(dest),
                RouteProtocol.NOTARY,
                settings={"start_height": start},
            )
        )
    deadline = int(time.time()) + 3600
    receiver = bytes.fromhex(evm.alice[2:])
    dead_tx = _send(devnet, DEAD_CHAIN, receiver, deadline)
    live_tx = _send(devnet, LOCAL_CHAIN, receiver, deadline)

    async def scenario() -> tuple[Any, Any, float]:
        blackhole = await asyncio.start_server(_hold, "127.0.0.1", 0)
        port = blackhole.sockets[0].getsockname()[1]
        dead = EvmAdapter(
            EvmChainSettings(
                chain=DEAD_CHAIN,
                rpc_url=f"http://127.0.0.1:{port}",
                evm_chain_id=4242,
                bridge_address=evm.bridge.address,
                confirmations=0,
                read_retries=1,
                rpc_timeout=DEAD_TIMEOUT,
                committee_threshold=THRESHOLD,
                committee=NOTARIES,
            )
        )
        source, live = pujiang_adapter(devnet), evm_adapter(evm)
        adapters = {ChainId(DEVNET_CHAIN): source, ChainId(LOCAL_CHAIN): live, DEAD_CHAIN: dead}
        relayer = Relayer(store, adapters, worker_id="relayer-isolation", settings=FAST)
        stop = asyncio.Event()
        running = asyncio.create_task(relayer.run(stop))
        began = time.monotonic()
        done = None
        try:
            while time.monotonic() - began < DEADLINE:
                await sign_proven(store, source, live, time.time(), route_id=ROUTE)
                found = store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), live_tx)
                if found is not None and found.state is TransferState.COMPLETED:
                    done = found
                    break
                await asyncio.sleep(0.2)
            took = time.monotonic() - began
            dead_transfer = store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), dead_tx)
        finally:
            stop.set()
            await asyncio.wait_for(running, 30)
            for adapter in adapters.values():
                await adapter.aclose()
            blackhole.close()
        return done, dead_transfer, took

    done, dead_transfer, took = asyncio.run(scenario())
    assert done is not None, "the live route did not deliver while the other one hung"
    assert took < DEAD_TIMEOUT  # it did not wait for the dead destination's timeout
    assert deliveries_on_anvil(evm, done.packet.sequence) == 1
    assert dead_transfer is not None
    assert dead_transfer.state is not TransferState.COMPLETED
    assert dead_transfer.route_id == DEAD_ROUTE
