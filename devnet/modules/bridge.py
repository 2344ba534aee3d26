"""The bridge module: send assets and messages out, receive them in, refund on timeout.

Assets follow the denomination path rule of ``docs/pujiang-chain.md``: a
token native here is escrowed on the way out (in the route's escrow account,
``escrow_address(dest)``) and arrives elsewhere as the voucher ``<here>/<denom>``;
a voucher ``<dest>/<d>`` sent back to ``dest`` is burned here, and ``dest``,
seeing its own id as the first path segment, releases ``d`` from its escrow for
this chain. A foreign token arriving here becomes the voucher ``<source>/<denom>``.
So at every moment, per route, ``escrowed here == vouchers there + in flight``.

Outgoing packets take the next sequence of their destination (``seq/<dest>``,
from 1) and leave their commitment ``H(rlp(packet))`` at ``packet/<dest>/<seq>``
until a timeout refunds them. Incoming packets need a notary quorum
certificate (``devnet.modules.notary``) and are recorded at
``recv/<source>/<seq>`` (value ``H(rlp(packet))``), which is what rejects a replay.
A packet with ``amount == 0`` is a message: its payload goes to the
receiver's inbox at ``inbox/<receiver>/<source>/<seq>``.

Timeouts: the destination refuses a packet once its height reaches
``timeout_height`` or its block time reaches ``timeout_time_ms`` (either may be
0, "none", but not both). The source refunds on a non-delivery certificate,
and when ``timeout_time_ms`` is set, only once its own block time reached it
(a height-only timeout rests on the certificate alone: the source cannot see
the destination's height).
"""

from __future__ import annotations

from typing import cast

import rlp

from core.errors import InvalidInput
from core.ids import ChainId
from devnet.events import packet_values
from devnet.modules.context import (
    ADDRESS_LENGTH,
    MAX_DENOM_BYTES,
    MAX_RECEIVER_BYTES,
    TxContext,
    as_amount,
    as_bytes,
    as_denom,
    as_serializable,
    as_uint,
    unpack,
)
from devnet.modules.notary import validate_certificate
from devnet.state import inbox_key, packet_key, recv_key, seq_key
from devnet.txs import Reason, TxRejected
from proofs.pujiang import codec
from proofs.pujiang.escrow import escrow_address

MAX_PAYLOAD_BYTES = 32 * 1024


def as_chain(item: object, what: str) -> bytes:
    raw = as_bytes(item, what, max_size=63)
    try:
        ChainId(raw.decode("ascii"))
    except (UnicodeDecodeError, InvalidInput) as err:
        raise TxRejected(Reason.BAD_ARGS, f"{what} {raw!r} is not a chain id") from err
    return raw


def _timeouts(ctx: TxContext, height_item: object, time_item: object) -> tuple[int, int]:
    timeout_height = as_uint(height_item, "timeout_height")
    timeout_time = as_uint(time_item, "timeout_time_ms")
    if not timeout_height and not timeout_time:
        raise TxRejected(Reason.BAD_ARGS, "a packet needs a timeout height or a timeout time")
    if timeout_time and timeout_time <= ctx.block.time_ms:
        raise TxRejected(Reason.BAD_ARGS, "timeout_time_ms has already passed")
    return timeout_height, timeout_time


def _destination(ctx: TxContext, item: object) -> bytes:
    dest = as_chain(item, "dest_chain")
    if dest == ctx.block.chain_id:
        raise TxRejected(Reason.WRONG_DESTINATION, "a packet cannot be sent to its own chain")
    return dest


def _send(ctx: TxContext, dest: bytes, **fields: object) -> codec.Packet:
    sequence = ctx.state.get_uint(seq_key(dest)) + 1
    ctx.state.set_uint(seq_key(dest), sequence)
    packet = codec.Packet(
        source_chain=ctx.block.chain_id,
        dest_chain=dest,
        sequence=sequence,
        sender=ctx.sender,
        **fields,
    )
    ctx.state.set(packet_key(dest, sequence), ctx.hash_fn(rlp.encode(packet)))
    ctx.emit("send_packet", packet_values(packet))
    return packet


