"""``EvmBridge``: ``contracts/Bridge.sol`` behind the ``core.seams.BridgeEndpoint`` seam.

Pure translation between the chain-neutral ``core.types.Packet`` and the
contract's ``Packet`` struct (``adapters.evm.certificate.Packet``): the
``SendPacket``/``RecvPacket`` events the adapter decoded become core packets,
and core packets become EIP-712 digests over this bridge's domain and
``bridge.receivePacket`` / ``bridge.timeoutPacket`` actions.

Batches (``docs/evm-bridge.md`` "Batches"): a leaf is the packet's EIP-712
struct hash (its commitment on the source), the tree hash keccak-256, the
statement the EIP-712 ``PacketBatch`` over this bridge's domain; actions are
``bridge.submitRoot`` then ``bridge.receiveBatch`` / ``refundBatch`` /
``acknowledgeBatch`` with the members' packets, indices and proofs.

Timeouts: a core packet carries unix milliseconds, the contract stores
seconds. A value that is not a whole number of seconds cannot be represented
here and is refused (``InvalidInput``) rather than rounded: rounding would
make the destination's timeout differ from the one the source committed to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from eth_utils import to_checksum_address

from adapters.bridge_base import BridgeBase
from adapters.evm.certificate import (
    BridgeDomain,
    compute_batch_digest,
    compute_not_delivered_digest,
    compute_packet_digest,
    compute_packet_hash,
    compute_rotation_digest,
)
from adapters.evm.certificate import Packet as EvmPacket
from core.batches import BatchKind, BatchMember, BatchStatement
from core.committee import RotationStatement
from core.errors import InvalidInput
from core.ids import ChainId
from core.types import ChainAction, ChainEvent, EventKind, Packet
from proofs.notary.ecdsa import order_by_signer
from proofs.notary.nondelivery import compute_evm_received_slot

UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1

RECEIVE = "bridge.receivePacket"
REFUND = "bridge.timeoutPacket"
SUBMIT_ROOT = "bridge.submitRoot"
ROTATE = "bridge.rotateCommittee"
BATCH_ENTRY = {
    BatchKind.DELIVERY: "bridge.receiveBatch",
    BatchKind.NONDELIVERY: "bridge.refundBatch",
    BatchKind.ERROR_ACK: "bridge.refundBatch",
    BatchKind.ACK: "bridge.acknowledgeBatch",
}
"""The entry point that acts on members of a stored root of each kind (the contract
refuses a statement of another kind: "Bridge: wrong statement kind")."""

BATCH_CAPACITY = 128
"""Most members one ``receiveBatch`` carries: the largest power of two whose gas stays
under half of a 30M block gas limit. Measured by ``bench/batch_gas.py``
(``docs/benchmarks.md``): ``receiveBatch`` ≈ 36k + 88k gas per asset member, so 170
members fit 15M and 340 fit 30M; half leaves room for members that cost more (a
message receiver's callback), for the block's other transactions and for the
1.53M of gas limit the contract reserves for each delivery (``MEMBER_GAS``)."""
BATCH_BASE_GAS = 36_000
BATCH_MEMBER_GAS = 110_000
"""``receiveBatch``'s gas: the base and, per asset member, a bound above what was measured
(``bench/batch_gas.py``: 88k; the hub benchmark: ~90k per member of a 250-member batch,
whose proofs are 8 nodes long), so a chunk's estimate stays under the cap."""


MEMBER_GAS = 1_500_000
"""``Bridge.MEMBER_GAS``: the gas each delivery of ``receiveBatch`` runs with."""
MEMBER_GAS_RESERVE = MEMBER_GAS * 64 // 63 + 10_000
"""``Bridge.sol``'s reserve: the gas left that each delivery requires before it starts."""


def receive_batch_gas_bound(members: int) -> int:
    """Gas a ``receiveBatch`` of ``members`` asset packets fits: the measured base and
    per-member bounds, and the reserve the last delivery requires. The adapter checks it
    with one execution instead of estimating (``EvmAdapter._gas_of``: the estimate
    searched through about ten executions, held back by the reserve); a batch that needs
    more (a message's callback, a denomination's first delivery deploying its voucher) is
    estimated after that execution fails."""
    return BATCH_BASE_GAS + members * BATCH_MEMBER_GAS + MEMBER_GAS_RESERVE


def batch_capacity_for(max_gas_per_tx: int, gas_limit_multiplier: float) -> int:
    """Members per ``receiveBatch`` that fit the relayer's own gas cap (its estimate times
    the margin must stay under ``max_gas_per_tx``, or the send is refused before it is
    made), at most ``BATCH_CAPACITY``. Found by the hub benchmark (issue #15): with the
    default 10M cap and a 1.25 margin, a chunk of 128 needed 10.79M (and one of 90
    members of a 250-member batch 10.11M) and was refused on every retry."""
    fit = int((max_gas_per_tx / gas_limit_multiplier - BATCH_BASE_GAS) // BATCH_MEMBER_GAS)
    return max(1, min(BATCH_CAPACITY, fit))


def statement_abi(statement: BatchStatement) -> tuple[object, ...]:
    """The ``Bridge.BatchStatement`` tuple eth-abi encodes."""
    return (
        statement.source_chain,
        statement.dest_chain,
        statement.epoch,
        int(statement.kind),
        statement.size,
        statement.root,
    )


def to_evm_packet(packet: Packet) -> EvmPacket:
    """The contract's struct; ``InvalidInput`` for a value it cannot hold exactly."""
    if packet.timeout_time_ms % 1000:
        raise InvalidInput(
            f"timeout_time_ms {packet.timeout_time_ms} is not a whole second: an EVM bridge "
            "stores seconds and the value is not rounded",
            field="timeout_time_ms",
        )
    seconds = packet.timeout_time_ms // 1000
    for name, value, bound in (
        ("sequence", packet.sequence, UINT64_MAX),
        ("timeout_height", packet.timeout_height, UINT64_MAX),
        ("timeout_time_ms", seconds, UINT64_MAX),
        ("amount", packet.amount, UINT256_MAX),
    ):
        if not 0 <= value <= bound:
            raise InvalidInput(f"{name} {value} does not fit the EVM bridge", field=name)
    return EvmPacket(
        sequence=packet.sequence,
        source_chain=str(packet.source_chain),
        dest_chain=str(packet.dest_chain),
        sender=bytes(packet.sender),
        receiver=bytes(packet.receiver),
        denom=packet.denom,
        amount=packet.amount,
        payload=bytes(packet.payload),
        timeout_height=packet.timeout_height,
        timeout_timestamp=seconds,
    )


def from_evm_packet(packet: EvmPacket) -> Packet:
    """The core packet of a decoded struct (``InvalidInput`` for a chain id the hub refuses)."""
    return Packet(
        source_chain=ChainId(packet.source_chain),
        dest_chain=ChainId(packet.dest_chain),
        sequence=packet.sequence,
        sender=bytes(packet.sender),
        receiver=bytes(packet.receiver),
        denom=packet.denom,
        amount=packet.amount,
        payload=bytes(packet.payload),
        timeout_height=packet.timeout_height,
        timeout_time_ms=packet.timeout_timestamp * 1000,
    )


class EvmBridge(BridgeBase):
    """The bridge of one EVM chain: ``chain_id`` as the hub names it, ``domain`` its EIP-712
    domain, ``threshold``/``members`` the committee as configured."""

    ROOT_STORED_REFUSAL = "Bridge: root already stored"
    STALE_ROTATION_REFUSAL = "Bridge: stale rotation epoch"

    def __init__(
        self,
        chain_id: ChainId,
        domain: BridgeDomain,
        threshold: int = 0,
        members: Sequence[str] = (),
        epoch: int = 1,
        capacity: int = BATCH_CAPACITY,
    ) -> None:
        super().__init__(chain_id, threshold, members, epoch)
        self._capacity = capacity
        self.domain = domain

    def __repr__(self) -> str:
        return f"EvmBridge({self.chain_id!r}, {self.domain.verifying_contract})"

    def _decode_packet(self, event: ChainEvent, kind: EventKind) -> Packet:
        contract = event.attributes.get("contract")
        if contract is not None and str(contract).lower() != self.domain.verifying_contract.lower():
            raise InvalidInput(f"event of contract {contract}, not this chain's bridge")
        raw = event.attributes.get("packet")
        if not isinstance(raw, EvmPacket):
            raise InvalidInput(f"{kind} event without a decoded packet")
        return from_evm_packet(raw)

    def receipt_key(self, packet: Packet) -> bytes:
        """The bridge's address (20 bytes) then the slot of ``received[keccak(source)][seq]``."""
        address = bytes.fromhex(self.domain.verifying_contract.removeprefix("0x"))
        return address + compute_evm_received_slot(str(packet.source_chain), packet.sequence)

    def _delivery_digest(self, packet: Packet) -> bytes:
        return compute_packet_digest(self.domain, to_evm_packet(packet))

    def _nondelivery_digest(self, packet: Packet) -> bytes:
        return compute_not_delivered_digest(self.domain, to_evm_packet(packet))

    # --- batches ---------------------------------------------------------------------

    def batch_hash_name(self) -> str:
        return "keccak256"

    def batch_leaf(self, packet: Packet) -> bytes:
        """``hashPacket(packet)``: the EIP-712 struct hash, the packet's commitment."""
        return compute_packet_hash(to_evm_packet(packet))

    def _batch_digest(self, statement: BatchStatement) -> bytes:
        return compute_batch_digest(self.domain, *statement_abi(statement))  # type: ignore[arg-type]

    def batch_capacity(self) -> int:
        return self._capacity

    def store_root_action(
        self, statement: BatchStatement, certificate: Sequence[bytes]
    ) -> ChainAction:
        """``submitRoot(statement, signatures)``, signatures sorted by recovered signer.

        Key: the route, epoch, kind and root (a second send is refused on chain with
        "Bridge: root already stored": ``is_root_stored_refusal``)."""
        signatures = order_by_signer(self.batch_digest(statement), certificate)
        return ChainAction(
            SUBMIT_ROOT,
            {"args": [statement_abi(statement), signatures]},
            f"{SUBMIT_ROOT}:{_statement_key(statement)}",
        )

    def batch_action(
        self, statement: BatchStatement, members: Sequence[BatchMember]
    ) -> ChainAction:
        """``receiveBatch`` / ``refundBatch`` / ``acknowledgeBatch`` (by ``statement.kind``)
        with ``(statement, packets[], indices[], proofs[][])``.

        Key: the statement and the members' indices (sha-256 of the uint16 list, so a
        relayer splitting a batch into transactions gets one key per slice)."""
        self.check_members(statement, members)
        entry = BATCH_ENTRY[statement.kind]
        indices = [m.index for m in members]
        args = [
            statement_abi(statement),
            [to_evm_packet(m.packet).as_abi() for m in members],
            indices,
            [[bytes(p) for p in m.proof] for m in members],
        ]
        slice_key = hashlib.sha256(b"".join(i.to_bytes(2, "big") for i in indices)).hexdigest()
        payload: dict[str, object] = {"args": args}
        if statement.kind is BatchKind.DELIVERY:
            payload["gas_bound"] = receive_batch_gas_bound(len(members))
        return ChainAction(entry, payload, f"{entry}:{_statement_key(statement)}:{slice_key[:16]}")

    # --- committee rotation ----------------------------------------------------------

    def _rotation_digest(self, statement: RotationStatement) -> bytes:
        """EIP-712 ``CommitteeRotation(epoch, members, threshold)`` over this bridge."""
        return compute_rotation_digest(
            self.domain, statement.epoch, statement.members, statement.threshold
        )

    def rotate_action(
        self, statement: RotationStatement, certificate: Sequence[bytes]
    ) -> ChainAction:
        """``rotateCommittee(newEpoch, members, threshold, signatures)``, signatures sorted by
        recovered signer, members increasing (the statement keeps them so)."""
        signatures = order_by_signer(self.rotation_digest(statement), certificate)
        members = [to_checksum_address(m) for m in statement.members]
        return ChainAction(
            ROTATE,
            {"args": [statement.epoch, members, statement.threshold, signatures]},
            f"{ROTATE}:{self.chain_id}/{statement.epoch}",
        )

    # --- actions ---------------------------------------------------------------------

    def deliver_action(self, packet: Packet, certificate: Sequence[bytes]) -> ChainAction:
        """``receivePacket(packet, signatures)``, signatures sorted by recovered signer.

        The order is what the contract checks; every other check (membership,
        threshold) is left to the contract, so a bad certificate fails on chain
        with the contract's reason.
        """
        signatures = order_by_signer(self.delivery_digest(packet), certificate)
        return ChainAction(
            RECEIVE,
            {"args": [to_evm_packet(packet).as_abi(), signatures]},
            f"{RECEIVE}:{packet.source_chain}/{packet.dest_chain}/{packet.sequence}",
        )

    def refund_action(self, packet: Packet, certificate: Sequence[bytes]) -> ChainAction:
        """``timeoutPacket(packet, signatures)`` on this (the source) chain."""
        signatures = order_by_signer(self.nondelivery_digest(packet), certificate)
        return ChainAction(
            REFUND,
            {"args": [to_evm_packet(packet).as_abi(), signatures]},
            f"{REFUND}:{packet.source_chain}/{packet.dest_chain}/{packet.sequence}",
        )


def _statement_key(statement: BatchStatement) -> str:
    return (
        f"{statement.source_chain}/{statement.dest_chain}/{statement.epoch}/"
        f"{statement.kind.name}/{statement.size}/0x{statement.root.hex()}"
    )


__all__ = ["EvmBridge", "from_evm_packet", "statement_abi", "to_evm_packet"]
