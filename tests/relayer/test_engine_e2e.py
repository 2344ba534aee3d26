"""The relayer engine end to end: devnet node -> relayer -> anvil, SqlStore on SQLite.

A packet sent by a real transaction on the devnet bridge is watched, proven
against a header the relayer's Pujiang light client verified, attested by
the devnet's three notary keys (threshold two; the test's stand-in for notary
processes signs into the store), delivered to a real ``Bridge.sol`` on anvil,
and the wrapped ERC-20 balance read from anvil rises by the amount. The crash
tests drop the ``Relayer`` (and its adapters, as a dead process would) at
the worst instants of the journal and check that anvil saw exactly one
delivery.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from eth_hash.auto import keccak

from core.batches import BatchKind
from core.ids import ChainId, PacketId
from core.records import ActionStatus, RouteProtocol, RouteRecord
from core.states import TransferState
from devnet import keys
from proofs.pujiang import codec
from relayer.engine import Relayer
from relayer.protocols.notary import DELIVER, NotaryProtocol, _Send
from relayer.settings import RelayerSettings
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet
from tests.fixtures.relay import (
    ROUTE,
    Anvil,
    evm_adapter,
    pujiang_adapter,
    sign_proven,
)

AMOUNT = 1234
FAST = RelayerSettings(poll_interval=0.01, wait_interval=0.0, backoff_base=0.01, backoff_cap=0.05)


def send_from_devnet(
    devnet: InProcessDevnet, receiver: bytes, deadline_s: int, store: Any
) -> bytes:
    """Alice sends ``AMOUNT`` upj to anvil in a committed devnet block; the tx hash.

    The route is (re-)registered to start scanning at that block: the devnet
    lives for the module, and packets of earlier tests must not reach this
    test's fresh bridge.
    """
    start = devnet.node.produce_block().height + 1
    store.upsert_route(
        RouteRecord(
            ROUTE,
            ChainId(DEVNET_CHAIN),
            ChainId(LOCAL_CHAIN),
            RouteProtocol.NOTARY,
            settings={"start_height": start},
        )
    )
    alice = keys.account_key(DEVNET_SEED, 0)
    nonce = devnet.node.committed_nonce(codec.compute_address(bytes(alice.verify_key)))
    args = [LOCAL_CHAIN.encode(), receiver, b"upj", AMOUNT, 0, deadline_s * 1000]
    tx_hash = devnet.node.submit(keys.sign_tx(alice, DEVNET_CHAIN, nonce, "bridge_send", args))
    devnet.node.produce_block()
    return tx_hash


def voucher_balance(env: Anvil, holder: str) -> int:
    address = env.bridge.view("voucherOf", keccak(f"{DEVNET_CHAIN}/upj".encode()))
    if int(address, 16) == 0:
        return 0
    return int(env.chain.at("WrappedToken", address).view("balanceOf", holder))


def deliveries_on_anvil(env: Anvil, sequence: int) -> int:
    """``RecvPacket`` events of the bridge for ``(devnet, sequence)``, read from anvil."""
    logs: list[dict[str, Any]] = env.chain.call(
        "eth_getLogs", {"address": env.bridge.address, "fromBlock": "0x0", "toBlock": "latest"}
    )
    events = env.chain._decode_logs(logs)
    return sum(
        1
        for e in events
        if e.name == "RecvPacket"
        and e.args["packet"][0] == sequence
        and e.args["packet"][1] == DEVNET_CHAIN
    )


async def drive(
    relayer: Relayer,
    store: Any,
    devnet: InProcessDevnet,
    env: Anvil,
    until: TransferState,
    tx_hash: bytes,
    passes: int = 60,
) -> Any:
    """Run passes (signing as the notaries between them) until the transfer reaches ``until``."""
    source = relayer.adapters[ChainId(DEVNET_CHAIN)]
    dest = relayer.adapters[ChainId(LOCAL_CHAIN)]
    for _ in range(passes):
        await relayer.run_once()
        await sign_proven(store, source, dest, time.time())  # type: ignore[arg-type]
        found = store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), tx_hash)
        if found is not None and found.state is until:
            return found
        await asyncio.sleep(0.01)
    found = store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), tx_hash)
    history = store.history(found.id) if found else []
    raise AssertionError(f"not {until} after {passes} passes: {[h.reason for h in history]}")


def delivery_journal(store: Any, transfer_id: str) -> Any:
    """The journaled delivery of a transfer: its own (per packet), or its batch's chunk."""
    own = store.action(transfer_id, DELIVER)
    if own is not None:
        return own
    (batch_id,) = store.batched([transfer_id], int(BatchKind.DELIVERY)).values()
    actions = store.batch_actions(batch_id)
    (chunk,) = [a for step, a in actions.items() if step.startswith("deliver:")]
    return chunk


