"""``PujiangBridge``: the devnet bridge module behind the ``core.seams.BridgeEndpoint`` seam.

Pure translation between the chain-neutral ``core.types.Packet`` and the
wire packet of ``proofs.pujiang.codec`` (``docs/pujiang-chain.md``): packet
events carry the packet RLP (``attributes["packet"]``, rebuilt by
``adapters.pujiang.wire``), digests are the tagged hashes the chain checks
(``H(rlp([b"pujiang/packet/v1", packet]))`` and the non-delivery twin, ``H``
the chain's hash profile), actions are ``bridge_recv`` / ``bridge_timeout``
(``adapters.pujiang.actions``) with the certificate ``rlp([[sig, ...]])``.

The module accepts signatures in any order, so certificates are passed on in
the order given.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.bridge_base import BridgeBase
from adapters.pujiang import actions
from core.errors import BadEncoding, InvalidInput
from core.ids import ChainId
from core.types import ChainAction, ChainEvent, EventKind, Packet
from proofs.hashing import SHA256, HashFunction
from proofs.notary.nondelivery import compute_pujiang_recv_key
from proofs.pujiang import codec


def to_wire_packet(packet: Packet) -> codec.Packet:
    """The chain's packet; ``InvalidInput`` for a negative or oversized number."""
    for name in ("sequence", "amount", "timeout_height", "timeout_time_ms"):
        value = getattr(packet, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput(f"{name} must be a non-negative integer", field=name)
    return codec.Packet(
        source_chain=str(packet.source_chain).encode(),
        dest_chain=str(packet.dest_chain).encode(),
        sequence=packet.sequence,
        sender=bytes(packet.sender),
        receiver=bytes(packet.receiver),
        denom=packet.denom.encode(),
        amount=packet.amount,
        payload=bytes(packet.payload),
        timeout_height=packet.timeout_height,
        timeout_time_ms=packet.timeout_time_ms,
    )


def from_wire_packet(packet: codec.Packet) -> Packet:
    """The core packet (``InvalidInput`` for chain ids or a denom that are not text)."""
    try:
        source = packet.source_chain.decode("ascii")
        dest = packet.dest_chain.decode("ascii")
        denom = packet.denom.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidInput("packet chain ids must be ASCII and its denom UTF-8") from err
    return Packet(
        source_chain=ChainId(source),
        dest_chain=ChainId(dest),
        sequence=packet.sequence,
        sender=bytes(packet.sender),
        receiver=bytes(packet.receiver),
        denom=denom,
        amount=packet.amount,
        payload=bytes(packet.payload),
        timeout_height=packet.timeout_height,
        timeout_time_ms=packet.timeout_time_ms,
    )


class PujiangBridge(BridgeBase):
    """The bridge module of one Pujiang chain (``hash_fn``: its genesis hash profile)."""

    def __init__(
        self,
        chain_id: ChainId,
        hash_fn: HashFunction = SHA256,
        threshold: int = 0,
        members: Sequence[str] = (),
    ) -> None:
        super().__init__(chain_id, threshold, members)
        self.hash_fn = hash_fn

    def __repr__(self) -> str:
        return f"PujiangBridge({self.chain_id!r}, {self.hash_fn.name})"

    def _decode_packet(self, event: ChainEvent, kind: EventKind) -> Packet:
        raw = event.attributes.get("packet")
        if not isinstance(raw, bytes):
            raise InvalidInput(f"{kind} event without its packet")
        try:
            return from_wire_packet(codec.decode_packet(raw))
        except BadEncoding as err:
            raise InvalidInput(f"{kind} event's packet does not decode: {err.message}") from err

    def _delivery_digest(self, packet: Packet) -> bytes:
        return codec.compute_packet_digest(to_wire_packet(packet), self.hash_fn)

    def _nondelivery_digest(self, packet: Packet) -> bytes:
        return codec.compute_nondelivery_digest(to_wire_packet(packet), self.hash_fn)

    # --- actions ---------------------------------------------------------------------

    def _certificate(self, certificate: Sequence[bytes]) -> bytes:
        signatures = [bytes(s) for s in certificate]
        if any(len(s) != codec.NOTARY_SIGNATURE_LENGTH for s in signatures):
            raise InvalidInput("a certificate signature is 65 bytes r ‖ s ‖ v")
        if len(signatures) > codec.MAX_CERTIFICATE_SIGNATURES:
            raise InvalidInput(f"at most {codec.MAX_CERTIFICATE_SIGNATURES} signatures")
        return codec.encode(codec.Certificate(signatures=signatures))

    def receipt_key(self, packet: Packet) -> bytes:
        """The bridge module's receipt entry ``recv/<source>/<seq>`` (docs/pujiang-chain.md)."""
        return compute_pujiang_recv_key(str(packet.source_chain), packet.sequence)

    def deliver_action(self, packet: Packet, certificate: Sequence[bytes]) -> ChainAction:
        """``bridge_recv`` of ``packet`` here (this is its destination)."""
        self.delivery_digest(packet)  # the destination check
        return actions.bridge_recv_action(to_wire_packet(packet), self._certificate(certificate))

    def refund_action(self, packet: Packet, certificate: Sequence[bytes]) -> ChainAction:
        """``bridge_timeout`` of ``packet`` here (this is its source)."""
        self.nondelivery_digest(packet)  # the source check
        return actions.bridge_timeout_action(to_wire_packet(packet), self._certificate(certificate))


__all__ = ["PujiangBridge", "from_wire_packet", "to_wire_packet"]
