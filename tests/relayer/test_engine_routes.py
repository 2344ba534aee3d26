"""Route-level behaviour of the engine on the real devnet and anvil: freezing, checkpoints,
batching."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from core.ids import ChainId, Height
from core.records import ClientRecord
from core.states import TransferState
from relayer.engine import Relayer
from relayer.settings import Checkpoint
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import InProcessDevnet
from tests.fixtures.relay import ROUTE, Anvil
from tests.relayer.test_engine_e2e import (
    AMOUNT,
    close,
    deliveries_on_anvil,
    drive,
    relayer_for,
    run_until,
    send_from_devnet,
    voucher_balance,
)


def test_a_frozen_source_client_stops_the_route_and_says_why(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    deadline = int(time.time()) + 3600
    tx_hash = send_from_devnet(devnet, bytes.fromhex(evm.alice[2:]), deadline, store)
    store.save_client(
        ClientRecord(
            ChainId(DEVNET_CHAIN), b"{}", {}, Height(1), frozen=True, frozen_reason="fork at 7"
        )
    )

    async def scenario() -> Any:
        relayer = relayer_for(store, devnet, evm, "relayer-frozen")
        try:
            await relayer.run_once()
            return relayer.route_status()
        finally:
            await close(relayer)

    status = asyncio.run(scenario())
    assert status[ROUTE].state == "stopped"
    assert "fork at 7" in status[ROUTE].reason
    # ... and reported to the store, where the API and the dashboard read it.
    [reported] = store.route_statuses()
    assert (reported.route_id, reported.worker, reported.state) == (
        ROUTE,
        "relayer-frozen",
        "stopped",
    )
    assert "fork at 7" in reported.reason
    # The watcher of the route's source did not run.
    assert store.cursor(Relayer.chain_cursor_key(ChainId(DEVNET_CHAIN))) is None
    assert store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), tx_hash) is None


def test_a_checkpoint_the_chain_does_not_match_parks_the_transfer_instead_of_rejecting(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    deadline = int(time.time()) + 3600
    tx_hash = send_from_devnet(devnet, bytes.fromhex(evm.alice[2:]), deadline, store)
    wrong = {DEVNET_CHAIN: Checkpoint(height=1, hash="ab" * 32)}

    async def scenario() -> None:
        relayer = relayer_for(store, devnet, evm, "relayer-checkpoint", checkpoints=wrong)
        try:
            for _ in range(4):
                await relayer.run_once()
        finally:
            await close(relayer)

    asyncio.run(scenario())
    t = store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), tx_hash)
    assert t.state is TransferState.SOURCE_FINAL
    assert "does not match the configured checkpoint" in t.reason
    assert store.client(ChainId(DEVNET_CHAIN)) is None


def test_a_matching_checkpoint_anchors_the_client_at_its_height(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    anchor = devnet.node.produce_block()
    checkpoint = {DEVNET_CHAIN: Checkpoint(height=anchor.height, hash=anchor.hash.hex())}
    deadline = int(time.time()) + 3600
    tx_hash = send_from_devnet(devnet, bytes.fromhex(evm.alice[2:]), deadline, store)

    run_until(
        store,
        devnet,
        evm,
        "relayer-anchored",
        TransferState.COMPLETED,
        tx_hash,
        checkpoints=checkpoint,
    )
    assert min(store.client(ChainId(DEVNET_CHAIN)).consensus_states) == anchor.height


def test_attested_packets_of_one_destination_go_out_in_one_submit_many_batch(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    deadline = int(time.time()) + 3600
    receiver = bytes.fromhex(evm.alice[2:])
    first = send_from_devnet(devnet, receiver, deadline, store)
    route = store.route(ROUTE)  # starts at the first send
    others = [send_from_devnet(devnet, receiver, deadline, store) for _ in range(2)]
    store.upsert_route(route)
    batches: list[int] = []

    async def scenario() -> list[Any]:
        relayer = relayer_for(
            store, devnet, evm, "relayer-batch", steps_per_claim=1, attestation="packet"
        )
        dest = relayer.adapters[ChainId("anvil-31337")]
        real = dest.submit_many  # type: ignore[attr-defined]

        async def counted(actions: Any) -> Any:  # the real call, counted
            batches.append(len(actions))
            return await real(actions)

        dest.submit_many = counted  # type: ignore[attr-defined]
        try:
            return [
                await drive(relayer, store, devnet, evm, TransferState.COMPLETED, tx)
                for tx in (first, *others)
            ]
        finally:
            await close(relayer)

    done = asyncio.run(scenario())
    assert 3 in batches
    assert voucher_balance(evm, evm.alice) == 3 * AMOUNT
    for t in done:
        assert deliveries_on_anvil(evm, t.packet.sequence) == 1


def test_the_notary_protocol_implements_the_transfer_protocol_seam() -> None:
    from core.seams import TransferProtocol
    from relayer.protocols.notary import NotaryProtocol

    protocol = NotaryProtocol(ctx=None)  # type: ignore[arg-type] - only the shape is checked
    assert isinstance(protocol, TransferProtocol)
    assert protocol.name == "notary"
