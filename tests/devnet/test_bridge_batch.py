"""The devnet bridge module's batches (#15): store a root, deliver/refund/clear many per tx.

Real transactions in real blocks of an in-process node (fake clock). The
malleate tables break one thing per row and assert the typed reason the
receipt carries (``devnet.txs.Reason``), the same refusals as
``tests/evm/test_bridge_batch.py`` asserts on anvil.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import rlp
from coincurve import PrivateKey

from adapters.pujiang import actions, wire
from adapters.pujiang.bridge import PujiangBridge, from_wire_packet
from core.batches import BatchKind, BatchMember, BatchStatement
from core.ids import ChainId, Height
from core.types import ChainEvent, EventKind
from devnet import keys
from devnet.modules.notary import read_committee_epoch
from devnet.state import NOTARIES_KEY, Committed, failed_key, packet_key, recv_key
from devnet.txs import Reason
from proofs.hashing import SHA256
from proofs.notary.batch import compute_batch_proofs, compute_batch_root
from proofs.pujiang import codec
from tests.devnet.test_bridge import FAR, escrow, foreign_packet, send, sent_packet
from tests.devnet.test_transactions import reason_of
from tests.fixtures.devnet_chain import CHAIN, OTHER, Chain


@dataclass
class Batch:
    statement: codec.BatchStatement
    packets: list[codec.Packet]
    proofs: list[tuple[bytes, ...]]

    def members(self, indices: list[int] | None = None) -> list[codec.BatchMember]:
        chosen = range(len(self.packets)) if indices is None else indices
        return [
            codec.BatchMember(packet=self.packets[i], index=i, proof=list(self.proofs[i]))
            for i in chosen
        ]


def make_batch(
    chain: Chain, packets: list[codec.Packet], kind: BatchKind = BatchKind.DELIVERY, epoch: int = 1
) -> Batch:
    leaves = [codec.compute_packet_digest(p, chain.hash_fn) for p in packets]
    statement = codec.BatchStatement(
        source_chain=packets[0].source_chain,
        dest_chain=packets[0].dest_chain,
        epoch=epoch,
        kind=int(kind),
        size=len(packets),
        root=compute_batch_root(leaves, hash_fn=chain.hash_fn),
    )
    return Batch(statement, packets, compute_batch_proofs(leaves, hash_fn=chain.hash_fn))


def store(
    chain: Chain, statement: codec.BatchStatement, signers: list[int] | None = None
) -> dict[str, object]:
    certificate = chain.certificate(codec.compute_batch_digest(statement, chain.hash_fn), signers)
    return chain.run1(2, "bridge_store_root", [statement, certificate])


def act(
    chain: Chain, kind: str, statement: codec.BatchStatement, members: list[codec.BatchMember]
) -> dict[str, object]:
    return chain.run1(2, kind, [statement, members])


def inbound(chain: Chain, size: int = 4) -> Batch:
    return make_batch(chain, [foreign_packet(chain, i + 1, amount=10 + i) for i in range(size)])


def chain_event(chain: Chain, item: dict[str, object]) -> ChainEvent:
    """A receipt's event as the Pujiang adapter hands it to the hub."""
    decoded = codec.decode_event(bytes.fromhex(str(item["event"])[2:]))
    return ChainEvent(
        chain_id=ChainId(CHAIN),
        height=Height(0),
        kind=wire.EVENT_KINDS[decoded.kind],
        tx_hash=b"\x00" * 32,
        position=(decoded.tx_index, decoded.event_index),
        attributes=wire.event_attributes(decoded),
    )


def kinds(receipt: dict[str, object]) -> list[str]:
    return [e["kind"] for e in receipt["events"]]  # type: ignore[index, union-attr]


# --- delivery --------------------------------------------------------------------------------


def test_one_root_delivers_a_whole_batch_in_one_transaction(chain: Chain) -> None:
    batch = inbound(chain, 5)
    assert store(chain, batch.statement)["status"] == "committed"

    receipt = act(chain, "bridge_recv_batch", batch.statement, batch.members([4, 0, 2, 1, 3]))

    assert receipt["status"] == "committed"
    assert kinds(receipt) == ["recv_packet"] * 5
    assert chain.balance(1, "evm-1/uusdc") == sum(10 + i for i in range(5))
    for i, packet in enumerate(batch.packets):
        stored = chain.node.state_value(recv_key(OTHER.encode(), i + 1))
        assert stored == chain.hash_fn(rlp.encode(packet))


