"""The bridges' batch endpoints (#15), pure: leaves, statement digests, actions.

The contract's own ``batchDigest`` is compared with the EVM digest on anvil in
``tests/evm/test_bridge_batch.py``; the devnet module's acceptance of these
actions in ``tests/devnet/test_bridge_batch.py``. Here each family's signing bytes
are recomputed independently from the spec (``docs/evm-bridge.md``,
``docs/notary.md`` "Batches") and the action shapes pinned.
"""

from __future__ import annotations

import dataclasses

import pytest
import rlp

from adapters.evm.bridge import EvmBridge, statement_abi, to_evm_packet
from adapters.evm.certificate import BridgeDomain, compute_packet_hash, keccak
from adapters.pujiang import actions
from adapters.pujiang.bridge import PujiangBridge, to_wire_packet
from core.batches import BatchKind, BatchMember, BatchStatement
from core.errors import InvalidInput
from core.ids import ChainId
from core.types import Packet
from proofs.hashing import SHA256, SM3, get_hash_function
from proofs.notary.batch import compute_batch_proofs, compute_batch_root, verify_batch_member
from proofs.notary.ecdsa import address_of_private_key, sign
from proofs.pujiang import codec

EVM = ChainId("anvil-31337")
PJ = ChainId("pujiang-dev")
DOMAIN = BridgeDomain(31337, "0x" + "ab" * 20)
KEYS = [bytes([i + 1]) * 32 for i in range(3)]
MEMBERS = ["0x" + address_of_private_key(k).hex() for k in KEYS]


def packet(sequence: int, source: ChainId = PJ, dest: ChainId = EVM) -> Packet:
    return Packet(
        source_chain=source,
        dest_chain=dest,
        sequence=sequence,
        sender=b"\x11" * 20,
        receiver=b"\x22" * 20,
        denom="upj",
        amount=1000 + sequence,
        timeout_time_ms=1_900_000_000_000,
    )


def statement(kind: BatchKind = BatchKind.DELIVERY, **changes: object) -> BatchStatement:
    base = BatchStatement(str(PJ), str(EVM), 1, kind, 3, b"\x07" * 32)
    return dataclasses.replace(base, **changes)


def u256(value: int) -> bytes:
    return value.to_bytes(32, "big")


# --- EVM -------------------------------------------------------------------------------


def test_evm_batch_digest_is_eip712_packetbatch_over_the_bridge_domain() -> None:
    bridge = EvmBridge(EVM, DOMAIN)
    s = statement()
    type_hash = keccak(
        b"PacketBatch(string sourceChain,string destChain,uint64 epoch,uint8 kind,"
        b"uint32 size,bytes32 root)"
    )
    struct = keccak(
        type_hash
        + keccak(s.source_chain.encode())
        + keccak(s.dest_chain.encode())
        + u256(s.epoch)
        + u256(int(s.kind))
        + u256(s.size)
        + s.root
    )
    domain = keccak(
        keccak(
            b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
        )
        + keccak(b"PujiangBridge")
        + keccak(b"1")
        + u256(31337)
        + bytes(12)
        + bytes.fromhex("ab" * 20)
    )
    assert bridge.batch_digest(s) == keccak(b"\x19\x01" + domain + struct)


def test_evm_batch_leaf_is_the_packet_commitment_and_the_tree_is_keccak() -> None:
    bridge = EvmBridge(EVM, DOMAIN)
    p = packet(1)
    assert bridge.batch_leaf(p) == compute_packet_hash(to_evm_packet(p))
    assert bridge.batch_hash_name() == "keccak256"


@pytest.mark.parametrize("kind", list(BatchKind))
def test_each_kind_is_digested_only_by_the_chain_that_acts_on_it(kind: BatchKind) -> None:
    """DELIVERY acts on the destination (EVM here), the others on the source (Pujiang)."""
    evm, pj = EvmBridge(EVM, DOMAIN), PujiangBridge(PJ, SHA256)
    acting, other = (evm, pj) if kind is BatchKind.DELIVERY else (pj, evm)
    assert len(acting.batch_digest(statement(kind))) == 32
    with pytest.raises(InvalidInput, match=f"acts on {acting.chain_id}, not {other.chain_id}"):
        other.batch_digest(statement(kind))


