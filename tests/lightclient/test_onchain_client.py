"""``PujiangLightClient`` and ``Bridge.receivePacketWithProof`` on a real anvil.

A synthetic Pujiang chain (``builder.py``) stamped on anvil's clock: updates,
a delivery with an events-root proof, the refusals as one malleate table
(one broken thing per row, the exact revert reason), a full validator-set
replacement crossed on chain, and misbehaviour freezing the client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from py_ecc.bls.g2_primitives import G1_to_pubkey
from py_ecc.fields import optimized_bls12_381_FQ as FQ
from py_ecc.optimized_bls12_381 import b as CURVE_B
from py_ecc.optimized_bls12_381 import curve_order, is_inf, multiply

from adapters.evm.certificate import Packet as EvmPacket
from adapters.pujiang.evm_client_update import encode_packet_proof, update_tuple
from proofs.pujiang import codec
from tests.evm.chain import Chain, Contract
from tests.lightclient.builder import Block, PujiangChain, ValSet, send_packet_event

SOURCE = "pj-src"
LOCAL = "anvil-31337"
TRUSTING_MS = 24 * 3600 * 1000
DRIFT_MS = 10_000


@dataclass
class World:
    chain: Chain
    lc: Contract
    bridge: Contract
    pj: PujiangChain
    admin: str
    alice: str
    t0_ms: int  # time of the checkpoint header

    def update(self, block: Block, trusted: int, **kw: Any) -> tuple[Any, ...]:
        trusted_set = self.pj.blocks[trusted].valset.encode()
        return update_tuple(
            trusted, block.header, block.commit, block.valset.encode(), trusted_set, **kw
        )

    def packet(self, sequence: int = 1, **changes: Any) -> codec.Packet:
        values = {
            "source_chain": SOURCE.encode(),
            "dest_chain": LOCAL.encode(),
            "sequence": sequence,
            "sender": b"pj-sender-address-20",
            "receiver": bytes.fromhex(self.alice[2:]),
            "denom": b"upj",
            "amount": 1_000,
            "payload": b"",
            "timeout_height": 0,
            "timeout_time_ms": (self.chain.timestamp() + 3600) * 1000,
        } | changes
        return codec.Packet(**values)


def evm_packet(packet: codec.Packet) -> tuple[Any, ...]:
    return EvmPacket(
        sequence=packet.sequence,
        source_chain=packet.source_chain.decode(),
        dest_chain=packet.dest_chain.decode(),
        sender=packet.sender,
        receiver=packet.receiver,
        denom=packet.denom.decode(),
        amount=packet.amount,
        payload=packet.payload,
        timeout_height=packet.timeout_height,
        timeout_timestamp=packet.timeout_time_ms // 1000,
    ).as_abi()


@pytest.fixture(scope="module")
def world(lc_chain: Chain) -> World:
    admin, alice = lc_chain.call("eth_accounts")[:2]
    bridge = lc_chain.deploy("Bridge", LOCAL, admin, [admin], 1, sender=admin)
    lc = lc_chain.deploy("PujiangLightClient", SOURCE, TRUSTING_MS, DRIFT_MS, sender=admin)
    pj = PujiangChain(SOURCE, ValSet.make("a", 4))
    t0 = (lc_chain.timestamp() - 100) * 1000
    checkpoint = pj.block(1, t0)
    lc.transact("initialize", 1, checkpoint.hash, checkpoint.header, sender=admin)
    bridge.transact("setLightClient", SOURCE, lc.address, sender=admin)
    return World(lc_chain, lc, bridge, pj, admin, alice, t0)


@pytest.fixture
def w(world: World) -> Iterator[World]:
    snapshot = world.chain.snapshot()
    blocks = dict(world.pj.blocks)
    valset = world.pj.valset
    yield world
    world.chain.revert(snapshot)
    world.pj.blocks, world.pj.valset = blocks, valset


def deliver(w: World, block: Block, packet: codec.Packet, index: int = 0) -> Any:
    proof = encode_packet_proof(block.height, 0, 0, index, block.event_proof(index))
    return w.bridge.transact("receivePacketWithProof", evm_packet(packet), proof, sender=w.admin)


def test_update_then_deliver_with_a_proof(w: World) -> None:
    packet = w.packet()
    block = w.pj.block(2, w.t0_ms + 1000, events=[send_packet_event(packet)])
    receipt = w.lc.transact("updateClient", w.update(block, 1), sender=w.admin)
    assert [e.args["height"] for e in receipt.named("ClientUpdated")] == [2]
    assert w.lc.view("latestHeight") == 2
    delivered = deliver(w, block, packet)
    assert [e.args["sequence"] for e in delivered.named("RecvPacket")] == [1]


def test_one_update_serves_every_packet_of_its_block(w: World) -> None:
    packets = [w.packet(sequence=s) for s in (1, 2, 3)]
    block = w.pj.block(2, w.t0_ms + 1000, events=[send_packet_event(p) for p in packets])
    w.lc.transact("updateClient", w.update(block, 1), sender=w.admin)
    for index, packet in enumerate(packets):
        assert deliver(w, block, packet, index).named("RecvPacket")


def non_subgroup_key() -> bytes:
    """A G1 point on the curve but outside the prime-order subgroup, compressed."""
    x = FQ(5)
    while True:
        rhs = x**3 + CURVE_B
        y = rhs ** ((FQ.field_modulus + 1) // 4)
        if y * y == rhs:
            point = (x, y, FQ.one())
            if not is_inf(multiply(point, curve_order)):
                return G1_to_pubkey(point)
        x += 1


def with_bad_key(pubkey: bytes) -> ValSet:
    """Set A with a fourth member whose key is ``pubkey`` (it never signs)."""
    good = ValSet.make("a", 3).members
    return ValSet(tuple(sorted((*good, (0, pubkey, bytes(96), 1)), key=lambda m: m[1])))


def signers_except(valset: ValSet, pubkey: bytes) -> list[int]:
    return [i for i, m in enumerate(valset.members) if m[1] != pubkey]


def case_forged_commit(w: World) -> Callable[[], Any]:
    block = w.pj.block(2, w.t0_ms + 1000)
    forged = PujiangChain(SOURCE, ValSet.make("mallory", 4)).block(2, w.t0_ms + 1000)
    # the forger's signature over the same header: same hash, wrong keys
    sig = update_tuple(1, forged.header, forged.commit, forged.valset.encode())[3]
    return lambda: w.lc.revert_reason(
        "updateClient", w.update(block, 1, signature=sig), sender=w.admin
    )


def case_too_little_power(w: World) -> Callable[[], Any]:
    block = w.pj.block(2, w.t0_ms + 1000, signers=[0, 1])
    return lambda: w.lc.revert_reason("updateClient", w.update(block, 1), sender=w.admin)


def case_wrong_events_root(w: World) -> Callable[[], Any]:
    packet = w.packet()
    block = w.pj.block(2, w.t0_ms + 1000, events=[send_packet_event(packet)])
    w.lc.transact("updateClient", w.update(block, 1), sender=w.admin)
    changed = packet.copy(amount=packet.amount + 1)  # not what the source committed
    proof = encode_packet_proof(2, 0, 0, 0, block.event_proof(0))
    return lambda: w.bridge.revert_reason(
        "receivePacketWithProof", evm_packet(changed), proof, sender=w.admin
    )


def case_replayed_packet(w: World) -> Callable[[], Any]:
    packet = w.packet()
    block = w.pj.block(2, w.t0_ms + 1000, events=[send_packet_event(packet)])
    w.lc.transact("updateClient", w.update(block, 1), sender=w.admin)
    deliver(w, block, packet)
    proof = encode_packet_proof(2, 0, 0, 0, block.event_proof(0))
    return lambda: w.bridge.revert_reason(
        "receivePacketWithProof", evm_packet(packet), proof, sender=w.admin
    )


def case_expired_client_update(w: World) -> Callable[[], Any]:
    w.chain.increase_time(TRUSTING_MS // 1000 + 10)
    block = w.pj.block(2, w.chain.timestamp() * 1000)
    return lambda: w.lc.revert_reason("updateClient", w.update(block, 1), sender=w.admin)


def case_expired_client_packet(w: World) -> Callable[[], Any]:
    packet = w.packet(timeout_time_ms=(w.chain.timestamp() + 10 * TRUSTING_MS) * 1000)
    block = w.pj.block(2, w.t0_ms + 1000, events=[send_packet_event(packet)])
    w.lc.transact("updateClient", w.update(block, 1), sender=w.admin)
    w.chain.increase_time(TRUSTING_MS // 1000 + 10)
    proof = encode_packet_proof(2, 0, 0, 0, block.event_proof(0))
    return lambda: w.bridge.revert_reason(
        "receivePacketWithProof", evm_packet(packet), proof, sender=w.admin
    )


def _bad_key_case(w: World, pubkey: bytes) -> Callable[[], Any]:
    bad = with_bad_key(pubkey)
    w.pj.block(2, w.t0_ms + 1000, next_set=bad)
    w.lc.transact("updateClient", w.update(w.pj.blocks[2], 1), sender=w.admin)
    block = w.pj.block(3, w.t0_ms + 2000, signers=signers_except(bad, pubkey))
    return lambda: w.lc.revert_reason("updateClient", w.update(block, 2), sender=w.admin)


def case_key_not_in_subgroup(w: World) -> Callable[[], Any]:
    return _bad_key_case(w, non_subgroup_key())


def case_infinity_key(w: World) -> Callable[[], Any]:
    return _bad_key_case(w, bytes([0xC0]) + bytes(47))


MALLEATE = [
    ("forged commit", case_forged_commit, "LC: aggregate-signature"),
    ("too little power", case_too_little_power, "LC: quorum"),
    ("wrong events root", case_wrong_events_root, "LC: event not in events root"),
    ("replayed packet", case_replayed_packet, "Bridge: packet already received"),
    ("expired client (update)", case_expired_client_update, "LC: trusting-period"),
    ("expired client (packet)", case_expired_client_packet, "LC: client expired"),
    (
        "key not in the subgroup",
        case_key_not_in_subgroup,
        "LC: validator-key (not a G1 subgroup point)",
    ),
    ("infinity key", case_infinity_key, "LC: validator-key (infinity)"),
]


@pytest.mark.parametrize(("name", "make", "reason"), MALLEATE, ids=[m[0] for m in MALLEATE])
def test_refusals(
    w: World, name: str, make: Callable[[World], Callable[[], Any]], reason: str
) -> None:
    attempt = make(w)
    assert attempt() == reason


def test_full_set_replacement_crossed_sequentially_not_by_one_skip(w: World) -> None:
    new = ValSet.make("b", 4)
    w.pj.block(2, w.t0_ms + 1000, next_set=new)
    b3 = w.pj.block(3, w.t0_ms + 2000)
    w.pj.block(4, w.t0_ms + 3000)
    # skipping from height 1 (set A) to a header signed by B alone: no trusted signer
    assert (
        w.lc.revert_reason("updateClient", w.update(b3, 1), sender=w.admin) == "LC: trust-overlap"
    )
    for block, trusted in ((w.pj.blocks[2], 1), (b3, 2)):
        w.lc.transact("updateClient", w.update(block, trusted), sender=w.admin)
    # from a B-trusted height, B's headers skip freely
    b9 = w.pj.block(9, w.t0_ms + 8000)
    w.lc.transact("updateClient", w.update(b9, 3), sender=w.admin)
    assert w.lc.view("latestHeight") == 9
    assert w.lc.view("consensusStates", 4)[0] == bytes(32)  # 4 was skipped


def test_skip_with_more_than_a_third_of_the_trusted_set(w: World) -> None:
    mixed = ValSet(ValSet.make("a", 2).members + ValSet.make("c", 2).members)
    mixed = ValSet(tuple(sorted(mixed.members, key=lambda m: m[1])))
    w.pj.block(2, w.t0_ms + 1000, next_set=mixed)
    b3 = w.pj.block(3, w.t0_ms + 2000)  # signed by mixed: half of A's power is in it
    w.lc.transact("updateClient", w.update(b3, 1), sender=w.admin)
    assert w.lc.view("latestHeight") == 3


def test_misbehaviour_freezes_the_client(w: World) -> None:
    packet = w.packet()
    honest = w.pj.block(2, w.t0_ms + 1000, events=[send_packet_event(packet)])
    fork = w.pj.block(2, w.t0_ms + 1000, salt=b"\x01" * 32)
    assert honest.hash != fork.hash
    w.lc.transact("updateClient", w.update(honest, 1), sender=w.admin)
    receipt = w.lc.transact(
        "submitMisbehaviour", w.update(honest, 1), w.update(fork, 1), sender=w.admin
    )
    assert [e.args["height"] for e in receipt.named("ClientFrozen")] == [2]
    assert w.lc.view("frozenHeight") == 2
    b3 = w.pj.block(3, w.t0_ms + 2000)
    assert w.lc.revert_reason("updateClient", w.update(b3, 2), sender=w.admin) == "LC: frozen"
    proof = encode_packet_proof(2, 0, 0, 0, honest.event_proof(0))
    assert (
        w.bridge.revert_reason("receivePacketWithProof", evm_packet(packet), proof, sender=w.admin)
        == "LC: frozen"
    )


def test_a_conflicting_update_freezes_the_client(w: World) -> None:
    honest = w.pj.block(2, w.t0_ms + 1000)
    fork = w.pj.block(2, w.t0_ms + 1000, salt=b"\x02" * 32)
    w.lc.transact("updateClient", w.update(honest, 1), sender=w.admin)
    receipt = w.lc.transact("updateClient", w.update(fork, 1), sender=w.admin)
    assert receipt.named("ClientFrozen")
    assert w.lc.view("frozenHeight") == 2


def test_the_same_header_twice_is_a_no_op(w: World) -> None:
    block = w.pj.block(2, w.t0_ms + 1000)
    w.lc.transact("updateClient", w.update(block, 1), sender=w.admin)
    again = w.lc.transact("updateClient", w.update(block, 1), sender=w.admin)
    assert not again.named("ClientUpdated")
    assert not again.named("ClientFrozen")


def test_not_misbehaviour_is_refused(w: World) -> None:
    block = w.pj.block(2, w.t0_ms + 1000)
    reason = w.lc.revert_reason(
        "submitMisbehaviour", w.update(block, 1), w.update(block, 1), sender=w.admin
    )
    assert reason == "LC: not misbehaviour"


def test_only_the_admin_sets_a_light_client(w: World) -> None:
    reason = w.bridge.revert_reason("setLightClient", SOURCE, w.alice, sender=w.alice)
    assert reason == "Bridge: caller is not the admin"


def test_no_light_client_for_a_source_refuses_proofs(w: World) -> None:
    w.bridge.transact("setLightClient", SOURCE, "0x" + "00" * 20, sender=w.admin)
    packet = w.packet()
    block = w.pj.block(2, w.t0_ms + 1000, events=[send_packet_event(packet)])
    proof = encode_packet_proof(2, 0, 0, 0, block.event_proof(0))
    reason = w.bridge.revert_reason(
        "receivePacketWithProof", evm_packet(packet), proof, sender=w.admin
    )
    assert reason == "Bridge: no light client for the source chain"