def test_a_member_whose_delivery_fails_fails_alone(chain: Chain) -> None:
    """An escrow short for one member: it is received and failed, the others land."""
    send(chain, amount=10)  # 10 upj escrowed for evm-1
    packets = [
        foreign_packet(chain, 1, amount=5),
        foreign_packet(chain, 2, denom=f"{CHAIN}/upj".encode(), amount=11),  # escrow holds 10
        foreign_packet(chain, 3, amount=7),
    ]
    batch = make_batch(chain, packets)
    store(chain, batch.statement)

    receipt = act(chain, "bridge_recv_batch", batch.statement, batch.members())

    assert receipt["status"] == "committed"
    assert kinds(receipt) == ["recv_packet", "packet_failed", "recv_packet"]
    failed = receipt["events"][1]  # type: ignore[index]
    assert failed["attributes"]["sequence"] == 2
    assert failed["attributes"]["reason"].startswith("escrow-short:")
    assert chain.node.state_value(recv_key(OTHER.encode(), 2)) is not None
    assert chain.node.state_value(failed_key(OTHER.encode(), 2)) is not None
    assert chain.node.state_value(failed_key(OTHER.encode(), 1)) is None
    assert chain.balance(1, "evm-1/uusdc") == 12
    assert escrow(chain) == 10

    # the adapter reads the failure as PACKET_FAILED, matched to its packet (ERROR_ACK)
    endpoint = PujiangBridge(ChainId(CHAIN), chain.hash_fn)
    events = [chain_event(chain, e) for e in receipt["events"]]  # type: ignore[union-attr]
    assert [e.kind for e in events] == [
        EventKind.RECEIVE_PACKET,
        EventKind.PACKET_FAILED,
        EventKind.RECEIVE_PACKET,
    ]
    assert endpoint.is_failed_event(events[1], from_wire_packet(packets[1]))
    assert not endpoint.is_failed_event(events[1], from_wire_packet(packets[0]))
    assert endpoint.is_delivered_event(events[0], from_wire_packet(packets[0]))
    # each event decoded once names its packet (how a chunk's block is matched to members)
    assert [endpoint.delivered_packet(e) for e in events] == [
        from_wire_packet(packets[0]),
        None,
        from_wire_packet(packets[2]),
    ]
    assert [endpoint.failed_packet(e) for e in events] == [None, from_wire_packet(packets[1]), None]


def test_a_root_is_stored_once(chain: Chain) -> None:
    batch = inbound(chain)
    store(chain, batch.statement)
    again = store(chain, batch.statement)
    assert reason_of(again) == Reason.ROOT_STORED
    endpoint = PujiangBridge(ChainId(CHAIN), chain.hash_fn)
    assert endpoint.is_root_stored_refusal(str(again["reason"]))
    assert not endpoint.is_root_stored_refusal("root-unknown: no such batch root is stored here")


# --- refusals: storing a root ----------------------------------------------------------------


def _with(statement: codec.BatchStatement, **changes: object) -> codec.BatchStatement:
    return statement.copy(**changes)


@pytest.mark.parametrize(
    ("changes", "signers", "reason"),
    [
        ({}, [0], Reason.BAD_CERTIFICATE),  # too few (threshold 2)
        ({}, [0, 0], Reason.BAD_CERTIFICATE),  # duplicate signer
        ({"dest_chain": b"cosmos-hub"}, None, Reason.WRONG_DESTINATION),
        ({"source_chain": CHAIN.encode()}, None, Reason.BAD_ARGS),  # a route of one chain
        ({"kind": int(BatchKind.NONDELIVERY)}, None, Reason.WRONG_DESTINATION),
        ({"kind": 4}, None, Reason.BAD_ARGS),
        ({"epoch": 2}, None, Reason.WRONG_EPOCH),
        ({"size": 0}, None, Reason.BAD_ARGS),
        ({"size": 257}, None, Reason.BAD_ARGS),
    ],
    ids=[
        "too-few",
        "duplicate",
        "other-dest",
        "from-here",
        "source-kind-here",
        "kind",
        "epoch",
        "size-0",
        "size-257",
    ],
)
def test_a_root_this_chain_must_not_store_is_refused(
    chain: Chain, changes: dict[str, object], signers: list[int] | None, reason: Reason
) -> None:
    statement = _with(inbound(chain).statement, **changes)
    assert reason_of(store(chain, statement, signers)) == reason


def test_a_root_signed_by_a_non_member_is_refused(chain: Chain) -> None:
    statement = inbound(chain).statement
    digest = codec.compute_batch_digest(statement, chain.hash_fn)
    stranger = PrivateKey(b"\x42" * 32)
    certificate = keys.sign_certificate([chain.notaries[0], stranger], digest)
    receipt = chain.run1(2, "bridge_store_root", [statement, certificate])
    assert reason_of(receipt) == Reason.BAD_CERTIFICATE
    assert "not a member of the committee" in str(receipt["reason"])


