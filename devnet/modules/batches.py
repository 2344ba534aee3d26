"""Batch roots (#15): one notary certificate for many packets, then many packets per transaction.

``bridge_store_root [statement, certificate]`` stores a root the CURRENT committee
certified over ``codec.compute_batch_digest(statement)``
(``H(rlp([b"pujiang/batch/v1", source, dest, epoch, kind, size, root]))``) at
``batchroot/<digest>``. Then, against a stored root:

* ``bridge_recv_batch [statement, [member, ...]]`` (DELIVERY): each member's
  packet is checked as ``bridge_recv`` checks one (for this chain, not timed
  out, not received) and proven leaf ``index`` of the root (RFC 6962 over the
  chain's hash, leaf data the packet's tagged digest
  ``H(rlp([b"pujiang/packet/v1", packet]))``); any of these failing rejects
  the transaction. A member whose DELIVERY fails for its own reason (a bad
  receiver, an escrow short, a voucher path too long) does not: it is marked
  received and failed (``failed/<source>/<seq>``, event ``packet_failed``) and
  an ``ERROR_ACK`` root refunds it on its source;
* ``bridge_refund_batch`` (NONDELIVERY, ERROR_ACK): refund members sent from
  here (a NONDELIVERY member with a timeout time only once the block time
  reached it, as ``bridge_timeout``);
* ``bridge_ack_batch`` (ACK): clear members' commitments.

The refusals are those of ``contracts/Bridge.sol``'s batch section, with the
devnet's typed reasons (``devnet.txs.Reason``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import cast

import rlp

from core.batches import BatchKind, BatchStatement
from core.errors import PjgwError, VerificationError
from devnet.events import packet_values
from devnet.modules.bridge import (
    as_chain,
    check_bounds,
    check_inbound,
    check_pending,
    deliver,
    refund,
)
from devnet.modules.context import TxContext, as_serializable, unpack
from devnet.modules.notary import read_committee_epoch, validate_certificate
from devnet.state import batch_root_key, failed_key, packet_key, recv_key
from devnet.txs import Reason, TxRejected
from proofs.notary.batch import verify_batch_member
from proofs.pujiang import codec


def _statement(ctx: TxContext, item: object) -> tuple[codec.BatchStatement, BatchStatement]:
    """The wire statement and its checked core twin (``BAD_ARGS`` for a malformed one)."""
    wire = cast(codec.BatchStatement, as_serializable(item, codec.BatchStatement, "statement"))
    source = as_chain(wire.source_chain, "source_chain")
    dest = as_chain(wire.dest_chain, "dest_chain")
    try:
        kind = BatchKind(wire.kind)
    except ValueError as err:
        raise TxRejected(Reason.BAD_ARGS, f"unknown batch kind {wire.kind}") from err
    try:
        core = BatchStatement(
            source.decode(), dest.decode(), wire.epoch, kind, wire.size, wire.root
        )
    except PjgwError as err:
        raise TxRejected(Reason.BAD_ARGS, err.message) from err
    return wire, core


def bridge_store_root(ctx: TxContext, args: object) -> None:
    """``[statement, certificate]``: store a batch root the current committee certified."""
    statement_item, certificate_item = unpack(
        args, ("statement", "certificate"), "bridge_store_root"
    )
    wire, statement = _statement(ctx, statement_item)
    own = ctx.block.chain_id.decode()
    delivery = statement.kind.acts_on_destination
    acting = statement.dest_chain if delivery else statement.source_chain
    if acting != own:
        raise TxRejected(
            Reason.WRONG_DESTINATION,
            f"a {statement.kind.name} root of {statement.source_chain}->{statement.dest_chain} "
            f"acts on {acting!r}, this is {own!r}",
        )
    epoch = read_committee_epoch(ctx.state)
    if statement.epoch != epoch:
        raise TxRejected(
            Reason.WRONG_EPOCH,
            f"root of committee epoch {statement.epoch}, the committee is of epoch {epoch}",
        )
    digest = codec.compute_batch_digest(wire, ctx.hash_fn)
    key = batch_root_key(digest)
    if ctx.state.get(key) is not None:
        raise TxRejected(Reason.ROOT_STORED, f"root 0x{digest.hex()} is already stored")
    validate_certificate(certificate_item, digest, ctx.state)
    ctx.state.set(key, rlp.encode(wire))


def _stored(
    ctx: TxContext, args: object, kinds: tuple[BatchKind, ...], name: str
) -> tuple[BatchStatement, list[codec.BatchMember]]:
    statement_item, members_item = unpack(args, ("statement", "members"), name)
    wire, statement = _statement(ctx, statement_item)
    if statement.kind not in kinds:
        raise TxRejected(
            Reason.BATCH_KIND,
            f"{name} acts on {', '.join(k.name for k in kinds)} roots, not {statement.kind.name}",
        )
    members = cast(
        list[codec.BatchMember], as_serializable(members_item, codec.BatchMembers, "members")
    )
    if not members:
        raise TxRejected(Reason.BAD_ARGS, f"{name} carries at least one member")
    for member in members:
        check_bounds(member.packet)
    if ctx.state.get(batch_root_key(codec.compute_batch_digest(wire, ctx.hash_fn))) is None:
        raise TxRejected(Reason.ROOT_UNKNOWN, "no such batch root is stored here")
    return statement, members


def _prove(ctx: TxContext, member: codec.BatchMember, statement: BatchStatement) -> None:
    leaf = codec.compute_packet_digest(member.packet, ctx.hash_fn)
    try:
        verify_batch_member(leaf, member.index, member.proof, statement, hash_fn=ctx.hash_fn)
    except VerificationError as err:
        raise TxRejected(
            Reason.NOT_IN_ROOT,
            f"packet {member.packet.sequence} is not leaf {member.index} of the root: "
            f"{err.message}",
        ) from err


def _check_route(packet: codec.Packet, statement: BatchStatement) -> None:
    route = (
        packet.source_chain.decode(errors="replace"),
        packet.dest_chain.decode(errors="replace"),
    )
    if route != (statement.source_chain, statement.dest_chain):
        raise TxRejected(
            Reason.BATCH_ROUTE,
            f"packet {packet.sequence} is of route {route[0]}->{route[1]}, the root of "
            f"{statement.source_chain}->{statement.dest_chain}",
        )


def bridge_recv_batch(ctx: TxContext, args: object) -> None:
    """``[statement, [member, ...]]``: deliver members of a stored DELIVERY root."""
    statement, members = _stored(ctx, args, (BatchKind.DELIVERY,), "bridge_recv_batch")
    for member in members:
        packet = member.packet
        source = check_inbound(ctx, packet)
        _check_route(packet, statement)
        _prove(ctx, member, statement)
        ctx.state.set(recv_key(source, packet.sequence), ctx.hash_fn(rlp.encode(packet)))
        _deliver_alone(ctx, packet, source)


def _deliver_alone(ctx: TxContext, packet: codec.Packet, source: bytes) -> None:
    """Deliver in a child overlay: kept on success, dropped (and recorded) on failure."""
    scratch = ctx.state.child()
    try:
        deliver(replace(ctx, state=scratch, events=[]), packet, source)
    except TxRejected as failure:
        ctx.state.set(failed_key(source, packet.sequence), failure.text.encode())
        ctx.emit("packet_failed", {**packet_values(packet), "reason": failure.text})
        return
    scratch.merge_into_parent()
    ctx.emit("recv_packet", packet_values(packet))


def bridge_refund_batch(ctx: TxContext, args: object) -> None:
    """``[statement, [member, ...]]``: refund members of a stored NONDELIVERY/ERROR_ACK root."""
    kinds = (BatchKind.NONDELIVERY, BatchKind.ERROR_ACK)
    statement, members = _stored(ctx, args, kinds, "bridge_refund_batch")
    _settle(ctx, statement, members, _refund_one)


def bridge_ack_batch(ctx: TxContext, args: object) -> None:
    """``[statement, [member, ...]]``: clear members of a stored ACK root."""
    statement, members = _stored(ctx, args, (BatchKind.ACK,), "bridge_ack_batch")
    _settle(ctx, statement, members, lambda c, p, s: c.emit("acknowledge_packet", packet_values(p)))


def _refund_one(ctx: TxContext, packet: codec.Packet, statement: BatchStatement) -> None:
    early = packet.timeout_time_ms and ctx.block.time_ms < packet.timeout_time_ms
    if statement.kind is BatchKind.NONDELIVERY and early:
        raise TxRejected(
            Reason.NOT_TIMED_OUT,
            f"block time {ctx.block.time_ms} is before the timeout {packet.timeout_time_ms}",
        )
    refund(ctx, packet)
    ctx.emit("timeout_packet", packet_values(packet))


def _settle(
    ctx: TxContext,
    statement: BatchStatement,
    members: list[codec.BatchMember],
    act: Callable[[TxContext, codec.Packet, BatchStatement], None],
) -> None:
    for member in members:
        packet = member.packet
        check_pending(ctx, packet)
        _check_route(packet, statement)
        _prove(ctx, member, statement)
        act(ctx, packet, statement)
        ctx.state.delete(packet_key(packet.dest_chain, packet.sequence))
