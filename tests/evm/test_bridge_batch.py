"""Bridge batches (#15) on a real anvil: submitRoot, receiveBatch, refundBatch, acknowledgeBatch.

One certificate stores a batch root; packets are then delivered (or refunded, or
cleared) many per transaction with their inclusion proofs. The malleate tables
start from one valid call and break one thing per row; each row is a real
transaction that fails on chain with the contract's exact reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from eth_hash.auto import keccak

from adapters.evm.adapter import EvmAdapter
from adapters.evm.bridge import (
    MEMBER_GAS,
    EvmBridge,
    from_evm_packet,
    receive_batch_gas_bound,
    statement_abi,
)
from adapters.evm.certificate import (
    Packet,
    compute_packet_digest,
    compute_packet_hash,
    compute_rotation_digest,
)
from adapters.evm.settings import EvmChainSettings
from core.batches import BatchKind, BatchMember, BatchStatement
from core.errors import ChainRejected
from core.ids import ChainId, Height
from core.types import ChainEvent, EventKind, TxReceipt
from core.types import Packet as CorePacket
from proofs.hashing import get_hash_function
from proofs.notary.batch import compute_batch_proofs, compute_batch_root
from tests.evm.batches import Batch, make_batch
from tests.fixtures.anvil import LOCAL_CHAIN, REMOTE_CHAIN, THRESHOLD, Env, make_committee

SOURCE = keccak(REMOTE_CHAIN.encode())
ETHER = 10**18


def inbound_batch(env: Env, size: int = 4, **changes: object) -> Batch:
    return make_batch([env.inbound(sequence=i + 1, amount=100 + i, **changes) for i in range(size)])


def store(env: Env, batch: Batch, statement: tuple[Any, ...] | None = None) -> Any:
    statement = batch.statement if statement is None else statement
    digest = env.bridge.view("batchDigest", statement)
    return env.bridge.transact("submitRoot", statement, env.certify(digest), sender=env.relayer)


def voucher_balance(env: Env, holder: str) -> int:
    address = env.bridge.view("voucherOf", keccak(f"{REMOTE_CHAIN}/uusd".encode()))
    return int(env.chain.at("WrappedToken", address).view("balanceOf", holder))


# --- the statement digest ------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BatchKind))
def test_the_python_batch_digest_is_the_contracts(env: Env, kind: BatchKind) -> None:
    statement = BatchStatement(REMOTE_CHAIN, LOCAL_CHAIN, 7, kind, 200, b"\x5a" * 32)
    bridge = EvmBridge(ChainId(LOCAL_CHAIN), env.domain)
    on_chain = env.bridge.view("batchDigest", statement_abi(statement))
    if kind is BatchKind.DELIVERY:
        assert bridge.batch_digest(statement) == on_chain
    else:  # the adapter digests only what this chain acts on; the contract's view digests any
        acting = dataclasses.replace(statement, source_chain=LOCAL_CHAIN, dest_chain=REMOTE_CHAIN)
        assert bridge.batch_digest(acting) == env.bridge.view("batchDigest", statement_abi(acting))


# --- delivery --------------------------------------------------------------------------------


def test_one_root_delivers_a_whole_batch_in_one_transaction(env: Env) -> None:
    batch = inbound_batch(env, 5)
    stored = store(env, batch)
    (event,) = stored.named("RootStored")
    assert event.args["digest"] == batch.digest(env.domain)
    assert event.args["root"] == batch.root
    assert env.bridge.view("rootStored", batch.digest(env.domain))

    receipt = env.bridge.transact(
        "receiveBatch", batch.statement, *batch.members([4, 0, 2, 1, 3]), sender=env.relayer
    )

    received = receipt.named("RecvPacket")
    assert [e.args["sequence"] for e in received] == [5, 1, 3, 2, 4]
    assert [e.args["packetHash"] for e in received] == [
        compute_packet_hash(batch.packets[i]) for i in (4, 0, 2, 1, 3)
    ]
    assert receipt.named("PacketFailed") == []
    assert voucher_balance(env, env.alice) == sum(100 + i for i in range(5))
    assert all(env.bridge.view("received", SOURCE, s) for s in range(1, 6))


def test_a_batch_may_be_delivered_in_several_slices(env: Env) -> None:
    batch = inbound_batch(env, 6)
    store(env, batch)
    env.bridge.transact(
        "receiveBatch", batch.statement, *batch.members([0, 1, 2]), sender=env.relayer
    )
    env.bridge.transact(
        "receiveBatch", batch.statement, *batch.members([3, 4, 5]), sender=env.relayer
    )
    assert voucher_balance(env, env.alice) == sum(100 + i for i in range(6))


def test_a_member_refused_by_its_receiver_fails_alone(env: Env) -> None:
    """IBC's error acknowledgement: the packet is marked received and failed, the others land."""
    env.receiver.transact("setRejecting", True, sender=env.admin)
    to_receiver = bytes.fromhex(env.receiver.address[2:])
    packets = [
        env.inbound(sequence=1, amount=10),
        env.inbound(sequence=2, denom="", amount=0, payload=b"ping", receiver=to_receiver),
        env.inbound(sequence=3, amount=30),
    ]
    batch = make_batch(packets)
    store(env, batch)

    receipt = env.bridge.transact(
        "receiveBatch", batch.statement, *batch.members(), sender=env.relayer
    )

    assert [e.args["sequence"] for e in receipt.named("RecvPacket")] == [1, 3]
    (failed,) = receipt.named("PacketFailed")
    assert failed.args["sequence"] == 2
    assert failed.args["packetHash"] == compute_packet_hash(packets[1])
    assert Packet.from_abi(failed.args["packet"]) == packets[1]
    assert b"Bridge: message receiver rejected the packet" in failed.args["reason"]
    assert env.bridge.view("received", SOURCE, 2)
    assert env.bridge.view("failed", SOURCE, 2)
    assert not env.bridge.view("failed", SOURCE, 1)
    assert env.receiver.view("messageCount") == 0
    assert voucher_balance(env, env.alice) == 40


