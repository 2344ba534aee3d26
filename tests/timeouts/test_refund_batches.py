"""Refund batches (issue #15 item 3): NONDELIVERY and ERROR_ACK roots, with REAL notaries.

Real anvil, an in-process devnet node, a SqlStore, the relayer engine in batch
mode and three ``notary.Notary`` objects fed by ``StoreWorkSource``
(``tests/timeouts/helpers.py``). Balances, escrows, voucher supplies and the
bridges' refund events are read from the chains.

* timed-out packets of a route are refunded on their source by ONE
  ``NONDELIVERY`` batch (one root, one ``refundBatch`` / ``bridge_refund_batch``),
  devnet -> anvil and anvil -> devnet;
* a delivery batch with packets their destination refuses (a message receiver that
  reverts, a voucher that will not mint to the zero address; on the devnet a
  receiver that is no address): the others complete, those are refunded on their
  source by one ``ERROR_ACK`` batch, both directions, conservation read from the
  chains;
* a notary asked to sign a non-delivery batch one of whose members was delivered
  refuses the whole batch and names that member (and an error-ack of a member
  that did not fail);
* the relayer killed between journaling a refund chunk and sending it (and
  after sending it) refunds each packet exactly once when run again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from eth_hash.auto import keccak

from adapters.pujiang import PujiangAdapter
from core.batches import BatchKind
from core.errors import PjgwError
from core.ids import ChainId
from core.records import ActionStatus, BatchState
from core.states import TransferState
from core.steps import Step
from core.types import ChainAction, packet_from_data
from devnet import keys
from devnet.modules.bridge import escrow_address
from notary import FailedAt, WorkItem
from notary.batches import BatchMemberRefused, BatchWork
from proofs.hashing import get_hash_function
from proofs.notary.batch import compute_batch_root
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET
from tests.fixtures.devnet import InProcessDevnet
from tests.timeouts.helpers import (
    IN,
    OUT,
    Anvil,
    TestClock,
    adapters_for,
    pujiang_settings,
)
from tests.timeouts.test_refunds import (
    ALICE,
    ALICE_ADDRESS,
    AMOUNT,
    Crash,
    Hub,
    anvil_events,
    devnet_balance,
    devnet_refunds,
)

S = TransferState
REFUNDS_ONLY = frozenset({"nondelivery"})  # no notary signs a delivery: the packets time out
ALL_KINDS = frozenset({"delivery", "nondelivery", "error_ack"})
ZERO = "0x" + "00" * 20  # a voucher refuses to mint to it: the delivery fails on anvil


def send_many_from_devnet(
    devnet: InProcessDevnet,
    receivers: Sequence[str],
    *,
    timeout_height: int = 0,
    timeout_s: int = 0,
    message_to: Sequence[str] = (),
) -> list[bytes]:
    """Alice sends ``AMOUNT`` upj to each of ``receivers`` on anvil, then a message to each
    contract of ``message_to``, all in ONE devnet block."""
    nonce = devnet.node.committed_nonce(ALICE_ADDRESS)
    timeouts = [timeout_height, timeout_s * 1000]
    sends = [
        ("bridge_send", [bytes.fromhex(r[2:]), b"upj", AMOUNT, *timeouts]) for r in receivers
    ] + [("bridge_send_message", [bytes.fromhex(r[2:]), b"ping", *timeouts]) for r in message_to]
    hashes = []
    for i, (kind, args) in enumerate(sends):
        tx = keys.sign_tx(ALICE, DEVNET, nonce + i, kind, [LOCAL_CHAIN.encode(), *args])
        hashes.append(devnet.node.submit(tx))
    devnet.node.produce_block()
    return hashes


async def drive_until(
    hub: Hub,
    source: str,
    hashes: Sequence[bytes],
    done: Callable[[list[Any]], bool],
    kinds: frozenset[str],
) -> list[Any]:
    """Relayer pass, notary round, one devnet block; until ``done(transfers)``."""
    evm = hub.relayer.adapters[ChainId(LOCAL_CHAIN)]
    found: list[Any] = []
    for _ in range(120):
        hub.clock.reach((await evm.header(await evm.latest_height())).time)
        await hub.relayer.run_once()
        await hub.notaries.round(kinds)
        found = [hub.store.transfer_by_source_tx(ChainId(source), h) for h in hashes]
        if all(t is not None for t in found) and done(found):
            return found
        hub.devnet.node.produce_block()
        await asyncio.sleep(0.01)
    states = [None if t is None else (t.state, t.reason) for t in found]
    raise AssertionError(f"not done after 120 passes: {states}; {hub.notaries.refusals}")


def all_in(state: TransferState) -> Callable[[list[Any]], bool]:
    return lambda transfers: all(t.state is state for t in transfers)


def batches_of(store: Any, transfers: Sequence[Any], kind: BatchKind) -> set[str]:
    return set(store.batched([t.id for t in transfers], int(kind)).values())


def devnet_escrow(devnet: InProcessDevnet) -> int:
    """``upj`` the devnet's bridge holds for the route to anvil."""
    return devnet.node.balance(escrow_address(LOCAL_CHAIN.encode(), devnet.node.hash_fn), "upj")


