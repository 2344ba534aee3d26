"""What every family's ``BridgeEndpoint`` checks the same way, written once.

A family's bridge (``adapters.evm.bridge``, ``adapters.pujiang.bridge``) only
says how its events carry a packet and how its chain hashes one; the identity
checks around them live here, so no family can forget one: an event is of the
expected kind and of this chain, a sent packet names this chain as its source,
a delivery digest is computed only on the packet's destination and a
non-delivery digest only on its source; a batch statement is digested only
by the chain that acts on it (the destination of a ``DELIVERY`` root, the
source of the others), and a batch's members all belong to its route.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from core.batches import BatchMember, BatchStatement
from core.committee import CommitteeState, RotationStatement
from core.errors import InvalidInput
from core.ids import ChainId
from core.types import ChainEvent, EventKind, Packet
from proofs.notary.ecdsa import to_address


class BridgeBase(ABC):
    """The shared half of a ``core.seams.BridgeEndpoint``; subclasses add the actions."""

    ROOT_STORED_REFUSAL: str = ""
    """The text of the chain's refusal of a batch root it already stored (the family's)."""
    STALE_ROTATION_REFUSAL: str = ""
    """The text of the chain's refusal of a rotation whose epoch is not the next one."""

    def __init__(
        self,
        chain_id: ChainId,
        threshold: int = 0,
        members: Sequence[str] = (),
        epoch: int = 1,
    ) -> None:
        self.chain_id = chain_id
        self._threshold = threshold
        self._members = tuple("0x" + to_address(m).hex() for m in members)
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch < 2**64:
            raise InvalidInput("a committee epoch is 1 .. 2^64-1", field="epoch")
        self._epoch = epoch

    # --- the family's part -----------------------------------------------------------

    @abstractmethod
    def _decode_packet(self, event: ChainEvent, kind: EventKind) -> Packet:
        """The packet ``event`` (already checked: of ``kind``, of this chain) carries."""

    @abstractmethod
    def _delivery_digest(self, packet: Packet) -> bytes: ...

    @abstractmethod
    def _nondelivery_digest(self, packet: Packet) -> bytes: ...

    @abstractmethod
    def _batch_digest(self, statement: BatchStatement) -> bytes:
        """The family's signing bytes of ``statement`` (already checked: this chain acts)."""

    @abstractmethod
    def _rotation_digest(self, statement: RotationStatement) -> bytes:
        """The family's signing bytes of a rotation (already checked: of this chain)."""

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
        return self.delivered_packet(event) == packet

    def delivered_packet(self, event: ChainEvent) -> Packet | None:
        return self._packet_or_none(event, EventKind.RECEIVE_PACKET)

    def failed_packet(self, event: ChainEvent) -> Packet | None:
        return self._packet_or_none(event, EventKind.PACKET_FAILED)

    def _packet_or_none(self, event: ChainEvent, kind: EventKind) -> Packet | None:
        if event.kind is not kind:
            return None
        try:
            return self._event_packet(event, kind)
        except InvalidInput:
            return None

    # --- digests ---------------------------------------------------------------------

    def delivery_digest(self, packet: Packet) -> bytes:
        if packet.dest_chain != self.chain_id:
            raise InvalidInput(f"packet is for {packet.dest_chain}, not {self.chain_id}")
        return self._delivery_digest(packet)

    def nondelivery_digest(self, packet: Packet) -> bytes:
        if packet.source_chain != self.chain_id:
            raise InvalidInput(f"packet was sent from {packet.source_chain}, not {self.chain_id}")
        return self._nondelivery_digest(packet)

    def is_failed_event(self, event: ChainEvent, packet: Packet) -> bool:
        """True when ``event`` (read from this chain) reports ``packet`` received here but
        FAILED (its receiver or token refused it): an ``ERROR_ACK`` refunds it on its source."""
        return self.failed_packet(event) == packet

    def committee(self) -> tuple[int, tuple[str, ...]]:
        return self._threshold, self._members

    # --- batches ---------------------------------------------------------------------

    def committee_epoch(self) -> int:
        return self._epoch

    # --- committee rotation ----------------------------------------------------------

    def adopt_committee(self, committee: CommitteeState) -> None:
        """Trust ``committee`` from now on; an older epoch than the current is ignored."""
        if committee.epoch < self._epoch:
            return
        self._epoch = committee.epoch
        self._threshold = committee.threshold
        self._members = tuple("0x" + to_address(m).hex() for m in committee.members)

    def rotation_digest(self, statement: RotationStatement) -> bytes:
        if statement.chain_id != self.chain_id:
            raise InvalidInput(
                f"a rotation of {statement.chain_id} given to the bridge of {self.chain_id}",
                field="chain",
            )
        return self._rotation_digest(statement)

    def is_stale_rotation_refusal(self, reason: str) -> bool:
        return bool(self.STALE_ROTATION_REFUSAL) and self.STALE_ROTATION_REFUSAL in reason

    def is_root_stored_refusal(self, reason: str) -> bool:
        """True when ``reason`` (a ``ChainRejected``'s ``reason`` detail or a failed
        ``TxReceipt.reason``) is this chain refusing a root it already stored: for the
        relayer, the root is stored."""
        return bool(self.ROOT_STORED_REFUSAL) and self.ROOT_STORED_REFUSAL in reason

    def check_acting_chain(self, statement: BatchStatement) -> None:
        """``InvalidInput`` unless THIS chain acts on ``statement`` (see ``BatchKind``)."""
        kind = statement.kind
        acting = statement.dest_chain if kind.acts_on_destination else statement.source_chain
        if acting != self.chain_id:
            raise InvalidInput(
                f"a {statement.kind.name} root of {statement.source_chain}->"
                f"{statement.dest_chain} acts on {acting}, not {self.chain_id}",
                field="statement",
            )

    def batch_digest(self, statement: BatchStatement) -> bytes:
        self.check_acting_chain(statement)
        return self._batch_digest(statement)

    def check_members(self, statement: BatchStatement, members: Sequence[BatchMember]) -> None:
        """``InvalidInput`` for members of another route, indices outside the statement,
        an index twice, or none at all: refused here before a transaction is built."""
        self.check_acting_chain(statement)
        if not members:
            raise InvalidInput("a batch action carries at least one member", field="members")
        seen: set[int] = set()
        for position, member in enumerate(members):
            packet = member.packet
            route = (str(packet.source_chain), str(packet.dest_chain))
            if route != (statement.source_chain, statement.dest_chain):
                raise InvalidInput(
                    f"member {position} is of route {route[0]}->{route[1]}, the statement of "
                    f"{statement.source_chain}->{statement.dest_chain}",
                    field="members",
                )
            if not 0 <= member.index < statement.size or member.index in seen:
                raise InvalidInput(
                    f"member {position} has index {member.index}: outside the batch of "
                    f"{statement.size} or given twice",
                    field="members",
                )
            seen.add(member.index)


__all__ = ["BridgeBase"]