def test_the_adapter_reads_a_failed_member_for_its_error_ack(
    env: Env, evm_settings: Callable[..., EvmChainSettings]
) -> None:
    """``PacketFailed`` is a ``PACKET_FAILED`` event the endpoint matches to its packet."""
    env.receiver.transact("setRejecting", True, sender=env.admin)
    to_receiver = bytes.fromhex(env.receiver.address[2:])
    packets = [
        env.inbound(sequence=1, amount=10),
        env.inbound(sequence=2, denom="", amount=0, payload=b"ping", receiver=to_receiver),
    ]
    batch = make_batch(packets)
    store(env, batch)
    receipt = env.bridge.transact(
        "receiveBatch", batch.statement, *batch.members(), sender=env.relayer
    )

    async def read() -> tuple[list[ChainEvent], EvmBridge]:
        async with EvmAdapter(evm_settings()) as adapter:
            height = Height(receipt.block_number)
            return await adapter.events(height, height), adapter.bridge()

    events, endpoint = asyncio.run(read())
    delivered, failed = (from_evm_packet(p) for p in packets)
    assert [e.kind for e in events] == [EventKind.RECEIVE_PACKET, EventKind.PACKET_FAILED]
    assert endpoint.is_delivered_event(events[0], delivered)
    assert endpoint.is_failed_event(events[1], failed)
    assert not endpoint.is_failed_event(events[1], delivered)
    assert not endpoint.is_delivered_event(events[1], failed)
    # each event decoded once names its packet (how a chunk's block is matched to members)
    assert [endpoint.delivered_packet(e) for e in events] == [delivered, None]
    assert [endpoint.failed_packet(e) for e in events] == [None, failed]


def test_a_member_whose_receiver_exhausts_its_gas_fails_alone(env: Env) -> None:
    greedy = env.chain.deploy("GreedyReceiver", sender=env.admin)
    packets = [
        env.inbound(sequence=1, amount=10),
        env.inbound(
            sequence=2, denom="", amount=0, payload=b"x", receiver=bytes.fromhex(greedy.address[2:])
        ),
        env.inbound(sequence=3, amount=30),
    ]
    batch = make_batch(packets)
    store(env, batch)

    receipt = env.bridge.transact(
        "receiveBatch", batch.statement, *batch.members(), sender=env.relayer
    )

    assert [e.args["sequence"] for e in receipt.named("RecvPacket")] == [1, 3]
    (failed,) = receipt.named("PacketFailed")
    assert failed.args["sequence"] == 2
    assert b"Bridge: message receiver rejected the packet" in failed.args["reason"]
    assert env.bridge.view("failed", SOURCE, 2)
    assert voucher_balance(env, env.alice) == 40


