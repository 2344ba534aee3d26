"""Batch statements, chain-neutral: what a notary committee signs for a batch of packets.

Why batches: a certificate per packet costs every notary a signature, an fsync
and a POST, the hub a store write per signature and the destination a quorum
check per packet. As CCIP's commit reports and Hyperlane's checkpoints do,
notaries sign ONE statement over the Merkle root of an ordered batch of packets
of one route; each packet is then accepted with an inclusion proof against a
root the acting chain already stored. The tree rules (RFC 6962 over the acting
chain's hash, leaves and inner nodes domain-separated) are in
``proofs.notary.batch``; the signing bytes are the acting chain's
(``core.seams.BridgeEndpoint.batch_digest``; ``docs/notary.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from core.errors import BadEncoding, InvalidInput
from core.types import Packet

MAX_BATCH_SIZE = 256
"""Most packets one statement may cover: bounds a notary's work per request, a proof's
length (8 hashes) and a destination transaction's gas."""


class BatchKind(IntEnum):
    """What a batch root certifies, and so which chain acts on it.

    ``DELIVERY``: the destination accepts the packets (notaries verified each one's
    inclusion on the source). ``NONDELIVERY``: the source refunds them (each one's
    timeout passed on the destination with its receipt proven absent).
    ``ERROR_ACK``: the source refunds them (the destination recorded each one as
    failed: its receiver or token refused it). ``ACK``: the source clears them
    (the destination recorded each one as delivered).
    """

    DELIVERY = 0
    NONDELIVERY = 1
    ACK = 2
    ERROR_ACK = 3

    @property
    def acts_on_destination(self) -> bool:
        """True when the packets' destination acts on the root (else their source)."""
        return self is BatchKind.DELIVERY


class BatchTooLarge(InvalidInput):
    """A batch of more than ``MAX_BATCH_SIZE`` packets, or of none."""

    code = "batch-size"


class MixedBatch(InvalidInput):
    """Packets of more than one route in one batch."""

    code = "batch-mixed-routes"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class BatchStatement:
    """What a committee signs for a batch, and nothing more.

    ``source_chain``/``dest_chain``: the route of every packet in the batch;
    ``epoch``: the committee epoch that signs (a root of an older epoch is refused
    after a rotation); ``kind``; ``size``: the number of leaves (binds each index
    to its position); ``root``: the RFC 6962 root over the packets' leaf values.
    """

    source_chain: str
    dest_chain: str
    epoch: int
    kind: BatchKind
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if not self.source_chain or not self.dest_chain or self.source_chain == self.dest_chain:
            raise InvalidInput("a batch route names two different chains", field="route")
        if not _is_int(self.epoch) or not 1 <= self.epoch < 2**64:
            raise InvalidInput("a committee epoch is 1 .. 2^64-1", field="epoch")
        if not isinstance(self.kind, BatchKind):
            raise InvalidInput("a batch kind is a BatchKind", field="kind")
        if not _is_int(self.size) or not 1 <= self.size <= MAX_BATCH_SIZE:
            raise BatchTooLarge(f"a batch holds 1 .. {MAX_BATCH_SIZE} packets, not {self.size}")
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise BadEncoding("a batch root is 32 bytes")


@dataclass(frozen=True, slots=True)
class BatchMember:
    """One packet of a certified batch, with its place: what a delivery (or refund,
    or acknowledgement) of that packet against the stored root carries."""

    packet: Packet
    index: int
    proof: tuple[bytes, ...]


def check_one_route(routes: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """The one ``(source, dest)`` all packets share; ``MixedBatch`` naming the first other."""
    if not routes:
        raise BatchTooLarge("a batch holds at least one packet")
    first = routes[0]
    for position, route in enumerate(routes):
        if route != first:
            raise MixedBatch(
                f"packet {position} is of route {route[0]}->{route[1]}, "
                f"the batch of {first[0]}->{first[1]}",
                position=position,
            )
    return first