def voucher_supply(env: Anvil) -> int:
    """``pujiang-devnet/upj`` vouchers outstanding on anvil (0 before the first mint)."""
    address = env.bridge.view("voucherOf", keccak(f"{DEVNET}/upj".encode()))
    if int(address, 16) == 0:
        return 0
    return int(env.chain.at("WrappedToken", address).view("totalSupply"))


def voucher_balance(env: Anvil, holder: str) -> int:
    address = env.bridge.view("voucherOf", keccak(f"{DEVNET}/upj".encode()))
    if int(address, 16) == 0:
        return 0
    return int(env.chain.at("WrappedToken", address).view("balanceOf", holder))


def item_of(t: Any, kind: str = "delivery", failed_at: FailedAt | None = None) -> WorkItem:
    return WorkItem(
        transfer_id=t.id,
        route_id=t.route_id,
        source_chain=str(t.packet.source),
        dest_chain=str(t.packet.destination),
        sequence=t.packet.sequence,
        height=int(t.source_height),
        tx_hash=t.source_tx,
        position=tuple(t.source_position),
        kind=kind,  # type: ignore[arg-type]
        failed_at=failed_at,
    )


def assert_one_refund_batch(store: Any, transfers: Sequence[Any], kind: BatchKind) -> None:
    """Every transfer refunded by ONE batch of ``kind``: one root, one refund transaction."""
    (batch_id,) = batches_of(store, transfers, kind)
    batch = store.batch(batch_id)
    assert batch.size == len(transfers)
    assert batch.state is BatchState.DONE
    assert len(store.batch_signatures(batch_id)) >= 2
    journal = store.batch_actions(batch_id)
    assert sorted(journal) == ["refund:0", "store_root"]
    assert journal["refund:0"].status is ActionStatus.SUCCEEDED
    refunds = {store.action(t.id, Step.REFUND).tx_hash for t in transfers}
    assert refunds == {journal["refund:0"].tx_hash}


# --- NONDELIVERY batches -------------------------------------------------------------------------


