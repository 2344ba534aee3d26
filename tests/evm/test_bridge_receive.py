"""Bridge, inbound: a certified packet mints, releases or delivers; every bad certificate fails.

The malleate table starts from one valid (packet, certificate) and breaks one
thing per row; each row is sent as a real transaction that must fail on-chain,
and the contract's reason is asserted exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from eth_hash.auto import keccak

from adapters.evm.certificate import (
    SECP256K1_N,
    BridgeDomain,
    Packet,
    compute_not_delivered_digest,
    compute_packet_digest,
    compute_packet_hash,
)
from tests.fixtures.anvil import CHAIN_ID, LOCAL_CHAIN, REMOTE_CHAIN, THRESHOLD, Env, make_committee

ETHER = 10**18
SOURCE = keccak(REMOTE_CHAIN.encode())


def _receive(env: Env, packet: Packet, certificate: list[bytes] | None = None):
    if certificate is None:
        certificate = env.certify(compute_packet_digest(env.domain, packet))
    return env.bridge.transact("receivePacket", packet.as_abi(), certificate, sender=env.relayer)


def _voucher(env: Env, path: str):
    address = env.bridge.view("voucherOf", keccak(path.encode()))
    return env.chain.at("WrappedToken", address)


def test_receive_mints_a_voucher_for_the_denomination_path(env: Env) -> None:
    packet = env.inbound()
    receipt = _receive(env, packet)

    voucher = _voucher(env, "pujiang-main/uusd")
    (created,) = receipt.named("VoucherCreated")
    assert created.args["token"].lower() == voucher.address
    (received,) = receipt.named("RecvPacket")
    assert received.args["sequence"] == 1
    assert received.args["packetHash"] == compute_packet_hash(packet)
    assert Packet.from_abi(received.args["packet"]) == packet
    assert voucher.view("balanceOf", env.alice) == 1_000
    assert voucher.view("denomPath") == "pujiang-main/uusd"
    assert voucher.view("bridge").lower() == env.bridge.address
    assert env.bridge.view("isVoucher", voucher.address)
    assert env.bridge.view("received", SOURCE, 1)

    again = _receive(env, env.inbound(sequence=2, amount=5))
    assert again.named("VoucherCreated") == []
    assert voucher.view("totalSupply") == 1_005


def test_receive_of_a_returning_native_coin_releases_the_route_escrow(env: Env) -> None:
    deadline = env.chain.timestamp() + 3600
    env.bridge.transact(
        "sendNative", REMOTE_CHAIN, b"pj1", 0, deadline, sender=env.alice, value=5 * ETHER
    )
    bob_before = env.chain.balance(env.bob)

    packet = env.inbound(
        denom=f"{LOCAL_CHAIN}/native", amount=2 * ETHER, receiver=bytes.fromhex(env.bob[2:])
    )
    _receive(env, packet)

    assert env.chain.balance(env.bob) == bob_before + 2 * ETHER
    assert env.bridge.view("escrowed", SOURCE, "0x" + "00" * 20) == 3 * ETHER
    assert env.chain.balance(env.bridge.address) == 3 * ETHER


def test_receive_of_a_returning_token_releases_the_route_escrow(env: Env) -> None:
    deadline = env.chain.timestamp() + 3600
    env.token.transact("approve", env.bridge.address, 900, sender=env.alice)
    env.bridge.transact(
        "sendToken", env.token.address, 900, REMOTE_CHAIN, b"pj1", 0, deadline, sender=env.alice
    )
    bob_before = env.token.view("balanceOf", env.bob)

    packet = env.inbound(
        denom=f"{LOCAL_CHAIN}/{env.token.address}", amount=600, receiver=bytes.fromhex(env.bob[2:])
    )
    _receive(env, packet)

    assert env.token.view("balanceOf", env.bob) == bob_before + 600
    assert env.bridge.view("escrowed", SOURCE, env.token.address) == 300


def test_receive_cannot_release_more_than_the_route_escrow(env: Env) -> None:
    deadline = env.chain.timestamp() + 3600
    env.bridge.transact(
        "sendNative", "cosmos-hub", b"c", 0, deadline, sender=env.alice, value=ETHER
    )
    packet = env.inbound(denom=f"{LOCAL_CHAIN}/native", amount=1)  # escrow is on another route
    certificate = env.certify(compute_packet_digest(env.domain, packet))
    reason = env.bridge.revert_reason(
        "receivePacket", packet.as_abi(), certificate, sender=env.relayer
    )
    assert reason == "Bridge: amount exceeds the route's escrow"


def test_receive_delivers_a_message_to_the_receiver_contract(env: Env) -> None:
    packet = env.inbound(
        denom="", amount=0, payload=b"ping", receiver=bytes.fromhex(env.receiver.address[2:])
    )
    receipt = _receive(env, packet)

    assert env.receiver.view("messageCount") == 1
    assert env.receiver.view("messageAt", 0) == (REMOTE_CHAIN, 1, packet.sender, b"ping")
    (delivered,) = receipt.named("MessageReceived")
    assert delivered.args["payload"] == b"ping"


def test_receive_of_a_message_the_receiver_refuses_reverts_whole(env: Env) -> None:
    env.receiver.transact("setRejecting", True, sender=env.admin)
    packet = env.inbound(
        denom="", amount=0, payload=b"ping", receiver=bytes.fromhex(env.receiver.address[2:])
    )
    certificate = env.certify(compute_packet_digest(env.domain, packet))
    reason = env.bridge.revert_reason(
        "receivePacket", packet.as_abi(), certificate, sender=env.relayer
    )
    assert reason == "Bridge: message receiver rejected the packet"
    assert not env.bridge.view("received", SOURCE, 1)


# --------------------------------------------------------------- malleate table

Case = Callable[[Env], tuple[Packet, list[bytes]]]


def _valid(env: Env) -> tuple[Packet, list[bytes]]:
    packet = env.inbound()
    return packet, env.certify(compute_packet_digest(env.domain, packet))


def _too_few(env: Env) -> tuple[Packet, list[bytes]]:
    packet = env.inbound()
    return packet, env.certify(
        compute_packet_digest(env.domain, packet), env.committee[: THRESHOLD - 1]
    )


def _duplicate(env: Env) -> tuple[Packet, list[bytes]]:
    packet, certificate = _valid(env)
    return packet, [certificate[0], certificate[0], certificate[1]]


def _unordered(env: Env) -> tuple[Packet, list[bytes]]:
    packet, certificate = _valid(env)
    return packet, certificate[::-1]


def _non_member(env: Env) -> tuple[Packet, list[bytes]]:
    packet = env.inbound()
    outsiders = make_committee("outsider", 1)
    signers = sorted([*env.committee[:2], *outsiders], key=lambda n: int(n.address, 16))
    return packet, env.certify(compute_packet_digest(env.domain, packet), signers)


def _wrong_chain_id(env: Env) -> tuple[Packet, list[bytes]]:
    packet = env.inbound()
    domain = BridgeDomain(CHAIN_ID + 1, env.bridge.address)
    return packet, env.certify(compute_packet_digest(domain, packet))


def _wrong_contract(env: Env) -> tuple[Packet, list[bytes]]:
    packet = env.inbound()
    domain = BridgeDomain(CHAIN_ID, env.htlc.address)
    return packet, env.certify(compute_packet_digest(domain, packet))


def _tampered(**changes: object) -> Case:
    def case(env: Env) -> tuple[Packet, list[bytes]]:
        packet, certificate = _valid(env)
        return dataclasses.replace(packet, **changes), certificate

    return case


def _other_message_kind(env: Env) -> tuple[Packet, list[bytes]]:
    packet = env.inbound()
    return packet, env.certify(compute_not_delivered_digest(env.domain, packet))


def _high_s(env: Env) -> tuple[Packet, list[bytes]]:
    packet, certificate = _valid(env)
    sig = certificate[0]
    s = SECP256K1_N - int.from_bytes(sig[32:64], "big")
    malleated = sig[:32] + s.to_bytes(32, "big") + bytes([55 - sig[64]])
    return packet, [malleated, *certificate[1:]]


def _bad_v(env: Env) -> tuple[Packet, list[bytes]]:
    packet, certificate = _valid(env)
    return packet, [certificate[0][:64] + bytes([certificate[0][64] - 27]), *certificate[1:]]


def _short_signature(env: Env) -> tuple[Packet, list[bytes]]:
    packet, certificate = _valid(env)
    return packet, [certificate[0][:64], *certificate[1:]]


def _unrecoverable(env: Env) -> tuple[Packet, list[bytes]]:
    packet, certificate = _valid(env)
    return packet, [b"\x00" * 64 + b"\x1b", *certificate[1:]]


def _not_for_this_chain(env: Env) -> tuple[Packet, list[bytes]]:
    packet = env.inbound(dest_chain="cosmos-hub")
    return packet, env.certify(compute_packet_digest(env.domain, packet))


def _timed_out_by_timestamp(env: Env) -> tuple[Packet, list[bytes]]:
    packet = env.inbound(timeout_timestamp=env.chain.timestamp())
    return packet, env.certify(compute_packet_digest(env.domain, packet))


def _timed_out_by_height(env: Env) -> tuple[Packet, list[bytes]]:
    packet = env.inbound(timeout_height=env.chain.block_number(), timeout_timestamp=0)
    return packet, env.certify(compute_packet_digest(env.domain, packet))


MALLEATE: list[tuple[str, Case, str]] = [
    ("too_few_signers", _too_few, "Bridge: too few signatures"),
    ("duplicate_signer", _duplicate, "Bridge: duplicate signer"),
    ("signers_not_increasing", _unordered, "Bridge: signers not in increasing order"),
    ("non_member_signer", _non_member, "Bridge: signer not in committee"),
    ("domain_wrong_chain_id", _wrong_chain_id, "Bridge: signer not in committee"),
    ("domain_wrong_contract", _wrong_contract, "Bridge: signer not in committee"),
    ("tampered_amount", _tampered(amount=1_000_000), "Bridge: signer not in committee"),
    ("tampered_receiver", _tampered(receiver=b"\x11" * 20), "Bridge: signer not in committee"),
    ("tampered_denom", _tampered(denom="uatom"), "Bridge: signer not in committee"),
    ("tampered_sequence", _tampered(sequence=2), "Bridge: signer not in committee"),
    ("tampered_source", _tampered(source_chain="fisco-1"), "Bridge: signer not in committee"),
    ("tampered_timeout", _tampered(timeout_timestamp=2**40), "Bridge: signer not in committee"),
    ("signed_as_non_delivery", _other_message_kind, "Bridge: signer not in committee"),
    ("high_s_malleated", _high_s, "Bridge: signature s is high (malleable)"),
    ("v_not_27_or_28", _bad_v, "Bridge: signature v is not 27 or 28"),
    ("signature_64_bytes", _short_signature, "Bridge: signature length is not 65"),
    ("unrecoverable_signature", _unrecoverable, "Bridge: invalid signature"),
    ("packet_for_another_chain", _not_for_this_chain, "Bridge: packet is not for this chain"),
    ("timed_out_by_timestamp", _timed_out_by_timestamp, "Bridge: packet timed out (timestamp)"),
    ("timed_out_by_height", _timed_out_by_height, "Bridge: packet timed out (height)"),
]


@pytest.mark.parametrize(
    ("case", "reason"), [(c, r) for _, c, r in MALLEATE], ids=[n for n, _, _ in MALLEATE]
)
def test_receive_rejects_on_chain(env: Env, case: Case, reason: str) -> None:
    packet, certificate = case(env)
    got = env.bridge.revert_reason(
        "receivePacket", packet.as_abi(), certificate, sender=env.relayer
    )
    assert got == reason
    assert not env.bridge.view("received", keccak(packet.source_chain.encode()), packet.sequence)
    assert env.bridge.view("voucherOf", keccak(b"pujiang-main/uusd")) == "0x" + "00" * 20


def test_receive_of_a_replayed_sequence_is_rejected(env: Env) -> None:
    packet, certificate = _valid(env)
    _receive(env, packet, certificate)
    voucher = _voucher(env, "pujiang-main/uusd")

    reason = env.bridge.revert_reason(
        "receivePacket", packet.as_abi(), certificate, sender=env.relayer
    )

    assert reason == "Bridge: packet already received"
    assert voucher.view("totalSupply") == packet.amount
