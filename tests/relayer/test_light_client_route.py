"""A ``light_client`` route end to end: devnet -> relayer -> anvil with NO notary signing.

The anvil bridge's admin deploys a ``PujiangLightClient`` of the devnet
(checkpoint: a devnet header) and names it with ``setLightClient``; the route
is registered with protocol ``light_client``. The relayer verifies the
packet with its own light client, updates the on-chain client, and delivers
with the inclusion proof: the voucher balance on anvil rises by the amount and
no signature is ever stored. Several packets of one block cost one update.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from core.ids import ChainId, Height
from core.records import RouteProtocol, RouteRecord
from core.states import TransferState
from devnet import keys
from proofs.pujiang import codec
from relayer.engine import Relayer
from tests.evm.chain import Contract
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet
from tests.fixtures.relay import ROUTE, Anvil, evm_adapter, pujiang_adapter
from tests.relayer.test_engine_e2e import AMOUNT, FAST, close, deliveries_on_anvil, voucher_balance

TRUSTING_MS = 24 * 3600 * 1000
DRIFT_MS = 10_000


def light_client_on_anvil(devnet: InProcessDevnet, env: Anvil) -> Contract:
    """The devnet's light client on anvil, anchored at the devnet's newest block, and set
    on the bridge by its admin."""
    tip = devnet.node.produce_block()
    header = devnet.node.header(tip.height)
    encoded = codec.encode(header)
    lc = env.chain.deploy(
        "PujiangLightClient", DEVNET_CHAIN, TRUSTING_MS, DRIFT_MS, sender=env.admin
    )
    lc.transact(
        "initialize", tip.height, codec.compute_header_hash(header), encoded, sender=env.admin
    )
    env.bridge.transact("setLightClient", DEVNET_CHAIN, lc.address, sender=env.admin)
    return lc


def send_block(devnet: InProcessDevnet, env: Anvil, store: Any, count: int) -> list[bytes]:
    """Alice sends ``count`` packets to anvil in ONE devnet block, on a light_client route."""
    start = devnet.node.produce_block().height + 1
    store.upsert_route(
        RouteRecord(
            ROUTE,
            ChainId(DEVNET_CHAIN),
            ChainId(LOCAL_CHAIN),
            RouteProtocol.LIGHT_CLIENT,
            settings={"start_height": start},
        )
    )
    alice = keys.account_key(DEVNET_SEED, 0)
    nonce = devnet.node.committed_nonce(codec.compute_address(bytes(alice.verify_key)))
    deadline_ms = (max(env.chain.timestamp(), int(time.time())) + 3600) * 1000
    receiver = bytes.fromhex(env.alice[2:])
    hashes = []
    for i in range(count):
        args = [LOCAL_CHAIN.encode(), receiver, b"upj", AMOUNT, 0, deadline_ms]
        tx = keys.sign_tx(alice, DEVNET_CHAIN, nonce + i, "bridge_send", args)
        hashes.append(devnet.node.submit(tx))
    devnet.node.produce_block()
    return hashes


async def drive(relayer: Relayer, store: Any, hashes: list[bytes], passes: int = 80) -> list[Any]:
    """Passes of the relayer alone (nobody signs) until every transfer is completed."""
    for _ in range(passes):
        await relayer.run_once()
        found = [store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), h) for h in hashes]
        if all(t is not None and t.state is TransferState.COMPLETED for t in found):
            return found
        await asyncio.sleep(0.01)
    found = [store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), h) for h in hashes]
    history = [[e.reason for e in store.history(t.id)] for t in found if t is not None]
    raise AssertionError(f"not completed after {passes} passes: {history}")


def run(store: Any, devnet: InProcessDevnet, env: Anvil, hashes: list[bytes]) -> list[Any]:
    async def scenario() -> list[Any]:
        adapters = {
            ChainId(DEVNET_CHAIN): pujiang_adapter(devnet),
            ChainId(LOCAL_CHAIN): evm_adapter(env),
        }
        relayer = Relayer(store, adapters, worker_id="lc-relayer", settings=FAST)
        try:
            return await drive(relayer, store, hashes)
        finally:
            await close(relayer)

    return asyncio.run(scenario())


def test_a_devnet_packet_crosses_a_light_client_route_with_no_notary(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    lc = light_client_on_anvil(devnet, evm)
    before = voucher_balance(evm, evm.alice)
    (tx_hash,) = send_block(devnet, evm, store, 1)

    (done,) = run(store, devnet, evm, [tx_hash])

    assert voucher_balance(evm, evm.alice) == before + AMOUNT
    assert deliveries_on_anvil(evm, done.packet.sequence) == 1
    assert store.signatures(done.id) == []  # no notary was involved
    assert lc.view("consensusStates", done.source_height)[0] != bytes(32)
    reasons = " ".join(h.reason for h in store.history(done.id))
    assert "holds height" in reasons


def test_every_packet_of_a_block_is_served_by_one_client_update(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    lc = light_client_on_anvil(devnet, evm)
    before = voucher_balance(evm, evm.alice)
    hashes = send_block(devnet, evm, store, 3)

    done = run(store, devnet, evm, hashes)

    assert voucher_balance(evm, evm.alice) == before + 3 * AMOUNT
    assert len({t.source_height for t in done}) == 1
    updates = evm.chain.call(
        "eth_getLogs", {"address": lc.address, "fromBlock": "0x0", "toBlock": "latest"}
    )
    updated = [e for e in evm.chain._decode_logs(updates) if e.name == "ClientUpdated"]
    assert [e.args["height"] for e in updated][1:] == [
        done[0].source_height
    ]  # checkpoint, then one


def test_the_host_reads_held_heights_and_the_trusted_height_below_a_packet(
    devnet: InProcessDevnet, evm: Anvil
) -> None:
    lc = light_client_on_anvil(devnet, evm)
    anchor = int(lc.view("latestHeight"))
    for _ in range(6):
        devnet.node.produce_block()

    async def scenario() -> list[Any]:
        source, dest = pujiang_adapter(devnet), evm_adapter(evm)
        try:
            first = await dest.onchain_client_status(ChainId(DEVNET_CHAIN), Height(anchor + 5))
            update = await source.onchain_client_update(
                first.kind, Height(anchor), Height(anchor + 5)
            )
            await dest.wait_receipt(await dest.submit_client_update(first, update))
            return [
                await dest.onchain_client_status(ChainId(DEVNET_CHAIN), Height(h))
                for h in (anchor + 2, anchor + 5, anchor + 6)
            ]
        finally:
            await source.aclose()
            await dest.aclose()

    below, held, above = asyncio.run(scenario())
    assert (below.holds, below.trusted) == (False, anchor)  # from the client's logs
    assert (held.holds, held.latest) == (True, anchor + 5)
    assert (above.holds, above.trusted) == (False, anchor + 5)  # its latest height
    assert not above.frozen
    assert above.client == lc.address