def test_a_batch_without_gas_for_a_whole_delivery_reverts(env: Env) -> None:
    """A relayer cannot fail members by starving them: too little gas reverts the batch."""
    batch = inbound_batch(env, 2)
    store(env, batch)
    member_gas = env.bridge.view("MEMBER_GAS")
    data = env.bridge.artifact.encode_call("receiveBatch", batch.statement, *batch.members())
    call = {"from": env.relayer, "to": env.bridge.address, "data": "0x" + data.hex()}
    with pytest.raises(ChainRejected) as refused:
        env.chain.call("eth_call", {**call, "gas": hex(member_gas)}, "latest")
    assert refused.value.details["reason"] == "Bridge: out of gas in a delivery"
    assert not env.bridge.view("received", SOURCE, 1)


def test_only_the_bridge_calls_its_batch_member_delivery(env: Env) -> None:
    packet = env.inbound()
    assert (
        env.bridge.revert_reason("deliverBatchMember", packet.as_abi(), SOURCE, sender=env.relayer)
        == "Bridge: caller is not the bridge"
    )


def test_the_per_packet_entry_point_still_delivers_a_packet(env: Env) -> None:
    """A batch of one is the old case; receivePacket keeps working next to the batches."""
    packet = env.inbound(sequence=9)
    env.bridge.transact(
        "receivePacket",
        packet.as_abi(),
        env.certify(compute_packet_digest(env.domain, packet)),
        sender=env.relayer,
    )
    batch = make_batch([packet])
    store(env, batch)
    assert (
        env.bridge.revert_reason(
            "receiveBatch", batch.statement, *batch.members(), sender=env.relayer
        )
        == "Bridge: packet already received"
    )


# --- refusals: storing a root ----------------------------------------------------------------


def _with(statement: tuple[Any, ...], **changes: Any) -> tuple[Any, ...]:
    names = ("source", "dest", "epoch", "kind", "size", "root")
    values = dict(zip(names, statement, strict=True))
    values.update(changes)
    return tuple(values[n] for n in names)


SignatureBreak = Callable[[Env, bytes], list[bytes]]


def _too_few(env: Env, digest: bytes) -> list[bytes]:
    return env.certify(digest, env.committee[: THRESHOLD - 1])


def _duplicate(env: Env, digest: bytes) -> list[bytes]:
    sigs = env.certify(digest)
    return [sigs[0], sigs[0], sigs[1]]


def _outsider(env: Env, digest: bytes) -> list[bytes]:
    strangers = make_committee("stranger", 1)
    ordered = sorted([*env.committee[:2], *strangers], key=lambda n: int(n.address, 16))
    return env.certify(digest, ordered)


@pytest.mark.parametrize(
    ("breaks", "reason"),
    [
        (_too_few, "Bridge: too few signatures"),
        (_duplicate, "Bridge: duplicate signer"),
        (_outsider, "Bridge: signer not in committee"),
    ],
    ids=["too-few", "duplicate", "non-member"],
)
def test_a_root_without_a_quorum_is_refused(env: Env, breaks: SignatureBreak, reason: str) -> None:
    batch = inbound_batch(env)
    signatures = breaks(env, batch.digest(env.domain))
    assert (
        env.bridge.revert_reason("submitRoot", batch.statement, signatures, sender=env.relayer)
        == reason
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"dest": "cosmos-hub"}, "Bridge: root not for this chain"),
        ({"source": LOCAL_CHAIN}, "Bridge: root not for this chain"),
        ({"kind": int(BatchKind.NONDELIVERY)}, "Bridge: root not for this chain"),
        ({"kind": 4}, "Bridge: unknown batch kind"),
        ({"epoch": 2}, "Bridge: root of another epoch"),
        ({"size": 0}, "Bridge: batch size out of range"),
        ({"size": 257}, "Bridge: batch size out of range"),
    ],
    ids=["other-dest", "from-here", "source-kind-here", "kind", "epoch", "size-0", "size-257"],
)
def test_a_root_this_chain_must_not_store_is_refused(
    env: Env, changes: dict[str, Any], reason: str
) -> None:
    """Each row is signed correctly: the refusal is the statement's, not the certificate's."""
    statement = _with(inbound_batch(env).statement, **changes)
    certificate = env.certify(env.bridge.view("batchDigest", statement))
    assert (
        env.bridge.revert_reason("submitRoot", statement, certificate, sender=env.relayer) == reason
    )