def test_the_committee_entry_reads_its_epoch_and_an_old_entry_as_epoch_one() -> None:
    old = Committed({NOTARIES_KEY: rlp.encode([2, [b"\x01" * 20, b"\x02" * 20]])})
    new = Committed({NOTARIES_KEY: rlp.encode([2, [b"\x01" * 20, b"\x02" * 20], 3])})
    assert read_committee_epoch(old) == 1
    assert read_committee_epoch(new) == 3


# --- refusals: acting on a stored root -------------------------------------------------------


def _stored(chain: Chain) -> Batch:
    batch = inbound(chain, 4)
    store(chain, batch.statement)
    return batch


Call = tuple[str, codec.BatchStatement, list[codec.BatchMember]]


def _ok(batch: Batch) -> Call:
    return ("bridge_recv_batch", batch.statement, batch.members([1, 2]))


def _foreign_packet(chain: Chain, batch: Batch) -> Call:
    kind, statement, members = _ok(batch)
    forged = members[1].packet.copy(amount=10**9)
    return kind, statement, [members[0], members[1].copy(packet=forged)]


def _other_index(chain: Chain, batch: Batch) -> Call:
    kind, statement, members = _ok(batch)
    return kind, statement, [members[0], members[1].copy(index=3)]


def _other_proof(chain: Chain, batch: Batch) -> Call:
    kind, statement, members = _ok(batch)
    return kind, statement, [members[0], members[1].copy(proof=list(batch.proofs[3]))]


def _inner_node(chain: Chain, batch: Batch) -> Call:
    """Leaf 0 with its parent's proof: it would pass only if an inner node counted as a leaf."""
    kind, statement, _ = _ok(batch)
    (first,) = batch.members([0])
    return kind, statement, [first.copy(proof=list(batch.proofs[0][1:]))]


def _other_route(chain: Chain, batch: Batch) -> Call:
    kind, statement, members = _ok(batch)
    stranger = members[1].packet.copy(source_chain=b"cosmos-hub")
    return kind, statement, [members[0], members[1].copy(packet=stranger)]


def _not_for_here(chain: Chain, batch: Batch) -> Call:
    kind, statement, members = _ok(batch)
    elsewhere = members[1].packet.copy(dest_chain=b"cosmos-hub")
    return kind, statement, [members[0], members[1].copy(packet=elsewhere)]


def _timed_out(chain: Chain, batch: Batch) -> Call:
    chain.clock.advance(FAR)
    return _ok(batch)


def _not_stored(chain: Chain, batch: Batch) -> Call:
    kind, statement, members = _ok(batch)
    return kind, _with(statement, root=b"\x01" * 32), members


def _wrong_kind(chain: Chain, batch: Batch) -> Call:
    _, statement, members = _ok(batch)
    return "bridge_refund_batch", statement, members


def _empty(chain: Chain, batch: Batch) -> Call:
    kind, statement, _ = _ok(batch)
    return kind, statement, []


def _replayed_packet(chain: Chain, batch: Batch) -> Call:
    assert act(chain, *_ok(batch))["status"] == "committed"
    return _ok(batch)


Break = Callable[[Chain, Batch], Call]


@pytest.mark.parametrize(
    ("breaks", "reason"),
    [
        (_foreign_packet, Reason.NOT_IN_ROOT),
        (_other_index, Reason.NOT_IN_ROOT),
        (_other_proof, Reason.NOT_IN_ROOT),
        (_inner_node, Reason.NOT_IN_ROOT),
        (_other_route, Reason.BATCH_ROUTE),
        (_not_for_here, Reason.WRONG_DESTINATION),
        (_timed_out, Reason.PACKET_TIMED_OUT),
        (_not_stored, Reason.ROOT_UNKNOWN),
        (_wrong_kind, Reason.BATCH_KIND),
        (_empty, Reason.BAD_ARGS),
        (_replayed_packet, Reason.REPLAYED_PACKET),
    ],
    ids=[
        "packet-not-in-root",
        "proof-for-another-index",
        "another-members-proof",
        "inner-node-as-leaf",
        "other-route",
        "not-for-this-chain",
        "timed-out",
        "root-not-stored",
        "kind-mismatch",
        "empty",
        "replayed-packet",
    ],
)
def test_a_bad_batch_delivery_is_refused(chain: Chain, breaks: Break, reason: Reason) -> None:
    batch = _stored(chain)
    receipt = act(chain, *breaks(chain, batch))
    assert reason_of(receipt) == reason
    assert chain.balance(1, "evm-1/uusdc") == (23 if breaks is _replayed_packet else 0)


