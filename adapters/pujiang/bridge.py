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

Batches (``docs/notary.md`` "Batches"): a leaf is the packet's tagged delivery
digest ``H(rlp([b"pujiang/packet/v1", packet]))``, the tree hash the chain's
``H``, the statement ``H(rlp([b"pujiang/batch/v1", source, dest, epoch, kind,
size, root]))``; actions are ``bridge_store_root`` then ``bridge_recv_batch`` /
``bridge_refund_batch`` / ``bridge_ack_batch``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from adapters.bridge_base import BridgeBase
from adapters.pujiang import actions
from core.batches import BatchKind, BatchMember, BatchStatement
from core.committee import RotationStatement
from core.errors import BadEncoding, InvalidInput
from core.ids import ChainId
from core.types import ChainAction, ChainEvent, EventKind, Packet
from proofs.hashing import SHA256, HashFunction
from proofs.notary.nondelivery import compute_pujiang_recv_key
from proofs.pujiang import codec


def _wire_fields(packet: Packet) -> list[bytes | int]:
    """The chain's packet fields in ``codec.Packet``'s order; ``InvalidInput`` for a number
    that is not a non-negative integer."""
    for name in ("sequence", "amount", "timeout_height", "timeout_time_ms"):
        value = getattr(packet, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput(f"{name} must be a non-negative integer", field=name)
    return [
        str(packet.source_chain).encode(),
        str(packet.dest_chain).encode(),
        packet.sequence,
        bytes(packet.sender),
        bytes(packet.receiver),
        packet.denom.encode(),
        packet.amount,
        bytes(packet.payload),
        packet.timeout_height,
        packet.timeout_time_ms,
    ]


def to_wire_packet(packet: Packet) -> codec.Packet:
    """The chain's packet; ``InvalidInput`` for a negative number."""
    return codec.Packet(*_wire_fields(packet))


def wire_packet_rlp(packet: Packet) -> bytes:
    """``codec.encode(to_wire_packet(packet))`` without building the sedes object: a batch's
    leaves and members need only the bytes (issue #15; held equal in the tests)."""
    return codec.packet_rlp_of(_wire_fields(packet))


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


MAX_TX_BYTES = 64 * 1024
"""A Pujiang chain's largest transaction (``docs/devnet.md``: at most 64 KiB)."""
BATCH_CAPACITY = 128
"""Members per batch transaction: 128 asset members with 7-hash proofs sign to ~45 KB
(256 would be ~98 KB); members with payloads may need smaller slices (``batch_action``
refuses a slice that cannot fit)."""
TX_OVERHEAD = 512  # body fields, public key, signature and RLP headers around the args

BATCH_ACTION = {
    BatchKind.DELIVERY: actions.BRIDGE_RECV_BATCH,
    BatchKind.NONDELIVERY: actions.BRIDGE_REFUND_BATCH,
    BatchKind.ERROR_ACK: actions.BRIDGE_REFUND_BATCH,
    BatchKind.ACK: actions.BRIDGE_ACK_BATCH,
}
"""The transaction that acts on members of a stored root of each kind."""


def to_wire_statement(statement: BatchStatement) -> codec.BatchStatement:
    return codec.BatchStatement(
        source_chain=statement.source_chain.encode(),
        dest_chain=statement.dest_chain.encode(),
        epoch=statement.epoch,
        kind=int(statement.kind),
        size=statement.size,
        root=statement.root,
    )


def _statement_key(statement: BatchStatement) -> str:
    return (
        f"{statement.source_chain}/{statement.dest_chain}/{statement.epoch}/"
        f"{statement.kind.name}/{statement.size}/0x{statement.root.hex()}"
    )


class PujiangBridge(BridgeBase):
    """The bridge module of one Pujiang chain (``hash_fn``: its genesis hash profile)."""

    ROOT_STORED_REFUSAL = "root-stored:"  # devnet.txs.Reason.ROOT_STORED, in a receipt
    STALE_ROTATION_REFUSAL = "wrong-epoch:"  # devnet.txs.Reason.WRONG_EPOCH, in a receipt

    def __init__(
        self,
        chain_id: ChainId,
        hash_fn: HashFunction = SHA256,
        threshold: int = 0,
        members: Sequence[str] = (),
        epoch: int = 1,
    ) -> None:
        super().__init__(chain_id, threshold, members, epoch)
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
        return codec.compute_packet_digest_of_rlp(wire_packet_rlp(packet), self.hash_fn)

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

    # --- batches ---------------------------------------------------------------------

    def batch_hash_name(self) -> str:
        return self.hash_fn.name

    def batch_leaf(self, packet: Packet) -> bytes:
        """The packet's tagged digest ``H(rlp([b"pujiang/packet/v1", packet]))``."""
        return codec.compute_packet_digest_of_rlp(wire_packet_rlp(packet), self.hash_fn)

    def _batch_digest(self, statement: BatchStatement) -> bytes:
        return codec.compute_batch_digest(to_wire_statement(statement), self.hash_fn)

    def batch_capacity(self) -> int:
        """Members per transaction under the chain's 64 KiB transaction bound."""
        return BATCH_CAPACITY

    def store_root_action(
        self, statement: BatchStatement, certificate: Sequence[bytes]
    ) -> ChainAction:
        """``bridge_store_root`` (key: the statement; the module refuses a stored root)."""
        self.batch_digest(statement)  # the acting-chain check
        return actions.store_root_action(
            to_wire_statement(statement),
            self._certificate(certificate),
            idempotency_key=f"{actions.BRIDGE_STORE_ROOT}:{_statement_key(statement)}",
        )

    def batch_action(
        self, statement: BatchStatement, members: Sequence[BatchMember]
    ) -> ChainAction:
        """``bridge_recv_batch`` / ``bridge_refund_batch`` / ``bridge_ack_batch`` by kind."""
        self.check_members(statement, members)
        kind = BATCH_ACTION[statement.kind]
        wire = [
            codec.batch_member_rlp(wire_packet_rlp(m.packet), m.index, [bytes(p) for p in m.proof])
            for m in members
        ]
        indices = b"".join(m.index.to_bytes(2, "big") for m in members)
        key = f"{kind}:{_statement_key(statement)}:{hashlib.sha256(indices).hexdigest()[:16]}"
        action = actions.batch_members_action(
            kind, to_wire_statement(statement), wire, idempotency_key=key
        )
        size = sum(len(str(v)) // 2 for v in action.payload.values()) + TX_OVERHEAD
        if size > MAX_TX_BYTES:
            raise InvalidInput(
                f"{len(members)} members make a transaction of about {size} bytes, more than "
                f"the chain's {MAX_TX_BYTES}: split the slice",
                field="members",
            )
        return action

    # --- committee rotation ----------------------------------------------------------

    def _rotation_digest(self, statement: RotationStatement) -> bytes:
        """``H(rlp([b"pujiang/notary-rotation/v1", chain_id, epoch, threshold, [member]]))``."""
        return codec.compute_notary_rotation_digest(
            str(self.chain_id).encode(),
            statement.epoch,
            statement.threshold,
            [bytes.fromhex(m[2:]) for m in statement.members],
            self.hash_fn,
        )

    def rotate_action(
        self, statement: RotationStatement, certificate: Sequence[bytes]
    ) -> ChainAction:
        """``notary_rotate [epoch, threshold, [member, ...], certificate]``."""
        self.rotation_digest(statement)  # the chain check
        return actions.notary_rotate_action(
            statement.epoch,
            statement.threshold,
            [bytes.fromhex(m[2:]) for m in statement.members],
            self._certificate(certificate),
            idempotency_key=f"{actions.NOTARY_ROTATE}:{self.chain_id}/{statement.epoch}",
        )

    def deliver_action(self, packet: Packet, certificate: Sequence[bytes]) -> ChainAction:
        """``bridge_recv`` of ``packet`` here (this is its destination)."""
        self.delivery_digest(packet)  # the destination check
        return actions.bridge_recv_action(to_wire_packet(packet), self._certificate(certificate))

    def refund_action(self, packet: Packet, certificate: Sequence[bytes]) -> ChainAction:
        """``bridge_timeout`` of ``packet`` here (this is its source)."""
        self.nondelivery_digest(packet)  # the source check
        return actions.bridge_timeout_action(to_wire_packet(packet), self._certificate(certificate))


__all__ = [
    "PujiangBridge",
    "from_wire_packet",
    "to_wire_packet",
    "to_wire_statement",
    "wire_packet_rlp",
]