def test_a_replayed_root_is_refused(env: Env) -> None:
    batch = inbound_batch(env)
    store(env, batch)
    certificate = env.certify(batch.digest(env.domain))
    reason = env.bridge.revert_reason(
        "submitRoot", batch.statement, certificate, sender=env.relayer
    )
    assert reason == "Bridge: root already stored"
    endpoint = EvmBridge(ChainId(LOCAL_CHAIN), env.domain)
    assert endpoint.is_root_stored_refusal(f"eth_estimateGas: {reason}")
    assert not endpoint.is_root_stored_refusal("Bridge: root of another epoch")


def test_a_root_of_the_old_epoch_is_refused_after_a_rotation(env: Env) -> None:
    batch = inbound_batch(env)
    old_certificate = env.certify(batch.digest(env.domain))
    new = make_committee("next", 3)
    members = [n.address for n in new]
    rotation = env.certify(compute_rotation_digest(env.domain, 2, members, 2))
    env.bridge.transact("rotateCommittee", 2, members, 2, rotation, sender=env.relayer)

    assert (
        env.bridge.revert_reason("submitRoot", batch.statement, old_certificate, sender=env.relayer)
        == "Bridge: root of another epoch"
    )
    renewed = _with(batch.statement, epoch=2)
    by_old = env.certify(env.bridge.view("batchDigest", renewed))
    assert (
        env.bridge.revert_reason("submitRoot", renewed, by_old, sender=env.relayer)
        == "Bridge: signer not in committee"
    )
    by_new = env.certify(env.bridge.view("batchDigest", renewed), new[:2])
    env.bridge.transact("submitRoot", renewed, by_new, sender=env.relayer)
    env.bridge.transact("receiveBatch", renewed, *batch.members(), sender=env.relayer)


# --- refusals: acting on a stored root -------------------------------------------------------


def _stored(env: Env) -> Batch:
    batch = inbound_batch(env, 4)
    store(env, batch)
    return batch


def _call(batch: Batch, **changes: Any) -> tuple[Any, ...]:
    packets, indices, proofs = batch.members([1, 2])
    args = {"statement": batch.statement, "packets": packets, "indices": indices, "proofs": proofs}
    args.update(changes)
    return (args["statement"], args["packets"], args["indices"], args["proofs"])


def _foreign_packet(env: Env, batch: Batch) -> tuple[Any, ...]:
    packets, _, _ = batch.members([1, 2])
    forged = dataclasses.replace(batch.packets[2], amount=10**9)
    return _call(batch, packets=[packets[0], forged.as_abi()])


def _other_index(env: Env, batch: Batch) -> tuple[Any, ...]:
    return _call(batch, indices=[1, 3])


def _other_proof(env: Env, batch: Batch) -> tuple[Any, ...]:
    return _call(batch, proofs=[list(batch.proofs[1]), list(batch.proofs[3])])


def _inner_node(env: Env, batch: Batch) -> tuple[Any, ...]:
    """The proof of leaf 0's parent: it would pass only if an inner node counted as a leaf."""
    return _call(batch, indices=[0, 2], proofs=[list(batch.proofs[0][1:]), list(batch.proofs[2])])


def _index_outside(env: Env, batch: Batch) -> tuple[Any, ...]:
    return _call(batch, indices=[1, 4])


def _other_route(env: Env, batch: Batch) -> tuple[Any, ...]:
    packets, _, _ = batch.members([1, 2])
    stranger = dataclasses.replace(batch.packets[2], source_chain="cosmos-hub")
    return _call(batch, packets=[packets[0], stranger.as_abi()])


def _not_for_here(env: Env, batch: Batch) -> tuple[Any, ...]:
    packets, _, _ = batch.members([1, 2])
    elsewhere = dataclasses.replace(batch.packets[2], dest_chain="cosmos-hub")
    return _call(batch, packets=[packets[0], elsewhere.as_abi()])


def _timed_out(env: Env, batch: Batch) -> tuple[Any, ...]:
    env.chain.increase_time(7200)
    return _call(batch)


