"""Messages both ways, each delivered to the other side's receiver, with its acknowledgement.

devnet ``bridge_send_message`` -> ``ExampleMessageReceiver`` on anvil;
anvil ``Bridge.sendMessage`` -> the devnet inbox (``inbox/<receiver>/<source>/<seq>``).
The acknowledgement is the destination's receive event, recorded by the
relayer as the transfer's ``ack`` action (``docs/relayer.md``,
"Acknowledgements"); each test compares it with the event read from the chain.
"""

from __future__ import annotations

import asyncio
from typing import Any

from core.ids import ChainId
from core.records import ActionStatus, RouteProtocol
from core.states import TransferState
from devnet.state import inbox_key
from relayer.protocols.notary import ACK, NotaryProtocol, _Send
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.flows.conservation import NATIVE, Asset, check_conservation
from tests.flows.helpers import Flows, close


def every_asset(flows: Flows) -> list[Asset]:
    return [Asset(DEVNET_CHAIN, "upj"), Asset(LOCAL_CHAIN, NATIVE), flows.token_asset()]


def recv_logs(flows: Flows) -> list[Any]:
    """The anvil bridge's ``RecvPacket`` events, decoded from ``eth_getLogs``."""
    logs = flows.evm.chain.call(
        "eth_getLogs",
        {"address": flows.evm.bridge.address, "fromBlock": hex(flows.anvil_start)},
    )
    return [e for e in flows.evm.chain._decode_logs(logs) if e.name == "RecvPacket"]


def test_a_devnet_message_reaches_the_anvil_receiver_and_its_receive_event_is_the_ack(
    flows: Flows,
) -> None:
    payload = b"hello anvil from the devnet"
    receiver = flows.receiver
    tx_hash = flows.devnet_message(bytes.fromhex(receiver.address[2:]), payload)

    done = flows.run(DEVNET_CHAIN, tx_hash)
    assert int(receiver.view("messageCount")) == 1
    source, sequence, sender, got = receiver.view("messageAt", 0)
    assert (source, sequence, got) == (DEVNET_CHAIN, done.packet.sequence, payload)
    assert sender == flows.alice_devnet

    (recv,) = recv_logs(flows)
    ack = flows.store.action(done.id, ACK)
    assert ack.status is ActionStatus.SUCCEEDED
    assert ack.tx_hash == done.dest_tx
    assert ack.payload["packet_hash"] == "0x" + recv.args["packetHash"].hex()
    receipt = flows.evm.chain.call("eth_getTransactionReceipt", "0x" + done.dest_tx.hex())
    assert ack.height == int(receipt["blockNumber"], 16)
    assert "acknowledged by its receive event" in done.reason
    check_conservation(*flows.views(), every_asset(flows))


def test_an_anvil_message_reaches_the_devnet_inbox_and_its_receive_event_is_the_ack(
    flows: Flows,
) -> None:
    payload = b"hello devnet from anvil"
    inbox_owner = bytes.fromhex("ab" * 20)
    sent = flows.evm.bridge.transact(
        "sendMessage",
        DEVNET_CHAIN,
        inbox_owner,
        payload,
        0,
        flows.anvil_deadline_s(),
        sender=flows.evm.alice,
    )

    done = flows.run(LOCAL_CHAIN, flows.anvil_tx_hash(sent))
    assert done.state is TransferState.COMPLETED
    key = inbox_key(inbox_owner, LOCAL_CHAIN.encode(), done.packet.sequence)
    assert flows.devnet.node.state_value(key) == payload

    tx = flows.devnet.node.query_tx(done.dest_tx)
    (recv,) = [e for e in tx["events"] if e["kind"] == "recv_packet"]
    ack = flows.store.action(done.id, ACK)
    assert ack.status is ActionStatus.SUCCEEDED
    assert (ack.tx_hash, ack.height) == (done.dest_tx, tx["height"])
    assert ack.payload["position"] == [recv["index"]]
    assert ack.payload["height"] == recv["height"]
    assert "packet_hash" not in ack.payload  # the devnet's receive event carries no hash
    check_conservation(*flows.views(), every_asset(flows))


def test_a_delivery_sent_before_a_crash_is_acknowledged_by_its_receive_event_on_restart(
    flows: Flows,
) -> None:
    receiver = flows.receiver
    tx_hash = flows.devnet_message(bytes.fromhex(receiver.address[2:]), b"crash then find")

    async def deliver_then_die() -> bytes:
        relayer = flows.relayer("relayer-crashing", steps_per_claim=1, attestation="packet")
        try:
            t = await flows.drive(relayer, DEVNET_CHAIN, tx_hash, TransferState.ATTESTED)
            protocol = relayer._protocols[RouteProtocol.NOTARY]
            assert isinstance(protocol, NotaryProtocol)
            prepared = await protocol.prepare_delivery(flows.store.route(t.route_id), t)
            assert isinstance(prepared, _Send)
            dest = relayer.adapters[ChainId(LOCAL_CHAIN)]
            sent: bytes = await dest.submit(prepared.chain_action)  # type: ignore[attr-defined]
            await dest.wait_receipt(sent)  # type: ignore[attr-defined]
            return sent  # ... and the process dies before marking anything
        finally:
            await close(relayer)

    sent = asyncio.run(deliver_then_die())
    done = flows.run(DEVNET_CHAIN, tx_hash)
    ack = flows.store.action(done.id, ACK)
    assert ack.tx_hash == sent
    (recv,) = recv_logs(flows)
    assert ack.payload["packet_hash"] == "0x" + recv.args["packetHash"].hex()
    assert int(receiver.view("messageCount")) == 1
    check_conservation(*flows.views(), every_asset(flows))