# --- the source side ---------------------------------------------------------------------


def _sent(chain: Chain, count: int) -> list[codec.Packet]:
    return [sent_packet(send(chain, amount=100 + i)) for i in range(count)]


@pytest.mark.parametrize("kind", [BatchKind.NONDELIVERY, BatchKind.ERROR_ACK])
def test_refund_batch_pays_every_member_back(chain: Chain, kind: BatchKind) -> None:
    packets = _sent(chain, 3)
    batch = make_batch(chain, packets, kind)
    assert store(chain, batch.statement)["status"] == "committed"
    before = chain.balance(0, "upj")
    if kind is BatchKind.NONDELIVERY:
        early = act(chain, "bridge_refund_batch", batch.statement, batch.members())
        assert reason_of(early) == Reason.NOT_TIMED_OUT
        chain.clock.advance(FAR)

    receipt = act(chain, "bridge_refund_batch", batch.statement, batch.members())

    assert kinds(receipt) == ["timeout_packet"] * 3
    assert chain.balance(0, "upj") == before + 303
    assert escrow(chain) == 0
    assert all(chain.node.state_value(packet_key(OTHER.encode(), s)) is None for s in (1, 2, 3))
    again = act(chain, "bridge_refund_batch", batch.statement, batch.members())
    assert reason_of(again) == Reason.UNKNOWN_PACKET


def test_ack_batch_clears_commitments_without_refunding(chain: Chain) -> None:
    packets = _sent(chain, 2)
    batch = make_batch(chain, packets, BatchKind.ACK)
    store(chain, batch.statement)
    before = chain.balance(0, "upj")

    receipt = act(chain, "bridge_ack_batch", batch.statement, batch.members())

    assert kinds(receipt) == ["acknowledge_packet"] * 2
    assert chain.balance(0, "upj") == before
    assert escrow(chain) == 201
    assert chain.node.state_value(packet_key(OTHER.encode(), 1)) is None


@pytest.mark.parametrize(
    ("tx", "kind"),
    [
        ("bridge_refund_batch", BatchKind.ACK),
        ("bridge_ack_batch", BatchKind.NONDELIVERY),
        ("bridge_recv_batch", BatchKind.ERROR_ACK),
    ],
)
def test_a_source_root_acts_only_through_its_own_transaction(
    chain: Chain, tx: str, kind: BatchKind
) -> None:
    batch = make_batch(chain, _sent(chain, 2), kind)
    store(chain, batch.statement)
    assert reason_of(act(chain, tx, batch.statement, batch.members())) == Reason.BATCH_KIND


def test_a_refund_of_a_packet_that_differs_from_its_commitment_is_refused(chain: Chain) -> None:
    packets = _sent(chain, 2)
    batch = make_batch(chain, packets, BatchKind.ERROR_ACK)
    store(chain, batch.statement)
    members = batch.members()
    forged = members[1].copy(packet=members[1].packet.copy(amount=10**6))
    receipt = act(chain, "bridge_refund_batch", batch.statement, [members[0], forged])
    assert reason_of(receipt) == Reason.UNKNOWN_PACKET


def test_a_full_capacity_slice_is_one_transaction_the_chain_accepts(chain: Chain) -> None:
    """``PujiangBridge.batch_capacity()`` members, built by the adapter, in one block."""
    endpoint = PujiangBridge(ChainId(CHAIN), chain.hash_fn)
    capacity = endpoint.batch_capacity()
    batch = inbound(chain, capacity)
    store(chain, batch.statement)
    core_statement = BatchStatement(
        OTHER, CHAIN, 1, BatchKind.DELIVERY, capacity, batch.statement.root
    )
    members = [
        BatchMember(from_wire_packet(p), i, batch.proofs[i]) for i, p in enumerate(batch.packets)
    ]
    action = endpoint.batch_action(core_statement, members)

    receipt = chain.run1(2, action.kind, actions.tx_args(action.kind, action.payload))

    assert receipt["status"] == "committed"
    assert kinds(receipt) == ["recv_packet"] * capacity
    assert chain.balance(1, "evm-1/uusdc") == sum(10 + i for i in range(capacity))