def _not_stored(env: Env, batch: Batch) -> tuple[Any, ...]:
    return _call(batch, statement=_with(batch.statement, root=b"\x01" * 32))


def _wrong_kind(env: Env, batch: Batch) -> tuple[Any, ...]:
    return _call(batch, statement=_with(batch.statement, kind=int(BatchKind.ACK)))


def _lengths(env: Env, batch: Batch) -> tuple[Any, ...]:
    return _call(batch, indices=[1])


def _empty(env: Env, batch: Batch) -> tuple[Any, ...]:
    return _call(batch, packets=[], indices=[], proofs=[])


def _replayed_packet(env: Env, batch: Batch) -> tuple[Any, ...]:
    env.bridge.transact("receiveBatch", *_call(batch), sender=env.relayer)
    return _call(batch)


Break = Callable[[Env, Batch], tuple[Any, ...]]


@pytest.mark.parametrize(
    ("breaks", "reason"),
    [
        (_foreign_packet, "Bridge: packet not in the root"),
        (_other_index, "Bridge: packet not in the root"),
        (_other_proof, "Bridge: packet not in the root"),
        (_inner_node, "Bridge: packet not in the root"),
        (_index_outside, "Bridge: index outside the batch"),
        (_other_route, "Bridge: packet of another route"),
        (_not_for_here, "Bridge: packet is not for this chain"),
        (_timed_out, "Bridge: packet timed out (timestamp)"),
        (_not_stored, "Bridge: root not stored"),
        (_wrong_kind, "Bridge: wrong statement kind"),
        (_lengths, "Bridge: batch arrays mismatch"),
        (_empty, "Bridge: batch arrays mismatch"),
        (_replayed_packet, "Bridge: packet already received"),
    ],
    ids=[
        "packet-not-in-root",
        "proof-for-another-index",
        "another-members-proof",
        "inner-node-as-leaf",
        "index-outside",
        "other-route",
        "not-for-this-chain",
        "timed-out",
        "root-not-stored",
        "kind-mismatch",
        "array-lengths",
        "empty",
        "replayed-packet",
    ],
)
def test_a_bad_batch_delivery_is_refused(env: Env, breaks: Break, reason: str) -> None:
    batch = _stored(env)
    args = breaks(env, batch)
    assert env.bridge.revert_reason("receiveBatch", *args, sender=env.relayer) == reason


# --- the source side: refunds and acknowledgements ------------------------------------------


def _sent(env: Env, count: int) -> list[Packet]:
    deadline = env.chain.timestamp() + 3600
    packets = []
    for _ in range(count):
        receipt = env.bridge.transact(
            "sendNative", REMOTE_CHAIN, b"pj1", 0, deadline, sender=env.alice, value=ETHER
        )
        (sent,) = receipt.named("SendPacket")
        packets.append(Packet.from_abi(sent.args["packet"]))
    return packets


@pytest.mark.parametrize("kind", [BatchKind.NONDELIVERY, BatchKind.ERROR_ACK])
def test_refund_batch_pays_every_member_back(env: Env, kind: BatchKind) -> None:
    packets = _sent(env, 3)
    batch = make_batch(packets, kind)
    store(env, batch)
    before = env.chain.balance(env.alice)

    receipt = env.bridge.transact(
        "refundBatch", batch.statement, *batch.members(), sender=env.relayer
    )

    assert [e.args["sequence"] for e in receipt.named("TimeoutPacket")] == [1, 2, 3]
    assert env.chain.balance(env.alice) == before + 3 * ETHER
    route = keccak(REMOTE_CHAIN.encode())
    assert env.bridge.view("escrowed", route, "0x" + "00" * 20) == 0
    assert all(env.bridge.view("commitments", route, s) == b"\x00" * 32 for s in (1, 2, 3))
    assert (
        env.bridge.revert_reason(
            "refundBatch", batch.statement, *batch.members(), sender=env.relayer
        )
        == "Bridge: packet is not pending"
    )


def test_acknowledge_batch_clears_commitments_without_refunding(env: Env) -> None:
    packets = _sent(env, 2)
    batch = make_batch(packets, BatchKind.ACK)
    store(env, batch)
    before = env.chain.balance(env.alice)

    receipt = env.bridge.transact(
        "acknowledgeBatch", batch.statement, *batch.members(), sender=env.relayer
    )

    assert [e.args["sequence"] for e in receipt.named("AcknowledgePacket")] == [1, 2]
    assert env.chain.balance(env.alice) == before
    route = keccak(REMOTE_CHAIN.encode())
    assert env.bridge.view("escrowed", route, "0x" + "00" * 20) == 2 * ETHER


