"""Chains registered while the relayer runs get their adapters built on the next pass.

This is how ``POST /v1/chains`` + ``POST /v1/routes`` reach a running hub:
the store holds the chain (family + settings), and the relayer builds the
adapter through the registry and the family's settings model
(``adapters.chains_file.build_adapter``). The anvil chain here goes through
exactly that default path over its real socket; the devnet is in this process,
so its adapter is built by a factory handing it the ASGI transport.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from adapters.chains_file import build_adapter
from core.ids import ChainId
from core.records import ChainRecord
from core.seams import ChainAdapter
from core.states import TransferState
from relayer.engine import Relayer
from tests.fixtures.anvil import CHAIN_ID as EVM_CHAIN_ID
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import InProcessDevnet
from tests.fixtures.relay import NOTARIES, ROUTE, THRESHOLD, Anvil, pujiang_adapter
from tests.relayer.test_engine_e2e import (
    AMOUNT,
    FAST,
    close,
    drive,
    send_from_devnet,
    voucher_balance,
)


def test_a_chain_registered_after_start_gets_its_adapter_and_its_route_runs(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    built: list[str] = []

    def factory(record: ChainRecord) -> ChainAdapter:
        built.append(str(record.chain_id))
        if record.family == "pujiang":
            return pujiang_adapter(devnet)
        return build_adapter(record)  # the hub's own path: registry + settings model

    relayer = Relayer(
        store, {}, worker_id="relayer-runtime", settings=FAST, adapter_factory=factory
    )
    store.upsert_chain(  # what POST /v1/chains stores for anvil
        ChainRecord(
            ChainId(LOCAL_CHAIN),
            "evm",
            {
                "rpc_url": evm.node.url,
                "evm_chain_id": EVM_CHAIN_ID,
                "bridge_address": evm.bridge.address,
                "confirmations": 0,
                "insecure_plaintext_key": True,
                "signer_key": evm.relayer_key,
                "committee_threshold": THRESHOLD,
                "committee": list(NOTARIES),
            },
        )
    )
    deadline = max(evm.chain.timestamp(), int(time.time())) + 3600
    before = voucher_balance(evm, evm.alice)
    tx_hash = send_from_devnet(devnet, bytes.fromhex(evm.alice[2:]), deadline, store)

    async def scenario() -> Any:
        try:
            await relayer.run_once()  # the first pass builds both adapters
            return await drive(relayer, store, devnet, evm, TransferState.COMPLETED, tx_hash)
        finally:
            await close(relayer)

    done = asyncio.run(scenario())
    assert sorted(built) == sorted([DEVNET_CHAIN, LOCAL_CHAIN])  # each built once, on demand
    assert done.state is TransferState.COMPLETED
    assert voucher_balance(evm, evm.alice) == before + AMOUNT


def test_a_chain_whose_adapter_cannot_be_built_stops_only_its_route_and_says_why(
    store: Any,
) -> None:
    store.upsert_chain(ChainRecord(ChainId(LOCAL_CHAIN), "evm", {"rpc_url": "not a url"}))
    relayer = Relayer(store, {}, worker_id="relayer-bad-chain", settings=FAST)
    asyncio.run(relayer.run_once())
    status = relayer.route_status()[ROUTE]
    assert status.state == "error"
    assert "no adapter" in status.reason
    assert "not a url" not in status.reason  # settings values are never echoed