def test_evm_store_root_action_orders_signatures_and_keys_on_the_statement() -> None:
    bridge = EvmBridge(EVM, DOMAIN, 2, MEMBERS)
    s = statement()
    signatures = [sign(k, bridge.batch_digest(s)) for k in KEYS]
    action = bridge.store_root_action(s, list(reversed(signatures)))
    by_address = [
        sig for _, sig in sorted(zip(MEMBERS, signatures, strict=True), key=lambda p: int(p[0], 16))
    ]
    assert action.kind == "bridge.submitRoot"
    assert action.payload["args"] == [statement_abi(s), by_address]
    assert action.idempotency_key == (f"bridge.submitRoot:{PJ}/{EVM}/1/DELIVERY/3/0x{'07' * 32}")


@pytest.mark.parametrize(
    ("kind", "entry"),
    [
        (BatchKind.DELIVERY, "bridge.receiveBatch"),
        (BatchKind.NONDELIVERY, "bridge.refundBatch"),
        (BatchKind.ERROR_ACK, "bridge.refundBatch"),
        (BatchKind.ACK, "bridge.acknowledgeBatch"),
    ],
)
def test_evm_batch_action_names_the_entry_point_of_its_kind(kind: BatchKind, entry: str) -> None:
    source, dest = (PJ, EVM) if kind is BatchKind.DELIVERY else (EVM, PJ)
    packets = [packet(i, source, dest) for i in (1, 2, 3)]
    bridge = EvmBridge(EVM, DOMAIN)
    leaves = [bridge.batch_leaf(p) for p in packets]
    root = compute_batch_root(leaves, hash_fn=get_hash_function("keccak256"))
    proofs = compute_batch_proofs(leaves, hash_fn=get_hash_function("keccak256"))
    s = BatchStatement(str(source), str(dest), 1, kind, 3, root)
    members = [BatchMember(packets[i], i, proofs[i]) for i in (2, 0)]
    action = bridge.batch_action(s, members)
    assert action.kind == entry
    statement_args, packet_args, indices, proof_args = action.payload["args"]  # type: ignore[misc]
    assert statement_args == statement_abi(s)
    assert packet_args == [to_evm_packet(packets[2]).as_abi(), to_evm_packet(packets[0]).as_abi()]
    assert indices == [2, 0]
    assert proof_args == [list(proofs[2]), list(proofs[0])]
    assert action.idempotency_key.startswith(f"{entry}:{source}/{dest}/1/{kind.name}/3/0x")


def test_a_slice_of_a_batch_has_its_own_idempotency_key() -> None:
    bridge = EvmBridge(EVM, DOMAIN)
    s = statement()
    first = bridge.batch_action(s, [BatchMember(packet(1), 0, ())])
    second = bridge.batch_action(s, [BatchMember(packet(2), 1, ())])
    assert first.idempotency_key != second.idempotency_key


@pytest.mark.parametrize(
    ("member", "refusal"),
    [
        (BatchMember(packet(1, PJ, ChainId("other-chain")), 0, ()), "is of route"),
        (BatchMember(packet(1), 3, ()), "outside the batch of 3"),
        (BatchMember(packet(1), -1, ()), "outside the batch of 3"),
    ],
)
def test_batch_action_refuses_a_member_that_cannot_belong(
    member: BatchMember, refusal: str
) -> None:
    with pytest.raises(InvalidInput, match=refusal):
        EvmBridge(EVM, DOMAIN).batch_action(statement(), [member])


def test_batch_action_refuses_an_index_twice_and_an_empty_slice() -> None:
    bridge = EvmBridge(EVM, DOMAIN)
    twice = [BatchMember(packet(1), 0, ()), BatchMember(packet(1), 0, ())]
    with pytest.raises(InvalidInput, match="given twice"):
        bridge.batch_action(statement(), twice)
    with pytest.raises(InvalidInput, match="at least one member"):
        bridge.batch_action(statement(), [])


def test_committee_epoch_is_the_configured_one() -> None:
    assert EvmBridge(EVM, DOMAIN).committee_epoch() == 1
    assert EvmBridge(EVM, DOMAIN, 2, MEMBERS, epoch=4).committee_epoch() == 4
    assert PujiangBridge(PJ, SHA256, epoch=9).committee_epoch() == 9
    with pytest.raises(InvalidInput, match="epoch"):
        EvmBridge(EVM, DOMAIN, epoch=0)


# --- Pujiang ---------------------------------------------------------------------------


