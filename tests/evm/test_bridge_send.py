"""Bridge, outbound: locks emit SendPacket with a per-route sequence and record escrow."""

from __future__ import annotations

from eth_hash.auto import keccak

from adapters.evm.certificate import Packet, compute_packet_hash
from tests.fixtures.anvil import LOCAL_CHAIN, REMOTE_CHAIN, Env

ROUTE = keccak(REMOTE_CHAIN.encode())
ETHER = 10**18
NATIVE = "0x" + "00" * 20


def _sent_packet(receipt_events: list) -> Packet:
    (event,) = [e for e in receipt_events if e.name == "SendPacket"]
    return Packet.from_abi(event.args["packet"])


def test_send_native_emits_packets_with_increasing_sequence_per_route(env: Env) -> None:
    deadline = env.chain.timestamp() + 3600
    first = env.bridge.transact(
        "sendNative", REMOTE_CHAIN, b"pj1-bob", 0, deadline, sender=env.alice, value=ETHER
    )
    second = env.bridge.transact(
        "sendNative", REMOTE_CHAIN, b"pj1-bob", 500, 0, sender=env.bob, value=2 * ETHER
    )
    other_route = env.bridge.transact(
        "sendNative", "cosmos-hub", b"cosmos1xyz", 0, deadline, sender=env.alice, value=ETHER
    )

    packet = _sent_packet(first.events)
    assert packet == Packet(
        sequence=1,
        source_chain=LOCAL_CHAIN,
        dest_chain=REMOTE_CHAIN,
        sender=bytes.fromhex(env.alice[2:]),
        receiver=b"pj1-bob",
        denom="native",
        amount=ETHER,
        payload=b"",
        timeout_height=0,
        timeout_timestamp=deadline,
    )
    (event,) = first.named("SendPacket")
    assert event.args["destChain"] == ROUTE  # indexed string: its hash
    assert event.args["sequence"] == 1
    assert event.args["sender"].lower() == env.alice.lower()
    assert _sent_packet(second.events).sequence == 2
    assert _sent_packet(second.events).timeout_height == 500
    assert _sent_packet(other_route.events).sequence == 1
    assert env.bridge.view("lastSequence", ROUTE) == 2
    assert env.bridge.view("commitments", ROUTE, 1) == compute_packet_hash(packet)
    assert env.bridge.view("escrowed", ROUTE, NATIVE) == 3 * ETHER
    assert env.chain.balance(env.bridge.address) == 4 * ETHER


def test_send_token_locks_it_in_escrow_and_shares_the_route_sequence(env: Env) -> None:
    deadline = env.chain.timestamp() + 3600
    env.bridge.transact(
        "sendNative", REMOTE_CHAIN, b"pj1-bob", 0, deadline, sender=env.alice, value=1
    )
    env.token.transact("approve", env.bridge.address, 700, sender=env.alice)
    before = env.token.view("balanceOf", env.alice)

    receipt = env.bridge.transact(
        "sendToken", env.token.address, 700, REMOTE_CHAIN, b"pj1-bob", 0, deadline, sender=env.alice
    )

    packet = _sent_packet(receipt.events)
    assert packet.sequence == 2
    assert packet.denom == env.token.address.lower()
    assert packet.amount == 700
    assert env.token.view("balanceOf", env.alice) == before - 700
    assert env.token.view("balanceOf", env.bridge.address) == 700
    assert env.bridge.view("escrowed", ROUTE, env.token.address) == 700
    assert (
        env.bridge.view("baseTokenOf", keccak(packet.denom.encode())).lower() == env.token.address
    )


def test_send_message_carries_the_payload(env: Env) -> None:
    deadline = env.chain.timestamp() + 3600
    receipt = env.bridge.transact(
        "sendMessage", REMOTE_CHAIN, b"pj1-contract", b"\x01hello", 0, deadline, sender=env.bob
    )
    packet = _sent_packet(receipt.events)
    assert (packet.denom, packet.amount, packet.payload) == ("", 0, b"\x01hello")


def test_send_without_timeout_is_rejected(env: Env) -> None:
    reason = env.bridge.revert_reason(
        "sendNative", REMOTE_CHAIN, b"pj1-bob", 0, 0, sender=env.alice, value=1
    )
    assert reason == "Bridge: no timeout set"


def test_send_to_this_chain_is_rejected(env: Env) -> None:
    reason = env.bridge.revert_reason(
        "sendNative", LOCAL_CHAIN, b"x", 0, 10**10, sender=env.alice, value=1
    )
    assert reason == "Bridge: invalid destination chain"


def test_send_of_nothing_is_rejected(env: Env) -> None:
    native = env.bridge.revert_reason("sendNative", REMOTE_CHAIN, b"x", 0, 10**10, sender=env.alice)
    token = env.bridge.revert_reason(
        "sendToken", env.token.address, 0, REMOTE_CHAIN, b"x", 0, 10**10, sender=env.alice
    )
    message = env.bridge.revert_reason(
        "sendMessage", REMOTE_CHAIN, b"x", b"", 0, 10**10, sender=env.alice
    )
    assert (native, token, message) == (
        "Bridge: amount is zero",
        "Bridge: amount is zero",
        "Bridge: empty payload",
    )
