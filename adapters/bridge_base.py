"""What every family's ``BridgeEndpoint`` checks the same way, written once.

A family's bridge (``adapters.evm.bridge``, ``adapters.pujiang.bridge``) only
says how its events carry a packet and how its chain hashes one; the identity
checks around them live here, so no family can forget one: an event is of the
expected kind and of this chain, a sent packet names this chain as its source,
a delivery digest is computed only on the packet's destination and a
non-delivery digest only on its source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from core.errors import InvalidInput
from core.ids import ChainId
from core.types import ChainEvent, EventKind, Packet
from proofs.notary.ecdsa import to_address


class BridgeBase(ABC):
    """The shared half of a ``core.seams.BridgeEndpoint``; subclasses add the actions."""

    def __init__(self, chain_id: ChainId, threshold: int = 0, members: Sequence[str] = ()) -> None:
        self.chain_id = chain_id
        self._threshold = threshold
        self._members = tuple("0x" + to_address(m).hex() for m in members)

    # --- the family's part -----------------------------------------------------------

    @abstractmethod
    def _decode_packet(self, event: ChainEvent, kind: EventKind) -> Packet:
        """The packet ``event`` (already checked: of ``kind``, of this chain) carries."""

    @abstractmethod
    def _delivery_digest(self, packet: Packet) -> bytes: ...

    @abstractmethod
    def _nondelivery_digest(self, packet: Packet) -> bytes: ...

    # --- reading events --------------------------------------------------------------

    def _event_packet(self, event: ChainEvent, kind: EventKind) -> Packet:
        if event.kind is not kind:
            raise InvalidInput(f"a {event.kind} event is not a {kind} event")
        if event.chain_id != self.chain_id:
            raise InvalidInput(
                f"an event of {event.chain_id} given to the bridge of {self.chain_id}"
            )
        return self._decode_packet(event, kind)

    def packet_of(self, event: ChainEvent) -> Packet:
        packet = self._event_packet(event, EventKind.SEND_PACKET)
        if packet.source_chain != self.chain_id:
            raise InvalidInput(
                f"send_packet names source {packet.source_chain}, this chain is {self.chain_id}"
            )
        return packet

    def is_delivered_event(self, event: ChainEvent, packet: Packet) -> bool:
        try:
            return self._event_packet(event, EventKind.RECEIVE_PACKET) == packet
        except InvalidInput:
            return False

    # --- digests ---------------------------------------------------------------------

    def delivery_digest(self, packet: Packet) -> bytes:
        if packet.dest_chain != self.chain_id:
            raise InvalidInput(f"packet is for {packet.dest_chain}, not {self.chain_id}")
        return self._delivery_digest(packet)

    def nondelivery_digest(self, packet: Packet) -> bytes:
        if packet.source_chain != self.chain_id:
            raise InvalidInput(f"packet was sent from {packet.source_chain}, not {self.chain_id}")
        return self._nondelivery_digest(packet)

    def committee(self) -> tuple[int, tuple[str, ...]]:
        return self._threshold, self._members


__all__ = ["BridgeBase"]