def bridge_send(ctx: TxContext, args: object) -> None:
    """``[dest_chain, receiver, denom, amount, timeout_height, timeout_time_ms]``."""
    names = ("dest_chain", "receiver", "denom", "amount", "timeout_height", "timeout_time_ms")
    dest_item, receiver_item, denom_item, amount_item, th, tt = unpack(args, names, "bridge_send")
    dest = _destination(ctx, dest_item)
    receiver = as_bytes(receiver_item, "receiver", max_size=MAX_RECEIVER_BYTES)
    if not receiver:
        raise TxRejected(Reason.BAD_ARGS, "receiver is empty")
    denom = as_denom(denom_item)
    amount = as_amount(amount_item)
    timeout_height, timeout_time = _timeouts(ctx, th, tt)
    ctx.debit(ctx.sender, denom, amount)
    if not denom.startswith(dest + b"/"):  # native here (or from a third chain): escrow it
        ctx.credit(escrow_address(dest, ctx.hash_fn), denom, amount)
    # else: a voucher going home is burned (the debit above), its escrow is released there
    _send(
        ctx,
        dest,
        receiver=receiver,
        denom=denom,
        amount=amount,
        payload=b"",
        timeout_height=timeout_height,
        timeout_time_ms=timeout_time,
    )


def bridge_send_message(ctx: TxContext, args: object) -> None:
    """``[dest_chain, receiver, payload, timeout_height, timeout_time_ms]``."""
    names = ("dest_chain", "receiver", "payload", "timeout_height", "timeout_time_ms")
    dest_item, receiver_item, payload_item, th, tt = unpack(args, names, "bridge_send_message")
    dest = _destination(ctx, dest_item)
    receiver = as_bytes(receiver_item, "receiver", max_size=MAX_RECEIVER_BYTES)
    if not receiver:
        raise TxRejected(Reason.BAD_ARGS, "receiver is empty")
    payload = as_bytes(payload_item, "payload", max_size=MAX_PAYLOAD_BYTES)
    timeout_height, timeout_time = _timeouts(ctx, th, tt)
    _send(
        ctx,
        dest,
        receiver=receiver,
        denom=b"",
        amount=0,
        payload=payload,
        timeout_height=timeout_height,
        timeout_time_ms=timeout_time,
    )


def as_packet(item: object) -> codec.Packet:
    packet = cast(codec.Packet, as_serializable(item, codec.Packet, "packet"))
    check_bounds(packet)
    return packet


def check_bounds(packet: codec.Packet) -> None:
    """A packet's numbers within what the chains carry (sequence uint64 > 0, amount uint256)."""
    if packet.sequence < 1 or packet.sequence >= 2**64:
        raise TxRejected(Reason.BAD_ARGS, "packet sequence must be 1 .. 2**64-1")
    if packet.amount >= 2**256:
        raise TxRejected(Reason.BAD_ARGS, "packet amount must be below 2**256")


def bridge_recv(ctx: TxContext, args: object) -> None:
    """``[packet, certificate]``: deliver a foreign packet a notary quorum attested."""
    packet_item, certificate_item = unpack(args, ("packet", "certificate"), "bridge_recv")
    packet = as_packet(packet_item)
    source = check_inbound(ctx, packet)
    if len(packet.receiver) != ADDRESS_LENGTH:
        raise TxRejected(Reason.BAD_ARGS, "receiver must be a 20-byte address of this chain")
    validate_certificate(
        certificate_item, codec.compute_packet_digest(packet, ctx.hash_fn), ctx.state
    )
    deliver(ctx, packet, source)
    ctx.state.set(recv_key(source, packet.sequence), ctx.hash_fn(rlp.encode(packet)))
    ctx.emit("recv_packet", packet_values(packet))


def check_inbound(ctx: TxContext, packet: codec.Packet) -> bytes:
    """The source of a packet this chain may still receive: for it, from another chain,
    not timed out, not yet received (each refusal typed)."""
    own = ctx.block.chain_id
    if packet.dest_chain != own:
        raise TxRejected(
            Reason.WRONG_DESTINATION, f"packet is for {packet.dest_chain!r}, this is {own!r}"
        )
    source = as_chain(packet.source_chain, "source_chain")
    if source == own:
        raise TxRejected(Reason.WRONG_DESTINATION, "packet claims to come from this chain")
    if packet.timeout_height and ctx.block.height >= packet.timeout_height:
        raise TxRejected(
            Reason.PACKET_TIMED_OUT,
            f"height {ctx.block.height} reached the timeout height {packet.timeout_height}",
        )
    if packet.timeout_time_ms and ctx.block.time_ms >= packet.timeout_time_ms:
        raise TxRejected(
            Reason.PACKET_TIMED_OUT,
            f"block time {ctx.block.time_ms} reached the timeout {packet.timeout_time_ms}",
        )
    if ctx.state.get(recv_key(source, packet.sequence)) is not None:
        raise TxRejected(
            Reason.REPLAYED_PACKET, f"packet {packet.sequence} from {source!r} was already received"
        )
    return source