@pytest.mark.parametrize(
    ("entry", "kind", "reason"),
    [
        ("refundBatch", BatchKind.ACK, "Bridge: wrong statement kind"),
        ("acknowledgeBatch", BatchKind.NONDELIVERY, "Bridge: wrong statement kind"),
        ("acknowledgeBatch", BatchKind.ERROR_ACK, "Bridge: wrong statement kind"),
    ],
)
def test_a_source_root_acts_only_through_its_own_entry_point(
    env: Env, entry: str, kind: BatchKind, reason: str
) -> None:
    batch = make_batch(_sent(env, 2), kind)
    store(env, batch)
    assert (
        env.bridge.revert_reason(entry, batch.statement, *batch.members(), sender=env.relayer)
        == reason
    )


def test_a_refund_of_a_packet_that_differs_from_its_commitment_is_refused(env: Env) -> None:
    packets = _sent(env, 2)
    batch = make_batch(packets, BatchKind.NONDELIVERY)
    store(env, batch)
    forged = dataclasses.replace(packets[1], amount=5 * ETHER)
    pkts, indices, proofs = batch.members()
    assert (
        env.bridge.revert_reason(
            "refundBatch",
            batch.statement,
            [pkts[0], forged.as_abi()],
            indices,
            proofs,
            sender=env.relayer,
        )
        == "Bridge: packet differs from its commitment"
    )


# --- through the adapter: the endpoint's actions are the transactions the contract takes ----


def _settings(env: Env, evm_settings: Callable[..., EvmChainSettings]) -> EvmChainSettings:
    members = tuple(n.address for n in env.committee)
    return evm_settings(committee_threshold=THRESHOLD, committee=members)


def _delivery_statement(
    bridge: EvmBridge, packets: list[CorePacket]
) -> tuple[BatchStatement, list[tuple[bytes, ...]]]:
    """The DELIVERY statement of ``packets`` (a batch from the remote chain, this bridge's
    committee epoch) and each packet's inclusion proof."""
    hash_fn = get_hash_function(bridge.batch_hash_name())
    leaves = [bridge.batch_leaf(p) for p in packets]
    statement = BatchStatement(
        REMOTE_CHAIN,
        LOCAL_CHAIN,
        bridge.committee_epoch(),
        BatchKind.DELIVERY,
        len(packets),
        compute_batch_root(leaves, hash_fn=hash_fn),
    )
    return statement, compute_batch_proofs(leaves, hash_fn=hash_fn)


def test_the_endpoints_actions_store_and_deliver_through_the_adapter(
    env: Env, evm_settings: Callable[..., EvmChainSettings]
) -> None:
    packets = [from_evm_packet(env.inbound(sequence=i + 1, amount=5 + i)) for i in range(6)]

    async def scenario() -> tuple[TxReceipt, list[TxReceipt], ChainRejected]:
        async with EvmAdapter(_settings(env, evm_settings)) as adapter:
            bridge = adapter.bridge()
            statement, proofs = _delivery_statement(bridge, packets)
            certificate = env.certify(bridge.batch_digest(statement))[::-1]  # any order
            stored = await adapter.wait_receipt(
                await adapter.submit(bridge.store_root_action(statement, certificate))
            )
            with pytest.raises(ChainRejected) as again:
                await adapter.submit(
                    dataclasses.replace(
                        bridge.store_root_action(statement, certificate), idempotency_key="again"
                    )
                )
            slices = [
                [BatchMember(packets[i], i, proofs[i]) for i in chosen]
                for chosen in ((0, 1, 2), (5, 4, 3))
            ]
            delivered = [
                await adapter.wait_receipt(await adapter.submit(bridge.batch_action(statement, s)))
                for s in slices
            ]
            return stored, delivered, again.value

    stored, delivered, again = asyncio.run(scenario())
    assert stored.success is True
    assert [r.success for r in delivered] == [True, True]
    endpoint = EvmBridge(ChainId(LOCAL_CHAIN), env.domain)
    assert endpoint.is_root_stored_refusal(str(again.details["reason"]))
    assert voucher_balance(env, env.alice) == sum(5 + i for i in range(6))


