"""Bridge: vouchers going home, refunds on non-delivery, acknowledgements, rotation, pause."""

from __future__ import annotations

import dataclasses

from eth_hash.auto import keccak

from adapters.evm.certificate import (
    Packet,
    compute_delivered_digest,
    compute_not_delivered_digest,
    compute_packet_digest,
    compute_rotation_digest,
)
from tests.evm.chain import Contract, Receipt
from tests.fixtures.anvil import REMOTE_CHAIN, Env, make_committee

ETHER = 10**18
ROUTE = keccak(REMOTE_CHAIN.encode())
NATIVE = "0x" + "00" * 20


def _sent(receipt: Receipt) -> Packet:
    (event,) = receipt.named("SendPacket")
    return Packet.from_abi(event.args["packet"])


def _mint_voucher(env: Env, amount: int = 1_000) -> Contract:
    packet = env.inbound(amount=amount)
    certificate = env.certify(compute_packet_digest(env.domain, packet))
    env.bridge.transact("receivePacket", packet.as_abi(), certificate, sender=env.relayer)
    address = env.bridge.view("voucherOf", keccak(b"pujiang-main/uusd"))
    return env.chain.at("WrappedToken", address)


def _timeout(env: Env, packet: Packet) -> Receipt:
    certificate = env.certify(compute_not_delivered_digest(env.domain, packet))
    return env.bridge.transact("timeoutPacket", packet.as_abi(), certificate, sender=env.relayer)


def _deadline(env: Env) -> int:
    return env.chain.timestamp() + 3600


# ------------------------------------------------------------------ vouchers home


def test_send_of_a_voucher_burns_it_and_sends_its_path_home(env: Env) -> None:
    voucher = _mint_voucher(env)
    receipt = env.bridge.transact(
        "sendToken",
        voucher.address,
        400,
        REMOTE_CHAIN,
        b"pj1-alice",
        0,
        _deadline(env),
        sender=env.alice,
    )
    packet = _sent(receipt)
    assert (packet.denom, packet.amount, packet.sequence) == ("pujiang-main/uusd", 400, 1)
    assert voucher.view("balanceOf", env.alice) == 600
    assert voucher.view("totalSupply") == 600
    assert voucher.view("balanceOf", env.bridge.address) == 0  # burned, not escrowed


def test_send_of_a_voucher_to_another_chain_than_its_origin_is_rejected(env: Env) -> None:
    voucher = _mint_voucher(env)
    reason = env.bridge.revert_reason(
        "sendToken", voucher.address, 1, "cosmos-hub", b"c", 0, _deadline(env), sender=env.alice
    )
    assert reason == "Bridge: voucher can only return to its origin"


def test_only_the_bridge_mints_or_burns_vouchers(env: Env) -> None:
    voucher = _mint_voucher(env)
    assert voucher.revert_reason("mint", env.alice, 1, sender=env.alice) == (
        "WrappedToken: caller is not the bridge"
    )
    assert voucher.revert_reason("burn", env.alice, 1, sender=env.alice) == (
        "WrappedToken: caller is not the bridge"
    )


# ------------------------------------------------------------------------ refunds


def test_timeout_refunds_native_coin_from_the_route_escrow(env: Env) -> None:
    packet = _sent(
        env.bridge.transact(
            "sendNative", REMOTE_CHAIN, b"pj1", 0, _deadline(env), sender=env.alice, value=ETHER
        )
    )
    before = env.chain.balance(env.alice)

    receipt = _timeout(env, packet)

    (event,) = receipt.named("TimeoutPacket")
    assert (event.args["destChain"], event.args["sequence"]) == (ROUTE, 1)
    assert env.chain.balance(env.alice) == before + ETHER
    assert env.bridge.view("escrowed", ROUTE, NATIVE) == 0
    assert env.bridge.view("commitments", ROUTE, 1) == b"\x00" * 32


def test_timeout_refunds_a_token_from_the_route_escrow(env: Env) -> None:
    env.token.transact("approve", env.bridge.address, 250, sender=env.alice)
    packet = _sent(
        env.bridge.transact(
            "sendToken",
            env.token.address,
            250,
            REMOTE_CHAIN,
            b"pj1",
            0,
            _deadline(env),
            sender=env.alice,
        )
    )
    before = env.token.view("balanceOf", env.alice)
    _timeout(env, packet)
    assert env.token.view("balanceOf", env.alice) == before + 250
    assert env.bridge.view("escrowed", ROUTE, env.token.address) == 0


def test_timeout_of_a_voucher_sent_home_mints_it_again(env: Env) -> None:
    voucher = _mint_voucher(env)
    packet = _sent(
        env.bridge.transact(
            "sendToken",
            voucher.address,
            400,
            REMOTE_CHAIN,
            b"pj1",
            0,
            _deadline(env),
            sender=env.alice,
        )
    )
    _timeout(env, packet)
    assert voucher.view("balanceOf", env.alice) == 1_000
    assert voucher.view("totalSupply") == 1_000