def relayer_for(
    store: Any, devnet: InProcessDevnet, env: Anvil, name: str, **changes: Any
) -> Relayer:
    adapters = {
        ChainId(DEVNET_CHAIN): pujiang_adapter(devnet),
        ChainId(LOCAL_CHAIN): evm_adapter(env),
    }
    settings = FAST.model_copy(update=changes)
    return Relayer(store, adapters, worker_id=name, settings=settings)


async def close(relayer: Relayer) -> None:
    """The relayer's process ends: its watch leases released (as ``Relayer.run`` does at a
    stop, so the test's next relayer watches at once), its adapters closed."""
    await relayer.release_watches()
    for adapter in relayer.adapters.values():
        await adapter.aclose()  # type: ignore[attr-defined]


def run_until(
    store: Any,
    devnet: InProcessDevnet,
    env: Anvil,
    name: str,
    until: TransferState,
    tx_hash: bytes,
    **changes: Any,
) -> Any:
    """A new relayer process (``name``) driven until the transfer reaches ``until``."""

    async def scenario() -> Any:
        relayer = relayer_for(store, devnet, env, name, **changes)
        try:
            return await drive(relayer, store, devnet, env, until, tx_hash)
        finally:
            await close(relayer)

    return asyncio.run(scenario())


@pytest.mark.parametrize("attestation", ["batch", "packet"])
def test_a_devnet_packet_reaches_anvil_and_the_wrapped_balance_rises_by_the_amount(
    devnet: InProcessDevnet, evm: Anvil, store: Any, attestation: str
) -> None:
    deadline = max(evm.chain.timestamp(), int(time.time())) + 3600
    before = voucher_balance(evm, evm.alice)
    tx_hash = send_from_devnet(devnet, bytes.fromhex(evm.alice[2:]), deadline, store)

    async def scenario() -> Any:
        relayer = relayer_for(store, devnet, evm, "relayer-a", attestation=attestation)
        try:
            done = await drive(relayer, store, devnet, evm, TransferState.COMPLETED, tx_hash)
            return done, relayer.route_status()
        finally:
            await close(relayer)

    done, status = asyncio.run(scenario())
    assert voucher_balance(evm, evm.alice) == before + AMOUNT
    states = [h.state for h in store.history(done.id)]
    for expected in (
        TransferState.SOURCE_COMMITTED,
        TransferState.SOURCE_FINAL,
        TransferState.PROVEN,
        TransferState.ATTESTED,
        TransferState.DEST_SUBMITTED,
        TransferState.COMPLETED,
    ):
        assert expected in states
    assert done.dest_tx is not None
    assert delivery_journal(store, done.id).status is ActionStatus.SUCCEEDED
    assert store.client(ChainId(DEVNET_CHAIN)).trusted_height >= done.source_height
    assert status[ROUTE].state == "running"
    reported = {(s.route_id, s.worker): s.state for s in store.route_statuses()}
    assert reported[(ROUTE, "relayer-a")] == "running"  # the store holds what the API shows
    assert deliveries_on_anvil(evm, done.packet.sequence) == 1


def _attested(store: Any, devnet: InProcessDevnet, env: Anvil, tx_hash: bytes) -> Any:
    """Drive one relayer step by step to ``attested``, then journal the delivery, unsent."""

    async def scenario() -> Any:
        first = relayer_for(
            store, devnet, env, "relayer-crashing", steps_per_claim=1, attestation="packet"
        )
        try:
            t = await drive(first, store, devnet, env, TransferState.ATTESTED, tx_hash)
            protocol = first._protocols[RouteProtocol.NOTARY]
            assert isinstance(protocol, NotaryProtocol)
            prepared = await protocol.prepare_delivery(store.route(ROUTE), t)
            assert isinstance(prepared, _Send)
            return t, prepared
        finally:
            await close(first)

    return asyncio.run(scenario())


