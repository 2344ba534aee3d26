"""A ``light_client`` route across a full validator-set replacement of the real devnet.

The anvil client is anchored before the devnet's validators hand the chain to
four other keys (overlap 0, as in ``test_rotation.py``); a packet sent after
the rotation must reach anvil with no notary: the one skip from the anchor is
refused by the contract (``LC: trust-overlap``), the relayer bisects, and the
adjacent pair across the rotation ends up held on chain.
"""

from __future__ import annotations

import asyncio
from typing import Any

from core.ids import ChainId
from core.records import RouteProtocol, RouteRecord
from core.states import TransferState
from relayer.engine import Relayer
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import InProcessDevnet
from tests.fixtures.relay import ROUTE, Anvil, evm_adapter, pujiang_adapter
from tests.relayer.test_engine_e2e import AMOUNT, FAST, close, voucher_balance
from tests.relayer.test_light_client_route import light_client_on_anvil
from tests.relayer.test_rotation import NEW_SET, devnet, rotate, send_packet

__all__ = ["devnet"]  # the fresh-devnet-per-test fixture of test_rotation.py


def held_heights(env: Anvil, client: str) -> list[int]:
    logs = env.chain.call(
        "eth_getLogs", {"address": client, "fromBlock": "0x0", "toBlock": "latest"}
    )
    return sorted(
        e.args["height"] for e in env.chain._decode_logs(logs) if e.name == "ClientUpdated"
    )


def test_a_light_client_route_crosses_a_full_validator_replacement(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    lc = light_client_on_anvil(devnet, evm)
    anchor = lc.view("latestHeight")
    store.upsert_route(
        RouteRecord(
            ROUTE,
            ChainId(DEVNET_CHAIN),
            ChainId(LOCAL_CHAIN),
            RouteProtocol.LIGHT_CLIENT,
            settings={"start_height": devnet.node.height + 1},
        )
    )
    effective = rotate(devnet, NEW_SET)
    before = voucher_balance(evm, evm.alice)
    tx_hash, target = send_packet(devnet, evm)
    assert anchor < effective - 1 < effective < target

    async def scenario() -> Any:
        adapters = {
            ChainId(DEVNET_CHAIN): pujiang_adapter(devnet),
            ChainId(LOCAL_CHAIN): evm_adapter(evm),
        }
        relayer = Relayer(store, adapters, worker_id="lc-rotation", settings=FAST)
        try:
            for _ in range(120):
                await relayer.run_once()
                found = store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), tx_hash)
                if found is not None and found.state is TransferState.COMPLETED:
                    return found
                await asyncio.sleep(0.01)
            return store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), tx_hash)
        finally:
            await close(relayer)

    done = asyncio.run(scenario())
    assert done is not None
    reasons = [h.reason for h in store.history(done.id)]
    assert done.state is TransferState.COMPLETED, reasons
    assert voucher_balance(evm, evm.alice) == before + AMOUNT
    assert store.signatures(done.id) == []
    heights = held_heights(evm, lc.address)
    assert {effective - 1, effective, target} <= set(heights), heights  # the adjacent crossing
    assert any("towards" in r for r in reasons), reasons  # an intermediate header was sent first