@pytest.mark.parametrize("hash_fn", [SHA256, SM3], ids=["sha256", "sm3"])
def test_pujiang_batch_digest_and_leaf_follow_the_chain_hash_profile(hash_fn: object) -> None:
    bridge = PujiangBridge(PJ, hash_fn)  # type: ignore[arg-type]
    s = statement(BatchKind.ERROR_ACK, source_chain=str(PJ), dest_chain=str(EVM), epoch=2)
    expected = hash_fn(  # type: ignore[operator]
        rlp.encode([b"pujiang/batch/v1", str(PJ).encode(), str(EVM).encode(), 2, 3, 3, s.root])
    )
    assert bridge.batch_digest(s) == expected
    p = packet(5, PJ, EVM)
    assert bridge.batch_leaf(p) == hash_fn(  # type: ignore[operator]
        rlp.encode([b"pujiang/packet/v1", rlp.encode(to_wire_packet(p))])
    )
    assert bridge.batch_hash_name() == hash_fn.name  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kind", "action_kind"),
    [
        (BatchKind.DELIVERY, "bridge_recv_batch"),
        (BatchKind.NONDELIVERY, "bridge_refund_batch"),
        (BatchKind.ERROR_ACK, "bridge_refund_batch"),
        (BatchKind.ACK, "bridge_ack_batch"),
    ],
)
def test_pujiang_batch_actions_decode_into_the_transaction_args(
    kind: BatchKind, action_kind: str
) -> None:
    source, dest = (EVM, PJ) if kind is BatchKind.DELIVERY else (PJ, EVM)
    bridge = PujiangBridge(PJ, SHA256)
    packets = [packet(i, source, dest) for i in (1, 2, 3)]
    leaves = [bridge.batch_leaf(p) for p in packets]
    root = compute_batch_root(leaves, hash_fn=SHA256)
    proofs = compute_batch_proofs(leaves, hash_fn=SHA256)
    s = BatchStatement(str(source), str(dest), 1, kind, 3, root)
    for i in range(3):
        verify_batch_member(leaves[i], i, proofs[i], s, hash_fn=SHA256)

    store = bridge.store_root_action(s, [sign(k, bridge.batch_digest(s)) for k in KEYS[:2]])
    assert store.kind == "bridge_store_root"
    wire_statement, certificate = actions.tx_args(store.kind, store.payload)
    assert wire_statement.root == root
    assert wire_statement.kind == int(kind)
    assert len(certificate.signatures) == 2

    act = bridge.batch_action(s, [BatchMember(packets[1], 1, proofs[1])])
    assert act.kind == action_kind
    _, members = actions.tx_args(act.kind, act.payload)
    assert [(m.packet, m.index, list(m.proof)) for m in members] == [
        (to_wire_packet(packets[1]), 1, list(proofs[1]))
    ]
    assert codec.encode(members[0].packet) == codec.encode(to_wire_packet(packets[1]))


def test_pujiang_batch_capacity_fits_the_transaction_bound_and_more_is_refused() -> None:
    bridge = PujiangBridge(PJ, SHA256)
    packets = [packet(i + 1, EVM, PJ) for i in range(256)]
    leaves = [bridge.batch_leaf(p) for p in packets]
    proofs = compute_batch_proofs(leaves, hash_fn=SHA256)
    s = BatchStatement(str(EVM), str(PJ), 1, BatchKind.DELIVERY, 256, b"\x07" * 32)
    members = [BatchMember(p, i, proofs[i]) for i, p in enumerate(packets)]
    capacity = bridge.batch_capacity()
    action = bridge.batch_action(s, members[:capacity])
    signed = actions.build_signed_tx(
        actions.TxSigner(b"\x01" * 32),
        str(PJ),
        0,
        action.kind,
        actions.tx_args(action.kind, action.payload),
    )
    assert len(signed) <= 64 * 1024
    with pytest.raises(InvalidInput, match="split the slice"):
        bridge.batch_action(s, members)


@pytest.mark.parametrize(
    ("cap", "multiplier"), [(10_000_000, 1.25), (30_000_000, 1.0), (5_000_000, 2.0), (21_000, 3.0)]
)
def test_evm_batch_capacity_fits_the_relayers_gas_cap(cap: int, multiplier: float) -> None:
    """A chunk of ``batch_capacity()`` members, at the measured gas per member and with the
    estimate margin, stays under ``max_gas_per_tx`` (else every send of it is refused: the
    hub benchmark saw 128 members need 10.79M against the default 10M cap)."""
    from adapters.evm.bridge import (
        BATCH_BASE_GAS,
        BATCH_CAPACITY,
        BATCH_MEMBER_GAS,
        batch_capacity_for,
    )

    capacity = batch_capacity_for(cap, multiplier)
    assert 1 <= capacity <= BATCH_CAPACITY
    if capacity > 1:
        assert (BATCH_BASE_GAS + capacity * BATCH_MEMBER_GAS) * multiplier <= cap
    assert batch_capacity_for(10_000_000, 1.25) == 72  # the default settings