def test_an_sm3_chain_checks_its_batches_with_sm3(chain_factory: Callable[..., Chain]) -> None:
    """The gm profile: the tree and the statement digest are SM3, and a sha256 root fails."""
    gm = chain_factory(hash_profile="sm3", account_scheme="sm2")
    batch = inbound(gm, 3)
    assert store(gm, batch.statement)["status"] == "committed"
    receipt = act(gm, "bridge_recv_batch", batch.statement, batch.members())
    assert kinds(receipt) == ["recv_packet"] * 3

    fresh = make_batch(gm, [foreign_packet(gm, 10 + i) for i in range(3)])
    leaves = [codec.compute_packet_digest(p, SHA256) for p in fresh.packets]
    sha_root = _with(fresh.statement, root=compute_batch_root(leaves, hash_fn=SHA256))
    assert store(gm, sha_root)["status"] == "committed"  # any root may be certified ...
    proofs = compute_batch_proofs(leaves, hash_fn=SHA256)
    members = [m.copy(proof=list(p)) for m, p in zip(fresh.members(), proofs, strict=True)]
    # ... but its sha256 proofs do not verify in the chain's SM3 tree
    assert reason_of(act(gm, "bridge_recv_batch", sha_root, members)) == Reason.NOT_IN_ROOT


# --- committee rotation and old epochs -----------------------------------------------------

NEXT = [PrivateKey(bytes([0x70 + i]) * 32) for i in range(3)]


def committee_epoch(chain: Chain) -> int:
    value = chain.node.state_value(NOTARIES_KEY)
    assert value is not None
    return read_committee_epoch(Committed({NOTARIES_KEY: value}))


def rotate(
    chain: Chain, epoch: int, threshold: int, members: list[bytes], signers: list[PrivateKey]
) -> dict[str, object]:
    digest = codec.compute_notary_rotation_digest(
        CHAIN.encode(), epoch, threshold, members, chain.hash_fn
    )
    certificate = keys.sign_certificate(signers, digest)
    return chain.run1(3, "notary_rotate", [epoch, threshold, members, certificate])


def test_a_root_of_the_old_epoch_is_refused_after_a_rotation(chain: Chain) -> None:
    batch = inbound(chain)
    old_statement = batch.statement  # epoch 1, certified below by the old committee
    members = [keys.notary_address(k) for k in NEXT]
    assert rotate(chain, 2, 2, members, chain.notaries[:2])["status"] == "committed"
    assert committee_epoch(chain) == 2

    assert reason_of(store(chain, old_statement)) == Reason.WRONG_EPOCH
    renewed = _with(old_statement, epoch=2)
    assert reason_of(store(chain, renewed)) == Reason.BAD_CERTIFICATE  # old members
    digest = codec.compute_batch_digest(renewed, chain.hash_fn)
    by_new = keys.sign_certificate(NEXT[:2], digest)
    assert chain.run1(2, "bridge_store_root", [renewed, by_new])["status"] == "committed"
    delivered = act(chain, "bridge_recv_batch", renewed, batch.members())
    assert kinds(delivered) == ["recv_packet"] * 4


@pytest.mark.parametrize(
    ("epoch", "threshold", "members", "reason"),
    [
        (1, 2, 3, Reason.WRONG_EPOCH),  # the current epoch again: a replayed rotation
        (3, 2, 3, Reason.WRONG_EPOCH),  # skipping an epoch
        (2, 1, 3, Reason.BAD_ARGS),  # not a majority
        (2, 4, 3, Reason.BAD_ARGS),  # more than the members
        (2, 2, 0, Reason.BAD_ARGS),  # no members
    ],
    ids=["replayed-epoch", "skipped-epoch", "minority", "threshold-over-size", "empty"],
)
def test_a_bad_rotation_is_refused(
    chain: Chain, epoch: int, threshold: int, members: int, reason: Reason
) -> None:
    addresses = [keys.notary_address(k) for k in NEXT[:members]]
    assert reason_of(rotate(chain, epoch, threshold, addresses, chain.notaries[:2])) == reason
    assert committee_epoch(chain) == 1


def test_a_rotation_needs_the_current_committee_and_distinct_members(chain: Chain) -> None:
    members = [keys.notary_address(k) for k in NEXT]
    assert reason_of(rotate(chain, 2, 2, members, NEXT[:2])) == Reason.BAD_CERTIFICATE
    twice = [members[0], members[0], members[1]]
    assert reason_of(rotate(chain, 2, 2, twice, chain.notaries[:2])) == Reason.BAD_ARGS
    assert rotate(chain, 2, 2, members, chain.notaries[:2])["status"] == "committed"
    assert reason_of(rotate(chain, 2, 2, members, chain.notaries[:2])) == Reason.WRONG_EPOCH