def test_a_crash_after_journaling_before_sending_delivers_exactly_once(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    deadline = max(evm.chain.timestamp(), int(time.time())) + 3600
    before = voucher_balance(evm, evm.alice)
    tx_hash = send_from_devnet(devnet, bytes.fromhex(evm.alice[2:]), deadline, store)
    t, _prepared = _attested(store, devnet, evm, tx_hash)
    assert store.action(t.id, DELIVER).status is ActionStatus.RECORDED
    assert deliveries_on_anvil(evm, t.packet.sequence) == 0  # the crash came before the send

    done = run_until(
        store, devnet, evm, "relayer-restarted", TransferState.COMPLETED, tx_hash,
        attestation="packet",
    )  # fmt: skip
    assert deliveries_on_anvil(evm, done.packet.sequence) == 1
    assert voucher_balance(evm, evm.alice) == before + AMOUNT


def test_a_crash_after_sending_before_marking_sent_does_not_send_again(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    deadline = max(evm.chain.timestamp(), int(time.time())) + 3600
    before = voucher_balance(evm, evm.alice)
    tx_hash = send_from_devnet(devnet, bytes.fromhex(evm.alice[2:]), deadline, store)
    t, prepared = _attested(store, devnet, evm, tx_hash)

    async def send_then_die() -> None:
        doomed = evm_adapter(evm)
        try:
            await doomed.wait_receipt(await doomed.submit(prepared.chain_action))
        finally:
            await doomed.aclose()

    asyncio.run(send_then_die())
    assert store.action(t.id, DELIVER).status is ActionStatus.RECORDED  # never marked sent
    nonce_before = evm.chain.call("eth_getTransactionCount", evm.relayer, "latest")

    done = run_until(
        store, devnet, evm, "relayer-restarted", TransferState.COMPLETED, tx_hash,
        attestation="packet",
    )  # fmt: skip
    assert deliveries_on_anvil(evm, done.packet.sequence) == 1
    assert evm.chain.call("eth_getTransactionCount", evm.relayer, "latest") == nonce_before
    assert voucher_balance(evm, evm.alice) == before + AMOUNT
    assert "already delivered" in " ".join(h.reason for h in store.history(done.id))


def test_packet_id_of_the_completed_transfer_names_devnet_anvil_and_the_sequence(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    deadline = max(evm.chain.timestamp(), int(time.time())) + 3600
    tx_hash = send_from_devnet(devnet, bytes.fromhex(evm.alice[2:]), deadline, store)

    proven = run_until(store, devnet, evm, "relayer-b", TransferState.PROVEN, tx_hash)
    assert isinstance(proven.packet, PacketId)
    assert (proven.packet.source, proven.packet.destination) == (DEVNET_CHAIN, LOCAL_CHAIN)
    assert proven.source_tx == tx_hash
    assert proven.source_event  # the raw leaf the proof was checked against


def test_after_the_watcher_no_step_lists_the_packets_block_again(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    """The packet, its event and its attributes are stored when the watcher first sees the
    block; proving, attesting and delivering read them from the store, not the node."""
    deadline = int(time.time()) + 3600
    tx_hash = send_from_devnet(devnet, bytes.fromhex(evm.alice[2:]), deadline, store)
    listings: list[tuple[int, int]] = []

    async def scenario() -> Any:
        relayer = relayer_for(store, devnet, evm, "relayer-no-relist")
        source = relayer.adapters[ChainId(DEVNET_CHAIN)]
        real = source.events

        async def counted(start: Any, end: Any) -> Any:
            listings.append((int(start), int(end)))
            return await real(start, end)

        source.events = counted  # type: ignore[method-assign]
        notaries = pujiang_adapter(devnet)  # the stand-in notaries read the chain themselves
        dest = relayer.adapters[ChainId(LOCAL_CHAIN)]
        try:
            for _ in range(60):
                await relayer.run_once()
                await sign_proven(store, notaries, dest, time.time())  # type: ignore[arg-type]
                found = store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), tx_hash)
                if found is not None and found.state is TransferState.COMPLETED:
                    return found
            raise AssertionError("the transfer did not complete")
        finally:
            await notaries.aclose()
            await close(relayer)

    done = asyncio.run(scenario())
    assert done.packet_data is not None
    assert done.packet_data["sequence"] == done.packet.sequence
    height = int(done.source_height)
    assert sum(1 for start, end in listings if start <= height <= end) == 1, listings
