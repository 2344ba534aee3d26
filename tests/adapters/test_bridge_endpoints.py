"""Bridge endpoints (``adapter.bridge()``) against a real devnet node, and their pure rules.

The devnet runs in-process (its ASGI app over ``httpx.ASGITransport``); every
packet here is sent or delivered by real transactions in real blocks. The
cross-family round trips (devnet <-> anvil) are in ``tests/evm/test_bridge_endpoint.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from adapters.evm.bridge import EvmBridge, from_evm_packet, to_evm_packet
from adapters.evm.certificate import BridgeDomain, compute_packet_digest
from adapters.pujiang import PujiangAdapter, PujiangSettings
from adapters.pujiang.bridge import to_wire_packet
from core.errors import InvalidInput
from core.ids import ChainId
from core.seams import BridgeEndpoint
from core.types import ChainEvent, EventKind, Packet, TxReceipt
from devnet import keys
from devnet.state import packet_key
from proofs.notary.ecdsa import sign
from proofs.pujiang import codec
from tests.fixtures.devnet import CHAIN_ID, DEVNET_SEED, InProcessDevnet, account_seed

T = TypeVar("T")

RELAYER = 1  # bob signs deliveries
ALICE = 0
OTHER = ChainId("anvil-31337")
NOTARY_KEYS = [bytes(keys.notary_key(DEVNET_SEED, i).secret) for i in range(3)]
NOTARIES = ["0x" + keys.notary_address(keys.notary_key(DEVNET_SEED, i)).hex() for i in range(3)]


def adapter_for(devnet: InProcessDevnet) -> PujiangAdapter:
    settings = PujiangSettings(
        url=devnet.url,
        chain_id=CHAIN_ID,
        insecure_plaintext_key=True,
        relayer_key=account_seed(RELAYER).hex(),
        retry_attempts=1,
        committee_threshold=2,
        committee=tuple(NOTARIES),
    )
    return PujiangAdapter(settings, transport=devnet.transport)


def run(devnet: InProcessDevnet, call: Callable[[PujiangAdapter], Awaitable[T]]) -> T:
    async def go() -> T:
        async with adapter_for(devnet) as adapter:
            return await call(adapter)

    return asyncio.run(go())


def certify(digest: bytes, count: int = 2) -> list[bytes]:
    return [sign(key, digest) for key in NOTARY_KEYS[:count]]


def send_from_devnet(devnet: InProcessDevnet, **kw: int) -> tuple[int, bytes]:
    """Alice sends 1000 upj to the other chain; ``(height, tx_hash)`` of the committed send."""
    alice = keys.account_key(DEVNET_SEED, ALICE)
    address = codec.compute_address(bytes(alice.verify_key))
    args = [
        str(OTHER).encode(),
        b"\x42" * 20,
        b"upj",
        1000,
        kw.get("timeout_height", 0),
        kw.get("timeout_time_ms", (int(time.time()) + 3600) * 1000),
    ]
    tx = keys.sign_tx(alice, CHAIN_ID, devnet.node.committed_nonce(address), "bridge_send", args)
    tx_hash = devnet.node.submit(tx)
    tip = devnet.node.produce_block()
    return tip.height, tx_hash


async def events_of(adapter: PujiangAdapter, height: int, tx_hash: bytes) -> list[ChainEvent]:
    return [e for e in await adapter.events(height, height) if e.tx_hash == tx_hash]


async def submit_and_commit(
    devnet: InProcessDevnet, adapter: PujiangAdapter, action: Any
) -> TxReceipt:
    tx_hash = await adapter.submit(action)
    devnet.node.produce_block()
    return await adapter.receipt(tx_hash)


def inbound(sequence: int, **changes: object) -> Packet:
    packet = Packet(
        source_chain=OTHER,
        dest_chain=ChainId(CHAIN_ID),
        sequence=sequence,
        sender=b"\x11" * 20,
        receiver=b"\x22" * 20,
        denom="native",
        amount=7,
        timeout_time_ms=(int(time.time()) + 3600) * 1000,
    )
    return dataclasses.replace(packet, **changes)


# --- against the devnet -----------------------------------------------------------------


def test_pujiang_bridge_is_a_bridge_endpoint_with_the_configured_committee(
    devnet_node: InProcessDevnet,
) -> None:
    bridge = adapter_for(devnet_node).bridge()
    assert isinstance(bridge, BridgeEndpoint)
    assert bridge.committee() == (2, tuple(NOTARIES))


def test_packet_of_reads_a_devnet_send_as_the_packet_the_chain_committed(
    devnet_node: InProcessDevnet,
) -> None:
    deadline = (int(time.time()) + 600) * 1000
    height, tx_hash = send_from_devnet(devnet_node, timeout_time_ms=deadline)

    async def read(adapter: PujiangAdapter) -> tuple[Packet, ChainEvent]:
        (event,) = await events_of(adapter, height, tx_hash)
        return adapter.bridge().packet_of(event), event

    packet, event = run(devnet_node, read)
    alice = keys.account_key(DEVNET_SEED, ALICE)
    assert event.kind is EventKind.SEND_PACKET
    assert packet.source_chain == CHAIN_ID
    assert packet.dest_chain == OTHER
    assert packet.sender == codec.compute_address(bytes(alice.verify_key))
    assert (packet.denom, packet.amount, packet.receiver) == ("upj", 1000, b"\x42" * 20)
    assert (packet.timeout_height, packet.timeout_time_ms) == (0, deadline)
    # the chain's commitment of the packet is the hash of the wire packet rebuilt from it
    commitment = devnet_node.node.state_value(packet_key(str(OTHER).encode(), packet.sequence))
    assert commitment == codec.SHA256(codec.encode(to_wire_packet(packet)))


def test_packet_of_refuses_an_event_that_is_not_a_send(devnet_node: InProcessDevnet) -> None:
    bridge = adapter_for(devnet_node).bridge()
    other = ChainEvent(ChainId(CHAIN_ID), 1, EventKind.RECEIVE_PACKET, b"", (0,), {})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        bridge.packet_of(other)


def test_deliver_action_with_a_quorum_over_the_delivery_digest_is_accepted_on_chain(
    devnet_node: InProcessDevnet,
) -> None:
    packet = inbound(sequence=101)

    async def deliver(adapter: PujiangAdapter) -> tuple[TxReceipt, bool]:
        bridge = adapter.bridge()
        action = bridge.deliver_action(packet, certify(bridge.delivery_digest(packet)))
        receipt = await submit_and_commit(devnet_node, adapter, action)
        assert receipt.height is not None
        events = await events_of(adapter, receipt.height, receipt.tx_hash)
        return receipt, any(bridge.is_delivered_event(e, packet) for e in events)

    receipt, delivered = run(devnet_node, deliver)
    assert receipt.success is True
    assert delivered
    assert devnet_node.node.balance(packet.receiver, f"{OTHER}/native") == 7


def test_deliver_action_with_a_certificate_over_another_digest_is_rejected_on_chain(
    devnet_node: InProcessDevnet,
) -> None:
    packet = inbound(sequence=102)

    async def deliver(adapter: PujiangAdapter) -> TxReceipt:
        bridge = adapter.bridge()
        wrong = bridge.delivery_digest(dataclasses.replace(packet, amount=8))
        return await submit_and_commit(
            devnet_node, adapter, bridge.deliver_action(packet, certify(wrong))
        )

    receipt = run(devnet_node, deliver)
    assert receipt.success is False
    assert receipt.reason.startswith("bad-certificate")


def test_refund_action_with_a_nondelivery_quorum_refunds_the_sender(
    devnet_node: InProcessDevnet,
) -> None:
    # height-only timeout: the source refunds on the certificate alone (docs/pujiang-chain.md)
    height, tx_hash = send_from_devnet(devnet_node, timeout_height=5, timeout_time_ms=0)
    alice = keys.account_key(DEVNET_SEED, ALICE)
    address = codec.compute_address(bytes(alice.verify_key))

    async def refund(adapter: PujiangAdapter) -> tuple[int, TxReceipt, TxReceipt]:
        bridge = adapter.bridge()
        (event,) = await events_of(adapter, height, tx_hash)
        packet = bridge.packet_of(event)
        before = devnet_node.node.balance(address, "upj")
        wrong = certify(bridge.nondelivery_digest(dataclasses.replace(packet, amount=1)))
        refused = await submit_and_commit(devnet_node, adapter, bridge.refund_action(packet, wrong))
        good = certify(bridge.nondelivery_digest(packet))
        done = await submit_and_commit(devnet_node, adapter, bridge.refund_action(packet, good))
        return before, refused, done

    before, refused, done = run(devnet_node, refund)
    assert refused.success is False
    assert refused.reason.startswith("bad-certificate")
    assert done.success is True
    assert devnet_node.node.balance(address, "upj") == before + 1000


def test_digests_refuse_a_packet_of_another_route_end(devnet_node: InProcessDevnet) -> None:
    bridge = adapter_for(devnet_node).bridge()
    outbound = inbound(1, source_chain=ChainId(CHAIN_ID), dest_chain=OTHER)
    with pytest.raises(InvalidInput):
        bridge.delivery_digest(outbound)  # this chain is not its destination
    with pytest.raises(InvalidInput):
        bridge.nondelivery_digest(inbound(1))  # nor the source of an inbound one


# --- the EVM endpoint's conversions (pure) ------------------------------------------------


DOMAIN = BridgeDomain(31337, "0x" + "ab" * 20)


def test_evm_packet_conversion_round_trips_whole_seconds() -> None:
    packet = inbound(
        3, source_chain=ChainId(CHAIN_ID), dest_chain=OTHER, timeout_time_ms=1_700_000_000_000
    )
    evm = to_evm_packet(packet)
    assert evm.timeout_timestamp == 1_700_000_000
    assert from_evm_packet(evm) == packet


def test_evm_endpoint_refuses_a_timeout_that_is_not_a_whole_second() -> None:
    bridge = EvmBridge(OTHER, DOMAIN)
    packet = inbound(
        3, source_chain=ChainId(CHAIN_ID), dest_chain=OTHER, timeout_time_ms=1_700_000_000_001
    )
    with pytest.raises(InvalidInput, match="whole second"):
        bridge.delivery_digest(packet)


def test_evm_delivery_digest_is_the_contracts_eip712_packet_digest() -> None:
    bridge = EvmBridge(OTHER, DOMAIN)
    packet = inbound(3, source_chain=ChainId(CHAIN_ID), dest_chain=OTHER)
    assert bridge.delivery_digest(packet) == compute_packet_digest(DOMAIN, to_evm_packet(packet))


def test_evm_deliver_action_orders_signatures_by_signer_address() -> None:
    bridge = EvmBridge(OTHER, DOMAIN, 2, NOTARIES)
    packet = inbound(3, source_chain=ChainId(CHAIN_ID), dest_chain=OTHER)
    digest = bridge.delivery_digest(packet)
    signatures = certify(digest, 3)
    action = bridge.deliver_action(packet, list(reversed(signatures)))
    ordered = action.payload["args"][1]  # type: ignore[index]
    by_address = [
        s for _, s in sorted(zip(NOTARIES, signatures, strict=True), key=lambda p: int(p[0], 16))
    ]
    assert action.kind == "bridge.receivePacket"
    assert ordered == by_address
    assert action.idempotency_key.endswith(f"{CHAIN_ID}/{OTHER}/3")