def test_timed_out_devnet_packets_are_refunded_on_the_devnet_by_one_nondelivery_batch(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    before = devnet_balance(devnet)
    deadline = int(max(evm.timestamp(), clock())) + 20
    hashes = send_many_from_devnet(devnet, [evm.alice] * 3, timeout_s=deadline)
    assert devnet_balance(devnet) == before - 3 * AMOUNT

    async def scenario() -> tuple[list[Any], list[Any]]:
        hub = Hub(store, devnet, evm, clock, tmp_path, batch_linger=0.0)
        try:
            await drive_until(hub, DEVNET, hashes, all_in(S.PROVEN), REFUNDS_ONLY)
            evm.travel(clock, deadline)  # anvil passes the timeout; the devnet's clock follows
            done = await drive_until(hub, DEVNET, hashes, all_in(S.REFUNDED), REFUNDS_ONLY)
            singles = [
                n.signed_log.signed(OUT, t.packet.sequence)
                for n, _source in hub.notaries.members
                for t in done
            ]
            return done, singles
        finally:
            await hub.close()

    done, singles = asyncio.run(scenario())
    assert devnet_balance(devnet) == before
    assert [devnet_refunds(devnet, t.packet.sequence) for t in done] == [1, 1, 1]
    assert anvil_events(evm, "RecvPacket") == []
    assert_one_refund_batch(store, done, BatchKind.NONDELIVERY)
    for t in done:
        assert [h.state for h in store.history(t.id)][-2:] == [S.TIMED_OUT, S.REFUNDED]
    # the notaries signed the batch, not each packet: no single non-delivery statements
    assert singles == [None] * 9
    # the delivery batch they were proven in never had a quorum: closed once all timed out
    (delivery,) = batches_of(store, done, BatchKind.DELIVERY)
    assert store.batch(delivery).state is BatchState.DONE
    assert store.batch_signatures(delivery) == []
    assert store.batch_actions(delivery) == {}


def test_a_refund_batch_is_sent_in_chunks_of_the_sources_capacity(
    devnet: InProcessDevnet,
    evm: Anvil,
    store: Any,
    clock: TestClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = devnet_balance(devnet)
    deadline = int(max(evm.timestamp(), clock())) + 20
    hashes = send_many_from_devnet(devnet, [evm.alice] * 3, timeout_s=deadline)

    async def scenario() -> list[Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path, batch_linger=0.0)
        monkeypatch.setattr(hub.relayer.ctx.bridge(ChainId(DEVNET)), "batch_capacity", lambda: 2)
        try:
            await drive_until(hub, DEVNET, hashes, all_in(S.PROVEN), REFUNDS_ONLY)
            evm.travel(clock, deadline)
            return await drive_until(hub, DEVNET, hashes, all_in(S.REFUNDED), REFUNDS_ONLY)
        finally:
            await hub.close()

    done = asyncio.run(scenario())
    assert devnet_balance(devnet) == before
    assert [devnet_refunds(devnet, t.packet.sequence) for t in done] == [1, 1, 1]
    (batch_id,) = batches_of(store, done, BatchKind.NONDELIVERY)
    journal = store.batch_actions(batch_id)
    assert sorted(journal) == ["refund:0", "refund:1", "store_root"]
    members = store.batch_members(batch_id)
    refunds = [store.action(t.id, Step.REFUND).tx_hash for t in members]
    assert refunds == [journal["refund:0"].tx_hash] * 2 + [journal["refund:1"].tx_hash]


def test_timed_out_anvil_packets_are_refunded_on_anvil_by_one_nondelivery_batch(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    receiver = bytes.fromhex("44" * 20)
    timeout_height = devnet.node.tip.height + 30
    hashes = []
    for _ in range(3):
        receipt = evm.bridge.transact(
            "sendNative", DEVNET, receiver, timeout_height, 0, sender=evm.alice, value=AMOUNT
        )
        hashes.append(bytes.fromhex(receipt.tx_hash.removeprefix("0x")))
    after_send = evm.chain.balance(evm.alice)
    route_key = keccak(DEVNET.encode())
    assert int(evm.bridge.view("escrowed", route_key, ZERO)) == 3 * AMOUNT

    async def scenario() -> list[Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path, batch_linger=0.0)
        try:
            await drive_until(hub, LOCAL_CHAIN, hashes, all_in(S.PROVEN), REFUNDS_ONLY)
            for _ in range(30):
                devnet.node.produce_block()  # the devnet passes the timeout height
            return await drive_until(hub, LOCAL_CHAIN, hashes, all_in(S.REFUNDED), REFUNDS_ONLY)
        finally:
            await hub.close()

    done = asyncio.run(scenario())
    assert {t.route_id for t in done} == {IN}
    assert evm.chain.balance(evm.alice) == after_send + 3 * AMOUNT
    refunds = anvil_events(evm, "TimeoutPacket")
    assert sorted(e.args["sequence"] for e in refunds) == sorted(t.packet.sequence for t in done)
    assert int(evm.bridge.view("escrowed", route_key, ZERO)) == 0
    assert_one_refund_batch(store, done, BatchKind.NONDELIVERY)


def test_a_notary_refuses_a_nondelivery_batch_one_of_whose_packets_was_delivered(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    timeout_height = evm.chain.block_number() + 40
    (delivered_tx,) = send_many_from_devnet(devnet, [evm.alice], timeout_height=timeout_height)

    async def scenario() -> tuple[PjgwError | None, Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path, batch_linger=0.0)
        try:
            (delivered,) = await drive_until(
                hub, DEVNET, [delivered_tx], all_in(S.COMPLETED), ALL_KINDS
            )
            (late_tx,) = send_many_from_devnet(devnet, [evm.alice], timeout_height=timeout_height)
            (late,) = await drive_until(hub, DEVNET, [late_tx], all_in(S.PROVEN), REFUNDS_ONLY)
            evm.mine(45)  # both timeouts passed: only the receipt proof tells them apart
            source = hub.relayer.ctx.bridge(ChainId(DEVNET))
            members = (late, delivered)
            packets = [packet_from_data(t.packet_data) for t in members]
            root = compute_batch_root(
                [source.batch_leaf(p) for p in packets],
                hash_fn=get_hash_function(source.batch_hash_name()),
            )
            work = BatchWork(
                batch_id="ba_forged",
                route_id=OUT,
                source_chain=DEVNET,
                dest_chain=LOCAL_CHAIN,
                kind=BatchKind.NONDELIVERY,
                epoch=source.committee_epoch(),
                root=root,
                members=tuple(item_of(t, "nondelivery") for t in members),
            )
            notary = hub.notaries.members[0][0]
            try:
                await notary.attest_batch(work)
            except PjgwError as err:
                return err, notary.signed_log.count()
            return None, None
        finally:
            await hub.close()

    refused, logged_after = asyncio.run(scenario())
    assert isinstance(refused, BatchMemberRefused)
    assert refused.code == "notary-batch-member-refused"
    assert refused.details["index"] == 1  # the delivered one, named
    assert refused.details["reason"] == "notary-packet-received"
    assert logged_after is not None


def test_a_member_timed_out_before_its_delivery_batchs_quorum_is_refunded_and_the_rest_delivered(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    """The delivery batch gets its quorum after one member's timeout passed: that member is
    left out of the delivery chunk (anvil would refuse the whole chunk for it) and refunded by
    a NONDELIVERY batch; the other is delivered."""
    before = devnet_balance(devnet)
    soon = int(max(evm.timestamp(), clock())) + 20
    nonce = devnet.node.committed_nonce(ALICE_ADDRESS)
    hashes = []
    for i, deadline in enumerate((soon, soon + 3600)):
        args = [LOCAL_CHAIN.encode(), bytes.fromhex(evm.alice[2:]), b"upj", AMOUNT, 0]
        tx = keys.sign_tx(ALICE, DEVNET, nonce + i, "bridge_send", [*args, deadline * 1000])
        hashes.append(devnet.node.submit(tx))
    devnet.node.produce_block()
    nobody = frozenset[str]()

    async def scenario() -> list[Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path, batch_linger=0.0)
        try:
            await drive_until(hub, DEVNET, hashes, all_in(S.PROVEN), nobody)
            evm.travel(clock, soon)  # the first one's timeout passes, unattested

            def first_timed_out(transfers: list[Any]) -> bool:
                return transfers[0].state is S.TIMED_OUT

            await drive_until(hub, DEVNET, hashes, first_timed_out, nobody)
            await hub.notaries.round(frozenset({"delivery"}))  # now the delivery batch's quorum

            def settled(transfers: list[Any]) -> bool:
                return [t.state for t in transfers] == [S.REFUNDED, S.COMPLETED]

            return await drive_until(hub, DEVNET, hashes, settled, ALL_KINDS)
        finally:
            await hub.close()

    late, delivered = asyncio.run(scenario())
    (delivery,) = batches_of(store, [late, delivered], BatchKind.DELIVERY)
    assert store.batch(delivery).size == 2
    assert store.batch(delivery).state is BatchState.DONE
    assert [e.args["sequence"] for e in anvil_events(evm, "RecvPacket")] == [
        delivered.packet.sequence
    ]
    assert devnet_refunds(devnet, late.packet.sequence) == 1
    assert devnet_balance(devnet) == before - AMOUNT
    assert voucher_balance(evm, evm.alice) >= AMOUNT
    assert_one_refund_batch(store, [late], BatchKind.NONDELIVERY)


# --- ERROR_ACK batches -----------------------------------------------------------------------


def test_packets_anvil_refuses_in_a_delivery_batch_are_refunded_on_the_devnet_by_an_error_ack(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    """Four packets in one delivery batch: two land; a voucher that refuses to mint to the
    zero address and a message receiver that reverts fail alone on anvil, and both are
    refunded on the devnet by one ERROR_ACK batch."""
    receiver = evm.chain.deploy("ExampleMessageReceiver", evm.bridge.address, sender=evm.admin)
    receiver.transact("setRejecting", True, sender=evm.admin)
    balance, escrow, supply = devnet_balance(devnet), devnet_escrow(devnet), voucher_supply(evm)
    hashes = send_many_from_devnet(
        devnet,
        [evm.alice, ZERO, evm.alice],
        timeout_height=evm.chain.block_number() + 10_000,
        message_to=[receiver.address],
    )
    assert devnet_escrow(devnet) == escrow + 3 * AMOUNT

    def settled(transfers: list[Any]) -> bool:
        wanted = [S.COMPLETED, S.REFUNDED, S.COMPLETED, S.REFUNDED]
        return [t.state for t in transfers] == wanted

    async def scenario() -> tuple[list[Any], PjgwError | None]:
        hub = Hub(store, devnet, evm, clock, tmp_path, batch_linger=0.0)
        try:
            done = await drive_until(hub, DEVNET, hashes, settled, ALL_KINDS)
            # a notary asked to error-ack a member that did NOT fail refuses, naming it
            ok, failed = done[0], done[1]
            receive = store.action(ok.id, Step.ACK).payload
            wrong = FailedAt(
                int(receive["height"]),
                bytes.fromhex(str(receive["tx_hash"])[2:]),
                tuple(receive["position"]),
            )
            right = FailedAt.from_json(store.action(failed.id, Step.FAILED).payload)
            source = hub.relayer.ctx.bridge(ChainId(DEVNET))
            packets = [packet_from_data(t.packet_data) for t in (failed, ok)]
            work = BatchWork(
                batch_id="ba_forged_ack",
                route_id=OUT,
                source_chain=DEVNET,
                dest_chain=LOCAL_CHAIN,
                kind=BatchKind.ERROR_ACK,
                epoch=source.committee_epoch(),
                root=compute_batch_root(
                    [source.batch_leaf(p) for p in packets],
                    hash_fn=get_hash_function(source.batch_hash_name()),
                ),
                members=(item_of(failed, failed_at=right), item_of(ok, failed_at=wrong)),
            )
            try:
                await hub.notaries.members[0][0].attest_batch(work)
            except PjgwError as err:
                return done, err
            return done, None
        finally:
            await hub.close()

    done, refused = asyncio.run(scenario())
    ok_one, failed, ok_two, message = done
    # the chains: two delivered, one received-and-failed on anvil then refunded on the devnet
    assert sorted(e.args["sequence"] for e in anvil_events(evm, "RecvPacket")) == sorted(
        [ok_one.packet.sequence, ok_two.packet.sequence]
    )
    failures = {e.args["sequence"]: e.args["reason"] for e in anvil_events(evm, "PacketFailed")}
    assert sorted(failures) == sorted([failed.packet.sequence, message.packet.sequence])
    assert b"ERC20: mint to zero address" in failures[failed.packet.sequence]
    assert b"message receiver rejected the packet" in failures[message.packet.sequence]
    assert receiver.view("messageCount") == 0
    assert devnet_refunds(devnet, failed.packet.sequence) == 1
    assert devnet_refunds(devnet, message.packet.sequence) == 1
    assert devnet_refunds(devnet, ok_one.packet.sequence) == 0
    # conservation read from the chains: what left alice is escrowed once per voucher minted
    assert devnet_balance(devnet) == balance - 2 * AMOUNT
    assert devnet_escrow(devnet) == escrow + 2 * AMOUNT
    assert voucher_supply(evm) == supply + 2 * AMOUNT
    assert voucher_balance(evm, evm.alice) >= 2 * AMOUNT
    # the hub: one delivery batch, the failed member in one ERROR_ACK batch
    (delivery,) = batches_of(store, done, BatchKind.DELIVERY)
    assert store.batch(delivery).state is BatchState.DONE
    assert_one_refund_batch(store, [failed, message], BatchKind.ERROR_ACK)
    assert [h.state for h in store.history(failed.id)][-2:] == [S.DEST_SUBMITTED, S.REFUNDED]
    assert store.action(failed.id, Step.FAILED).payload["tx_hash"] == "0x" + failed.dest_tx.hex()
    assert S.TIMED_OUT not in [h.state for h in store.history(failed.id)]
    # the forged error-ack: the whole batch refused, the member that did not fail named
    assert isinstance(refused, BatchMemberRefused)
    assert refused.details["index"] == 1
    assert refused.details["reason"] == "notary-packet-not-failed"


def test_a_packet_the_devnet_refuses_in_a_delivery_batch_is_refunded_on_anvil_by_an_error_ack(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    """anvil -> devnet: a receiver of 19 bytes is no devnet address, so the devnet marks that
    packet received and failed (``packet_failed``) and delivers the two others."""
    route_key = keccak(DEVNET.encode())
    escrow_before = int(evm.bridge.view("escrowed", route_key, ZERO))
    supply_before = devnet_supply(devnet)
    timeout_height = devnet.node.tip.height + 10_000
    hashes = []
    for receiver in (b"\x44" * 20, b"\x45" * 19, b"\x46" * 20):
        receipt = evm.bridge.transact(
            "sendNative", DEVNET, receiver, timeout_height, 0, sender=evm.alice, value=AMOUNT
        )
        hashes.append(bytes.fromhex(receipt.tx_hash.removeprefix("0x")))
    after_send = evm.chain.balance(evm.alice)

    def settled(transfers: list[Any]) -> bool:
        return [t.state for t in transfers] == [S.COMPLETED, S.REFUNDED, S.COMPLETED]

    async def scenario() -> list[Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path, batch_linger=0.0)
        try:
            return await drive_until(hub, LOCAL_CHAIN, hashes, settled, ALL_KINDS)
        finally:
            await hub.close()

    ok_one, failed, ok_two = asyncio.run(scenario())
    tip = devnet.node.tip.height
    found = devnet.node.query_events(1, tip, "packet_failed", None, 1000)["events"]  # type: ignore[index]
    assert [int(e["attributes"]["sequence"]) for e in found] == [failed.packet.sequence]
    (refund,) = anvil_events(evm, "TimeoutPacket")
    assert refund.args["sequence"] == failed.packet.sequence
    # conservation read from the chains: the refused amount went back to alice on anvil
    assert evm.chain.balance(evm.alice) == after_send + AMOUNT
    assert int(evm.bridge.view("escrowed", route_key, ZERO)) == escrow_before + 2 * AMOUNT
    assert devnet_supply(devnet) == supply_before + 2 * AMOUNT
    assert_one_refund_batch(store, [failed], BatchKind.ERROR_ACK)
    assert {ok_one.route_id, ok_two.route_id} == {IN}


def devnet_supply(devnet: InProcessDevnet) -> int:
    """``anvil/native`` vouchers outstanding on the devnet."""
    return int(devnet.node.query_supply(f"{LOCAL_CHAIN}/native".encode())["supply"])  # type: ignore[arg-type]


# --- crash safety -----------------------------------------------------------------------------


@pytest.mark.parametrize("after_send", [False, True], ids=["before-send", "after-send"])
def test_a_relayer_killed_around_a_refund_chunk_refunds_each_packet_once(
    devnet: InProcessDevnet,
    evm: Anvil,
    store: Any,
    clock: TestClock,
    tmp_path: Path,
    after_send: bool,
) -> None:
    class Dies(PujiangAdapter):
        async def submit(self, action: ChainAction) -> bytes:
            if action.kind != "bridge_refund_batch":
                return await super().submit(action)
            if after_send:
                await super().submit(action)
            raise Crash(f"killed {'after sending' if after_send else 'before sending'} a chunk")

    before = devnet_balance(devnet)
    deadline = int(max(evm.timestamp(), clock())) + 20
    hashes = send_many_from_devnet(devnet, [evm.alice] * 3, timeout_s=deadline)

    async def first_life() -> None:
        adapters = adapters_for(devnet, evm, signer=True)
        await adapters[ChainId(DEVNET)].aclose()
        adapters[ChainId(DEVNET)] = Dies(
            pujiang_settings(devnet, signer=True), transport=devnet.transport
        )
        hub = Hub(
            store, devnet, evm, clock, tmp_path / "first", adapters=adapters, batch_linger=0.0
        )
        try:
            await drive_until(hub, DEVNET, hashes, all_in(S.PROVEN), REFUNDS_ONLY)
            evm.travel(clock, deadline)
            with pytest.raises(Crash):
                await drive_until(hub, DEVNET, hashes, all_in(S.REFUNDED), REFUNDS_ONLY)
        finally:
            await hub.close()

    asyncio.run(first_life())
    devnet.node.produce_block()  # a chunk sent before the crash lands
    found = [store.transfer_by_source_tx(ChainId(DEVNET), h) for h in hashes]
    assert {t.state for t in found} == {S.TIMED_OUT}
    (batch_id,) = batches_of(store, found, BatchKind.NONDELIVERY)
    assert store.batch_actions(batch_id)["refund:0"].status is ActionStatus.RECORDED
    expected = 1 if after_send else 0
    assert [devnet_refunds(devnet, t.packet.sequence) for t in found] == [expected] * 3

    async def second_life() -> list[Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path / "second", batch_linger=0.0)
        try:
            return await drive_until(hub, DEVNET, hashes, all_in(S.REFUNDED), REFUNDS_ONLY)
        finally:
            await hub.close()

    done = asyncio.run(second_life())
    for _ in range(3):
        devnet.node.produce_block()
    assert [devnet_refunds(devnet, t.packet.sequence) for t in done] == [1, 1, 1]
    assert devnet_balance(devnet) == before
    assert store.batch(batch_id).state is BatchState.DONE
    assert store.batch_actions(batch_id)["refund:0"].status is ActionStatus.SUCCEEDED