def deliver(ctx: TxContext, packet: codec.Packet, source: bytes) -> None:
    """Credit the asset (voucher or escrow release) and/or file the message in the inbox."""
    if len(packet.receiver) != ADDRESS_LENGTH:
        raise TxRejected(Reason.BAD_ARGS, "receiver must be a 20-byte address of this chain")
    if packet.amount:
        _receive_asset(ctx, packet, source)
    elif packet.denom:
        raise TxRejected(Reason.BAD_ARGS, "a packet naming a denom must carry an amount")
    if not packet.amount or packet.payload:
        ctx.state.set(inbox_key(packet.receiver, source, packet.sequence), packet.payload)


def _receive_asset(ctx: TxContext, packet: codec.Packet, source: bytes) -> None:
    denom = as_denom(packet.denom)
    home = ctx.block.chain_id + b"/"
    if denom.startswith(home):  # our own token coming back: release it from escrow
        native = denom[len(home) :]
        ctx.debit(
            escrow_address(source, ctx.hash_fn), native, packet.amount, short=Reason.ESCROW_SHORT
        )
        ctx.credit(packet.receiver, native, packet.amount)
        return
    voucher = source + b"/" + denom
    if len(voucher) > MAX_DENOM_BYTES:
        raise TxRejected(Reason.BAD_ARGS, f"voucher denom would exceed {MAX_DENOM_BYTES} bytes")
    ctx.credit(packet.receiver, voucher, packet.amount)


def bridge_timeout(ctx: TxContext, args: object) -> None:
    """``[packet, certificate]``: refund a packet the notaries attest was never delivered."""
    packet_item, certificate_item = unpack(args, ("packet", "certificate"), "bridge_timeout")
    packet = as_packet(packet_item)
    check_pending(ctx, packet)
    if packet.timeout_time_ms and ctx.block.time_ms < packet.timeout_time_ms:
        raise TxRejected(
            Reason.NOT_TIMED_OUT,
            f"block time {ctx.block.time_ms} is before the timeout {packet.timeout_time_ms}",
        )
    validate_certificate(
        certificate_item, codec.compute_nondelivery_digest(packet, ctx.hash_fn), ctx.state
    )
    refund(ctx, packet)
    ctx.state.delete(packet_key(packet.dest_chain, packet.sequence))
    ctx.emit("timeout_packet", packet_values(packet))


def check_pending(ctx: TxContext, packet: codec.Packet) -> None:
    """Refuse unless ``packet`` was sent from here and is still pending, unchanged."""
    if packet.source_chain != ctx.block.chain_id:
        raise TxRejected(Reason.WRONG_DESTINATION, "packet was not sent from this chain")
    commitment = ctx.state.get(packet_key(packet.dest_chain, packet.sequence))
    if commitment is None:
        raise TxRejected(
            Reason.UNKNOWN_PACKET,
            f"no pending packet {packet.sequence} to {packet.dest_chain!r} "
            "(never sent, or already refunded)",
        )
    if commitment != ctx.hash_fn(rlp.encode(packet)):
        raise TxRejected(Reason.UNKNOWN_PACKET, "packet differs from the one this chain sent")


def refund(ctx: TxContext, packet: codec.Packet) -> None:
    """Pay a packet sent from here back: a burned voucher minted again, else from escrow."""
    if packet.amount:
        if packet.denom.startswith(packet.dest_chain + b"/"):  # burned voucher: mint it back
            ctx.credit(packet.sender, packet.denom, packet.amount)
        else:
            escrow = escrow_address(packet.dest_chain, ctx.hash_fn)
            ctx.debit(escrow, packet.denom, packet.amount, short=Reason.ESCROW_SHORT)
            ctx.credit(packet.sender, packet.denom, packet.amount)
