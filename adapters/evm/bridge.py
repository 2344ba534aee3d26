"""``EvmBridge``: ``contracts/Bridge.sol`` behind the ``core.seams.BridgeEndpoint`` seam.

Pure translation between the chain-neutral ``core.types.Packet`` and the
contract's ``Packet`` struct (``adapters.evm.certificate.Packet``): the
``SendPacket``/``RecvPacket`` events the adapter decoded become core packets,
and core packets become EIP-712 digests over this bridge's domain and
``bridge.receivePacket`` / ``bridge.timeoutPacket`` actions.

Timeouts: a core packet carries unix milliseconds, the contract stores
seconds. A value that is not a whole number of seconds cannot be represented
here and is refused (``InvalidInput``) rather than rounded: rounding would
make the destination's timeout differ from the one the source committed to.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.bridge_base import BridgeBase
from adapters.evm.certificate import (
    BridgeDomain,
    compute_not_delivered_digest,
    compute_packet_digest,
)
from adapters.evm.certificate import Packet as EvmPacket
from core.errors import InvalidInput
from core.ids import ChainId
from core.types import ChainAction, ChainEvent, EventKind, Packet
from proofs.notary.ecdsa import order_by_signer
from proofs.notary.nondelivery import compute_evm_received_slot

UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1

RECEIVE = "bridge.receivePacket"
REFUND = "bridge.timeoutPacket"


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

    def __init__(
        self,
        chain_id: ChainId,
        domain: BridgeDomain,
        threshold: int = 0,
        members: Sequence[str] = (),
    ) -> None:
        super().__init__(chain_id, threshold, members)
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


__all__ = ["EvmBridge", "from_evm_packet", "to_evm_packet"]