def test_timeout_is_rejected_twice_for_a_tampered_packet_and_with_a_delivery_certificate(
    env: Env,
) -> None:
    packet = _sent(
        env.bridge.transact(
            "sendNative", REMOTE_CHAIN, b"pj1", 0, _deadline(env), sender=env.alice, value=ETHER
        )
    )
    inflated = dataclasses.replace(packet, amount=2 * ETHER)
    forged = env.certify(compute_not_delivered_digest(env.domain, inflated))
    delivered = env.certify(compute_delivered_digest(env.domain, packet))

    assert env.bridge.revert_reason(
        "timeoutPacket", inflated.as_abi(), forged, sender=env.relayer
    ) == ("Bridge: packet differs from its commitment")
    assert env.bridge.revert_reason(
        "timeoutPacket", packet.as_abi(), delivered, sender=env.relayer
    ) == ("Bridge: signer not in committee")
    _timeout(env, packet)
    again = env.certify(compute_not_delivered_digest(env.domain, packet))
    assert env.bridge.revert_reason(
        "timeoutPacket", packet.as_abi(), again, sender=env.relayer
    ) == ("Bridge: packet is not pending")


def test_acknowledgement_clears_the_commitment_so_no_refund_follows(env: Env) -> None:
    packet = _sent(
        env.bridge.transact(
            "sendNative", REMOTE_CHAIN, b"pj1", 0, _deadline(env), sender=env.alice, value=ETHER
        )
    )
    certificate = env.certify(compute_delivered_digest(env.domain, packet))
    receipt = env.bridge.transact(
        "acknowledgePacket", packet.as_abi(), certificate, sender=env.relayer
    )

    assert receipt.named("AcknowledgePacket")[0].args["sequence"] == 1
    assert env.bridge.view("commitments", ROUTE, 1) == b"\x00" * 32
    assert env.bridge.view("escrowed", ROUTE, NATIVE) == ETHER  # the coin stays escrowed
    refund = env.certify(compute_not_delivered_digest(env.domain, packet))
    assert env.bridge.revert_reason(
        "timeoutPacket", packet.as_abi(), refund, sender=env.relayer
    ) == ("Bridge: packet is not pending")


# ---------------------------------------------------------------------- rotation


def test_rotation_by_quorum_replaces_the_committee_once(env: Env) -> None:
    new = make_committee("next", 5)
    members = [n.address for n in new]
    digest = compute_rotation_digest(env.domain, 2, members, 4)
    certificate = env.certify(digest)

    receipt = env.bridge.transact("rotateCommittee", 2, members, 4, certificate, sender=env.relayer)

    (event,) = receipt.named("CommitteeRotated")
    assert (event.args["epoch"], event.args["threshold"]) == (2, 4)
    assert [m.lower() for m in env.bridge.view("members")] == [m.lower() for m in members]
    assert (env.bridge.view("epoch"), env.bridge.view("threshold")) == (2, 4)
    assert env.bridge.revert_reason(
        "rotateCommittee", 2, members, 4, certificate, sender=env.relayer
    ) == ("Bridge: stale rotation epoch")

    packet = env.inbound()
    digest = compute_packet_digest(env.domain, packet)
    old = env.certify(digest, env.committee)  # all four old members: enough signatures
    assert env.bridge.revert_reason("receivePacket", packet.as_abi(), old, sender=env.relayer) == (
        "Bridge: signer not in committee"
    )
    env.bridge.transact(
        "receivePacket", packet.as_abi(), env.certify(digest, new[:4]), sender=env.relayer
    )


def test_rotation_needs_the_current_committee(env: Env) -> None:
    new = make_committee("next", 3)
    members = [n.address for n in new]
    digest = compute_rotation_digest(env.domain, 2, members, 2)
    self_appointed = env.certify(digest, new)
    too_few = env.certify(digest, env.committee[:2])
    not_majority = compute_rotation_digest(env.domain, 2, members, 1)

    assert env.bridge.revert_reason(
        "rotateCommittee", 2, members, 2, self_appointed, sender=env.relayer
    ) == ("Bridge: signer not in committee")
    assert env.bridge.revert_reason(
        "rotateCommittee", 2, members, 2, too_few, sender=env.relayer
    ) == ("Bridge: too few signatures")
    assert env.bridge.revert_reason(
        "rotateCommittee", 2, members, 1, env.certify(not_majority), sender=env.relayer
    ) == ("Bridge: threshold must be a majority")
    assert env.bridge.revert_reason(
        "rotateCommittee", 3, members, 2, env.certify(digest), sender=env.relayer
    ) == ("Bridge: stale rotation epoch")
    assert env.bridge.view("epoch") == 1


# -------------------------------------------------------------------------- pause


def test_pause_blocks_sends_and_receives_until_unpaused(env: Env) -> None:
    assert env.bridge.revert_reason("pause", sender=env.alice) == "Bridge: caller is not the admin"
    env.bridge.transact("pause", sender=env.admin)
    packet = env.inbound()
    certificate = env.certify(compute_packet_digest(env.domain, packet))
    env.token.transact("approve", env.bridge.address, 1, sender=env.alice)

    assert env.bridge.revert_reason(
        "sendNative", REMOTE_CHAIN, b"pj1", 0, _deadline(env), sender=env.alice, value=1
    ) == ("Bridge: paused")
    assert env.bridge.revert_reason(
        "sendToken", env.token.address, 1, REMOTE_CHAIN, b"pj1", 0, _deadline(env), sender=env.alice
    ) == ("Bridge: paused")
    assert env.bridge.revert_reason(
        "receivePacket", packet.as_abi(), certificate, sender=env.relayer
    ) == ("Bridge: paused")

    env.bridge.transact("unpause", sender=env.admin)
    env.bridge.transact("receivePacket", packet.as_abi(), certificate, sender=env.relayer)
    assert env.bridge.view("received", keccak(REMOTE_CHAIN.encode()), 1)
