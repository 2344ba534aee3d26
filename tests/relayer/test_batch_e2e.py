"""Batches end to end (issue #15): devnet -> relayer in batch mode -> anvil, SqlStore on SQLite.

Several packets sent in one devnet block travel as ONE batch: one notary
signature each over its root, one ``submitRoot`` and one ``receiveBatch``
transaction; the wrapped balance read from anvil rises by every amount. The
crash tests drop the relayer (a ``BaseException`` no handler catches, as a
killed process) between journaling a batch chunk and sending it, and between
sending it and marking it sent: anvil sees each packet delivered exactly once.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import update

from core.batches import BatchKind
from core.ids import ChainId, PacketId
from core.records import ActionStatus, BatchState, RouteProtocol, RouteRecord
from core.states import TransferState
from devnet import keys
from gateway.store.models import Transfer
from proofs.pujiang import codec
from relayer.engine import Relayer
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet
from tests.fixtures.relay import ROUTE, Anvil, sign_proven
from tests.relayer.test_engine_e2e import (
    AMOUNT,
    close,
    deliveries_on_anvil,
    relayer_for,
    voucher_balance,
)

S = TransferState


class Crash(BaseException):
    """The relayer process dies here (nothing in it catches a BaseException)."""


def send_many(devnet: InProcessDevnet, receiver: bytes, n: int, store: Any) -> list[bytes]:
    """Alice sends ``n`` transfers to anvil in ONE devnet block; their tx hashes."""
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
    deadline_ms = (int(time.time()) + 3600) * 1000
    hashes = []
    for i in range(n):
        args = [LOCAL_CHAIN.encode(), receiver, b"upj", AMOUNT, 0, deadline_ms]
        tx = keys.sign_tx(alice, DEVNET_CHAIN, nonce + i, "bridge_send", args)
        hashes.append(devnet.node.submit(tx))
    devnet.node.produce_block()
    return hashes


async def drive_all(
    relayer: Relayer, store: Any, devnet: InProcessDevnet, hashes: list[bytes], passes: int = 80
) -> list[Any]:
    source = relayer.adapters[ChainId(DEVNET_CHAIN)]
    dest = relayer.adapters[ChainId(LOCAL_CHAIN)]
    for _ in range(passes):
        await relayer.run_once()
        await sign_proven(store, source, dest, time.time())  # type: ignore[arg-type]
        found = [store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), h) for h in hashes]
        if all(t is not None and t.state is S.COMPLETED for t in found):
            return found
        await asyncio.sleep(0.02)
    states = [None if t is None else t.state for t in found]
    raise AssertionError(f"not all completed: {states}")


def batches_of(store: Any, transfers: list[Any]) -> set[str]:
    return set(store.batched([t.id for t in transfers], int(BatchKind.DELIVERY)).values())


def test_packets_of_one_block_travel_as_one_batch_and_every_amount_arrives(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    before = voucher_balance(evm, evm.alice)
    hashes = send_many(devnet, bytes.fromhex(evm.alice[2:]), 5, store)

    async def scenario() -> list[Any]:
        relayer = relayer_for(store, devnet, evm, "relayer-batch", batch_linger=0.0)
        try:
            return await drive_all(relayer, store, devnet, hashes)
        finally:
            await close(relayer)

    done = asyncio.run(scenario())
    assert voucher_balance(evm, evm.alice) == before + 5 * AMOUNT
    (batch_id,) = batches_of(store, done)
    batch = store.batch(batch_id)
    assert batch.size == 5
    assert batch.state is BatchState.DONE
    assert len(store.batch_signatures(batch_id)) == 3
    journal = store.batch_actions(batch_id)
    assert sorted(journal) == ["deliver:0", "store_root"]
    assert {a.status for a in journal.values()} == {ActionStatus.SUCCEEDED}
    assert len({t.dest_tx for t in done}) == 1  # one destination transaction for all five
    for t in done:
        assert isinstance(t.packet, PacketId)
        assert deliveries_on_anvil(evm, t.packet.sequence) == 1
        states = [h.state for h in store.history(t.id)]
        assert states[-4:] == [S.PROVEN, S.ATTESTED, S.DEST_SUBMITTED, S.COMPLETED]


def test_a_batch_is_sent_in_chunks_of_the_destinations_capacity(
    devnet: InProcessDevnet, evm: Anvil, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = voucher_balance(evm, evm.alice)
    hashes = send_many(devnet, bytes.fromhex(evm.alice[2:]), 5, store)

    async def scenario() -> list[Any]:
        relayer = relayer_for(store, devnet, evm, "relayer-chunks", batch_linger=0.0)
        bridge = relayer.ctx.bridge(ChainId(LOCAL_CHAIN))
        monkeypatch.setattr(bridge, "batch_capacity", lambda: 2)
        try:
            return await drive_all(relayer, store, devnet, hashes)
        finally:
            await close(relayer)

    done = asyncio.run(scenario())
    assert voucher_balance(evm, evm.alice) == before + 5 * AMOUNT
    (batch_id,) = batches_of(store, done)
    assert sorted(store.batch_actions(batch_id)) == [
        "deliver:0",
        "deliver:1",
        "deliver:2",
        "store_root",
    ]
    assert len({t.dest_tx for t in done}) == 3


def _crash_on_deliver(relayer: Relayer, *, after_send: bool) -> None:
    """Make the relayer die at its first batch delivery: before sending it, or after the
    transaction was mined but before the journal says so."""
    dest = relayer.adapters[ChainId(LOCAL_CHAIN)]
    real = dest.submit

    async def submit(action: Any) -> bytes:
        if "batch" not in action.kind.lower():  # the root (receiveBatch is the delivery)
            return await real(action)
        if after_send:
            await dest.wait_receipt(await real(action))  # type: ignore[attr-defined]
        raise Crash(action.kind)

    dest.submit = submit  # type: ignore[method-assign]


@pytest.mark.parametrize("after_send", [False, True], ids=["before-send", "after-send"])
def test_a_crash_around_a_batch_delivery_delivers_every_packet_exactly_once(
    devnet: InProcessDevnet, evm: Anvil, store: Any, after_send: bool
) -> None:
    before = voucher_balance(evm, evm.alice)
    hashes = send_many(devnet, bytes.fromhex(evm.alice[2:]), 3, store)
    short = {"batch_linger": 0.0, "lease_seconds": 0.5}

    async def crashing() -> None:
        relayer = relayer_for(store, devnet, evm, "relayer-crashing", **short)
        _crash_on_deliver(relayer, after_send=after_send)
        try:
            await drive_all(relayer, store, devnet, hashes)
        finally:
            await close(relayer)

    with pytest.raises(Crash):
        asyncio.run(crashing())
    found = [store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), h) for h in hashes]
    (batch_id,) = batches_of(store, found)
    journal = store.batch_actions(batch_id)
    assert journal["deliver:0"].status is ActionStatus.RECORDED  # never marked sent
    sequences = [t.packet.sequence for t in found]
    expected = 1 if after_send else 0
    assert [deliveries_on_anvil(evm, s) for s in sequences] == [expected] * 3
    nonce_before = evm.chain.call("eth_getTransactionCount", evm.relayer, "latest")
    time.sleep(0.6)  # the dead relayer's leases expire

    async def restarted() -> list[Any]:
        relayer = relayer_for(store, devnet, evm, "relayer-restarted", **short)
        try:
            return await drive_all(relayer, store, devnet, hashes)
        finally:
            await close(relayer)

    asyncio.run(restarted())
    assert [deliveries_on_anvil(evm, s) for s in sequences] == [1, 1, 1]
    assert voucher_balance(evm, evm.alice) == before + 3 * AMOUNT
    sent_after = evm.chain.call("eth_getTransactionCount", evm.relayer, "latest")
    if after_send:  # found delivered on anvil: nothing sent again
        assert sent_after == nonce_before


def _crash_when_the_batch_is_attested(relayer: Relayer) -> None:
    """Kill the relayer as it records a batch ``attested`` (its members were just moved)."""
    db = relayer.db
    real = db.set_batch_state

    async def dying(batch_id: str, expected: Any, new: Any, *args: Any, **kw: Any) -> Any:
        if new is BatchState.ATTESTED:
            raise Crash
        return await real(batch_id, expected, new, *args, **kw)

    db.set_batch_state = dying  # type: ignore[method-assign]


@pytest.mark.parametrize("left", ["batch-assembled", "members-proven"])
def test_a_crash_between_a_batchs_quorum_and_its_move_strands_no_member(
    devnet: InProcessDevnet, evm: Anvil, store: Any, left: str
) -> None:
    """The batch and its members move in two store writes. Killed between them (members
    ``attested``, batch ``assembled``), or left by an older relayer that moved the batch
    first (batch ``attested``, members ``proven``): a restarted relayer delivers every
    member exactly once and none rests in ``proven``."""
    before = voucher_balance(evm, evm.alice)
    hashes = send_many(devnet, bytes.fromhex(evm.alice[2:]), 3, store)
    short = {"batch_linger": 0.0, "lease_seconds": 0.5}

    async def crashing() -> None:
        relayer = relayer_for(store, devnet, evm, "relayer-crashing", **short)
        _crash_when_the_batch_is_attested(relayer)
        try:
            await drive_all(relayer, store, devnet, hashes)
        finally:
            await close(relayer)

    with pytest.raises(Crash):
        asyncio.run(crashing())
    found = [store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), h) for h in hashes]
    (batch_id,) = batches_of(store, found)
    assert store.batch(batch_id).state is BatchState.ASSEMBLED
    assert {t.state for t in found} == {S.ATTESTED}
    if left == "members-proven":  # what the former order left after a crash (raw SQL: the
        # transition table has no way back, which is the point)
        with store.engine.begin() as conn:
            conn.execute(
                update(Transfer)
                .where(Transfer.id.in_([t.id for t in found]))
                .values(state=S.PROVEN.value)
            )
        store.set_batch_state(batch_id, BatchState.ASSEMBLED, BatchState.ATTESTED, time.time())
    time.sleep(0.6)  # the dead relayer's leases expire

    async def restarted() -> list[Any]:
        relayer = relayer_for(store, devnet, evm, "relayer-restarted", **short)
        try:
            return await drive_all(relayer, store, devnet, hashes)
        finally:
            await close(relayer)

    done = asyncio.run(restarted())
    assert {t.state for t in done} == {S.COMPLETED}
    assert [deliveries_on_anvil(evm, t.packet.sequence) for t in done] == [1, 1, 1]
    assert voucher_balance(evm, evm.alice) == before + 3 * AMOUNT