# --- the gas a delivery is sent with ----------------------------------------------------------


def test_the_python_member_gas_is_the_contracts(env: Env) -> None:
    """``receive_batch_gas_bound`` keeps the contract's reserve: the two must not drift."""
    assert env.bridge.view("MEMBER_GAS") == MEMBER_GAS


def _deliver_through_adapter(
    env: Env, settings: EvmChainSettings, packets: list[Packet], *, store_root: bool = True
) -> tuple[int, TxReceipt]:
    """Store the packets' root (unless told not to) and send one ``batch_action`` of all of
    them through the adapter: the sent transaction's gas limit and its receipt."""

    async def scenario() -> tuple[bytes, TxReceipt]:
        async with EvmAdapter(settings) as adapter:
            bridge = adapter.bridge()
            neutral = [from_evm_packet(p) for p in packets]
            statement, proofs = _delivery_statement(bridge, neutral)
            if store_root:
                certificate = env.certify(bridge.batch_digest(statement))
                await adapter.submit(bridge.store_root_action(statement, certificate))
            members = [BatchMember(p, i, proofs[i]) for i, p in enumerate(neutral)]
            tx_hash = await adapter.submit(bridge.batch_action(statement, members))
            return tx_hash, await adapter.wait_receipt(tx_hash)

    tx_hash, receipt = asyncio.run(scenario())
    sent = env.chain.call("eth_getTransactionByHash", "0x" + tx_hash.hex())
    return int(sent["gas"], 16), receipt


def test_a_delivery_is_sent_with_its_gas_bound_checked_by_one_execution(
    env: Env, evm_settings: Callable[..., EvmChainSettings]
) -> None:
    """No estimate: the bound ran (an ``eth_call`` on the pending state, where the root sent
    just before is stored), so it is the transaction's gas limit; every member lands. (The
    denomination's first delivery deploys its voucher, above the asset bound: made first.)"""
    first = inbound_batch(env, 1)
    store(env, first)
    env.bridge.transact("receiveBatch", first.statement, *first.members(), sender=env.relayer)
    packets = [env.inbound(sequence=i + 2, amount=10 + i) for i in range(4)]
    gas, receipt = _deliver_through_adapter(env, _settings(env, evm_settings), packets)
    assert gas == receive_batch_gas_bound(4)
    assert receipt.success is True
    assert voucher_balance(env, env.alice) == 100 + sum(10 + i for i in range(4))


def test_a_delivery_that_needs_more_than_its_bound_is_estimated(
    env: Env, evm_settings: Callable[..., EvmChainSettings]
) -> None:
    """A receiver that burns its whole ``MEMBER_GAS`` puts the batch above the asset bound:
    the check fails, the estimate gives the gas, and the batch lands with that member
    failed alone (as when sent with any gas enough)."""
    greedy = env.chain.deploy("GreedyReceiver", sender=env.admin)
    packets = [
        env.inbound(sequence=1, amount=10),
        env.inbound(
            sequence=2, denom="", amount=0, payload=b"x", receiver=bytes.fromhex(greedy.address[2:])
        ),
        env.inbound(sequence=3, amount=30),
    ]
    gas, receipt = _deliver_through_adapter(env, _settings(env, evm_settings), packets)
    assert gas > receive_batch_gas_bound(3)
    assert receipt.success is True
    assert env.bridge.view("failed", SOURCE, 2)
    assert voucher_balance(env, env.alice) == 40


def test_a_delivery_of_a_root_not_stored_is_refused_before_sending(
    env: Env, evm_settings: Callable[..., EvmChainSettings]
) -> None:
    """The bound's execution reverts, and so does the estimate after it: the contract's
    reason reaches the relayer and nothing is sent."""
    packets = [env.inbound(sequence=1, amount=10)]
    nonce_before = env.chain.call("eth_getTransactionCount", env.relayer, "pending")
    with pytest.raises(ChainRejected) as refused:
        _deliver_through_adapter(env, _settings(env, evm_settings), packets, store_root=False)
    assert refused.value.details["reason"] == "Bridge: root not stored"
    assert env.chain.call("eth_getTransactionCount", env.relayer, "pending") == nonce_before
