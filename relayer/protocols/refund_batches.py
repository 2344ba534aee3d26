"""Refund batches (issue #15): ``NONDELIVERY`` and ``ERROR_ACK`` roots, acted on by the SOURCE.

``relayer.protocols.batched`` moves proven packets to their destination in
``DELIVERY`` batches; this mixin of its ``BatchedNotaryProtocol`` moves packets
back: one notary statement over a batch of packets the source must refund,
then the root and the members in chunks on the SOURCE chain.

Two kinds, two ways in:

``NONDELIVERY``  ``timed_out`` transfers of a route (the destination's finalized
                 block passed their timeout) in no such batch yet are grouped
                 (``relayer.batching.plan_batches``, as deliveries) with the
                 SOURCE bridge's leaf, hash and digest; the notaries prove each
                 member's non-receipt (``Notary.attest_batch``). Members end
                 ``timed_out -> refunded``.
``ERROR_ACK``    members of a landed ``DELIVERY`` chunk that the destination
                 recorded failed (its ``packet_failed`` event: a receiver that
                 reverts, a token that refuses). The event is journaled on the
                 transfer (step ``failed``: what the notaries prove) and the
                 failed members of the chunk form one batch. Members end
                 ``dest_submitted -> refunded`` (``core.states``).

No ``ACK`` batches: neither source bridge needs an acknowledgement of a delivered
packet (``Bridge.sol``'s ``acknowledgeBatch`` and the devnet's
``bridge_ack_batch`` only clear a commitment a timeout can no longer use; the
per-packet path sends none either and records the receive event instead).

A refund batch is driven like a delivery batch, with the source as the acting chain:

``assembled`` -> ``attested`` at a quorum of the SOURCE's committee over the digest;
``attested``  -> ``submitted``: journal ``store_root`` THEN send it; then each chunk
              of ``batch_capacity()`` members: journal ``refund:<i>`` THEN send it;
``submitted`` -> ``done``: each chunk's receipt; the source's ``timeout_packet``
              events in its block (``is_refund_event``) say which members were
              refunded; their ``refund`` journal rows (already succeeded) and their
              move to ``refunded`` in ONE store transaction each.

Crash safety is the journal's: a chunk ``recorded`` but not marked sent may have
been sent, so the source is searched first (its refund events of the chunk's
packets since the height noted before journaling) and only a chunk not found
refunded is sent again; the source deletes a packet's commitment on its first
refund, so a lost race refunds once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.batches import BatchKind
from core.errors import ConfigError, InvalidInput
from core.ids import ChainId, Height
from core.records import ActionRecord, ActionStatus, BatchRecord, BatchState, RouteRecord
from core.records import TransferRecord as Transfer
from core.seams import BridgeEndpoint
from core.states import TransferState
from core.steps import Step
from core.types import ChainAction, ChainEvent, EventKind, Packet, TxReceipt
from relayer.batching import chunks_of, members_of, plan_batches, statement_of
from relayer.protocols.base import found_all_since, log
from relayer.protocols.notary import (
    REFUND,
    _receipt,
    is_refund_event,
    resend_failed,
)
from relayer.quorum import collect_quorum

if TYPE_CHECKING:
    from adapters.block_listings import BlockListings
    from relayer.protocols.base import Context

S = TransferState
STORE_ROOT = "store_root"
REFUND_CHUNK = "refund:"
"""Journal steps of a refund batch: ``store_root``, then ``refund:0``, ``refund:1``, ..."""
FAILED_EVENT = "failed_event"
"""Kind of a transfer's ``failed`` journal row: the destination's failure event, recorded."""
REFUND_KINDS = frozenset({BatchKind.NONDELIVERY, BatchKind.ERROR_ACK})

_WAITING_STATE = {BatchKind.NONDELIVERY: S.TIMED_OUT, BatchKind.ERROR_ACK: S.DEST_SUBMITTED}
"""The state a refund batch's members wait in until their refund lands."""


class RefundBatches:
    """The source-side half of ``BatchedNotaryProtocol`` (see the module docstring)."""

    if TYPE_CHECKING:
        ctx: Context
        _listings: BlockListings

        @staticmethod
        def _packet(t: Transfer) -> Packet: ...

        async def _send(
            self,
            batch: BatchRecord,
            step: str,
            route: RouteRecord,
            journal: dict[str, ActionRecord],
            chain_action: ChainAction,
            *,
            on: ChainId | None = None,
        ) -> bytes: ...

        async def _move_many(
            self,
            ids: Sequence[str],
            expected: TransferState,
            new: TransferState,
            reason: str,
            now: float,
            **fields: object,
        ) -> int: ...

    # --- assembling -----------------------------------------------------------------------

    async def _refund_in_batches(
        self, route: RouteRecord, timed_out: Sequence[Transfer]
    ) -> tuple[list[Transfer], list[Transfer]]:
        """Put ``timed_out`` transfers in ``NONDELIVERY`` batches; ``(per_packet, held)``:
        those that keep the per-packet refund (a refund already journaled per packet, no
        stored packet, a leaf the source refuses) and those a batch holds or will hold
        (released by the caller)."""
        ctx = self.ctx
        ids = [t.id for t in timed_out]
        batched = await ctx.store.batched(ids, int(BatchKind.NONDELIVERY))
        held = [t for t in timed_out if t.id in batched]
        bridge = ctx.bridge(route.source)
        per_packet: list[Transfer] = []
        candidates: list[tuple[Transfer, Packet]] = []
        for t in timed_out:
            if t.id in batched:
                continue
            try:
                packet = self._packet(t)
                bridge.batch_leaf(packet)
            except (InvalidInput, ConfigError):
                per_packet.append(t)
                continue
            if await ctx.store.action(t.id, REFUND) is not None:
                per_packet.append(t)  # started per packet (mode switched): finish it so
                continue
            candidates.append((t, packet))
        packets = {t.id: p for t, p in candidates}
        for group in plan_batches(
            [t for t, _p in candidates],
            route_id=route.route_id,
            max_size=ctx.settings.batch_max,
            linger=ctx.settings.batch_linger,
            now=ctx.now(),
        ):
            await self._create_refund_batch(
                route, BatchKind.NONDELIVERY, group, [packets[t.id] for t in group]
            )
        held += [t for t, _p in candidates]
        return per_packet, held

    async def _create_refund_batch(
        self,
        route: RouteRecord,
        kind: BatchKind,
        group: Sequence[Transfer],
        packets: Sequence[Packet],
    ) -> BatchRecord:
        """Record a batch the SOURCE acts on (its leaf, hash, epoch and digest)."""
        ctx = self.ctx
        bridge = ctx.bridge(route.source)
        root, _members = members_of(bridge, packets)
        statement = statement_of(
            str(route.source),
            str(route.destination),
            bridge.committee_epoch(),
            int(kind),
            len(group),
            root,
        )
        batch = await ctx.store.create_batch(
            route.route_id,
            int(kind),
            statement.epoch,
            root,
            bridge.batch_digest(statement),
            [t.id for t in group],
            ctx.now(),
            hold_until=ctx.now() + ctx.settings.lease_seconds,
        )
        log.info(
            "%s batch %s: %d packets of %s to refund on %s, root 0x%s",
            kind.name,
            batch.id,
            batch.size,
            route.route_id,
            route.source,
            root.hex()[:16],
        )
        return batch

    async def _error_ack(
        self,
        route: RouteRecord,
        batch: BatchRecord,
        failed: Sequence[tuple[Transfer, Packet, ChainEvent]],
        height: int,
    ) -> None:
        """Members of delivery ``batch`` the destination recorded failed in block
        ``height``: journal each one's failure event (step ``failed``, what the notaries
        prove), then one ``ERROR_ACK`` batch of those in none yet."""
        ctx = self.ctx
        rows = []
        for t, packet, event in failed:
            payload: dict[str, object] = {
                "height": int(event.height),
                "tx_hash": "0x" + event.tx_hash.hex(),
                "position": list(event.position),
            }
            key = f"{Step.FAILED}:{packet.source_chain}/{packet.dest_chain}/{packet.sequence}"
            action = ChainAction(FAILED_EVENT, payload, key)
            height_of = Height(int(event.height))
            rows.append(
                (t.id, str(Step.FAILED), route.destination, action, event.tx_hash, height_of)
            )
        await ctx.store.record_done_actions(rows, ctx.now())
        ids = [t.id for t, _p, _e in failed]
        known = await ctx.store.batched(ids, int(BatchKind.ERROR_ACK))
        fresh = [(t, p) for t, p, _e in failed if t.id not in known]
        name = ", ".join(sorted(set(known.values())))
        if fresh:
            made = await self._create_refund_batch(
                route, BatchKind.ERROR_ACK, [t for t, _p in fresh], [p for _t, p in fresh]
            )
            name = ", ".join(filter(None, (name, made.id)))
        await ctx.store.note_many(
            ids,
            S.DEST_SUBMITTED,
            f"refused by {route.destination} in block {height} (its packet_failed event, "
            f"batch {batch.id}): refunded on {route.source} by error-ack batch {name}",
            ctx.now(),
            hold_until=ctx.now() + ctx.settings.lease_seconds,
        )

    # --- driving one refund batch ---------------------------------------------------------

    async def _step_refund_batch(self, route: RouteRecord, batch: BatchRecord) -> None:
        kind = BatchKind(batch.kind)
        if kind not in REFUND_KINDS:
            raise ConfigError(f"batch {batch.id}: this relayer does not drive {kind.name} batches")
        if batch.state is BatchState.ASSEMBLED:
            await self._attest_refund(route, batch)
        elif batch.state is BatchState.ATTESTED:
            await self._send_refund(route, batch)
        elif batch.state is BatchState.SUBMITTED:
            await self._settle_refund(route, batch)

    def _source_committee(
        self, route: RouteRecord
    ) -> tuple[BridgeEndpoint, tuple[int, Sequence[str]]]:
        bridge = self.ctx.bridge(route.source)
        committee = bridge.committee()
        if committee[0] < 1 or not committee[1]:
            raise ConfigError(f"the bridge of {route.source} has no notary committee configured")
        return bridge, committee

    async def _attest_refund(self, route: RouteRecord, batch: BatchRecord) -> None:
        ctx = self.ctx
        waiting = _WAITING_STATE[BatchKind(batch.kind)]
        if route.source in ctx.held:
            # The source's committee rotates (relayer/rotation.py): no certificate acting on
            # it is counted until the rotation is done, as for deliveries.
            await ctx.store.note_many(
                batch.transfer_ids,
                waiting,
                f"waiting: the committee of {route.source} rotates (batch {batch.id})",
                ctx.now(),
                hold_until=ctx.now() + ctx.settings.lease_seconds,
            )
            return
        _bridge, committee = self._source_committee(route)
        quorum = collect_quorum(await ctx.store.batch_signatures(batch.id), batch.digest, committee)
        if not quorum.reached:
            await ctx.store.note_many(
                batch.transfer_ids,
                waiting,
                f"waiting for notaries: {len(quorum.signers)} of {quorum.threshold} "
                f"({BatchKind(batch.kind).name} batch {batch.id} of {batch.size})",
                ctx.now(),
                hold_until=ctx.now() + ctx.settings.lease_seconds,
            )
            return
        await ctx.store.set_batch_state(
            batch.id, BatchState.ASSEMBLED, BatchState.ATTESTED, ctx.now(), worker=ctx.worker_id
        )
        log.info("batch %s: %s attested its refunds", batch.id, quorum.describe())
        await self._send_refund(route, batch)

    async def _send_refund(self, route: RouteRecord, batch: BatchRecord) -> None:
        """Journal, then send, the root and every chunk on the SOURCE (a chunk found
        refunded is not sent again)."""
        ctx = self.ctx
        bridge, committee = self._source_committee(route)
        members = await ctx.store.batch_members(batch.id)
        root, batch_members = members_of(bridge, [self._packet(t) for t in members])
        if root != batch.root:
            raise ConfigError(f"batch {batch.id}: its members no longer hash to its root")
        statement = statement_of(
            str(route.source), str(route.destination), batch.epoch, batch.kind, batch.size, root
        )
        journal = await ctx.store.batch_actions(batch.id)
        certificate = collect_quorum(
            await ctx.store.batch_signatures(batch.id), batch.digest, committee
        ).certificate()
        await self._send_on_source(
            route, batch, STORE_ROOT, journal, bridge.store_root_action(statement, certificate)
        )
        for number, chunk in enumerate(chunks_of(batch_members, bridge.batch_capacity())):
            step = f"{REFUND_CHUNK}{number}"
            action = journal.get(step)
            if action is not None and action.status is not ActionStatus.RECORDED:
                continue
            found = await self._found_refunded(route, action, [m.packet for m in chunk])
            if found is not None and action is not None:
                await ctx.store.mark_batch_action(
                    action.id, ActionStatus.SUCCEEDED, tx_hash=found.tx_hash, height=found.height
                )
                continue
            await self._send_on_source(
                route, batch, step, journal, bridge.batch_action(statement, chunk)
            )
        await ctx.store.note_many(
            batch.transfer_ids,
            _WAITING_STATE[BatchKind(batch.kind)],
            f"refund of {BatchKind(batch.kind).name} batch {batch.id} sent to {route.source}",
            ctx.now(),
            hold_until=ctx.now() + ctx.settings.lease_seconds,
        )
        await ctx.store.set_batch_state(
            batch.id, BatchState.ATTESTED, BatchState.SUBMITTED, ctx.now(), worker=ctx.worker_id
        )

    async def _send_on_source(
        self,
        route: RouteRecord,
        batch: BatchRecord,
        step: str,
        journal: dict[str, ActionRecord],
        chain_action: ChainAction,
    ) -> bytes:
        """Journal ``chain_action`` (unless it is), THEN send it on the source; its hash.
        A refused root is most likely stored already (ours before a crash, another
        relayer's): the chunks decide."""
        return await self._send(batch, step, route, journal, chain_action, on=route.source)

    async def _found_refunded(
        self, route: RouteRecord, action: ActionRecord | None, packets: Sequence[Packet]
    ) -> ChainEvent | None:
        """After a crash between journal and send: the source's refund event of the chunk's
        LAST packet found when every packet of the chunk is found refunded since the height
        noted on the journal row (else ``None``: send the chunk)."""
        if action is None or action.search_floor is None:
            return None
        return await found_all_since(
            self.ctx.adapter(route.source),
            int(action.search_floor),
            packets,
            is_refund_event,
            self.ctx.settings.chunk_size,
        )

    async def _settle_refund(self, route: RouteRecord, batch: BatchRecord) -> None:
        """Each chunk's receipt; the members its block's refund events show refunded move to
        ``refunded`` with their ``refund`` journal rows, in one transaction each; a failed
        chunk is looked for, then sent again."""
        ctx = self.ctx
        source = ctx.adapter(route.source)
        bridge = ctx.bridge(route.source)
        waiting = _WAITING_STATE[BatchKind(batch.kind)]
        journal = await ctx.store.batch_actions(batch.id)
        members = await ctx.store.batch_members(batch.id)
        if not any(t.state is waiting for t in members):
            await ctx.store.set_batch_state(
                batch.id, BatchState.SUBMITTED, BatchState.DONE, ctx.now(), worker=ctx.worker_id
            )
            return
        by_packet = [(t, self._packet(t)) for t in members]
        capacity = max(1, bridge.batch_capacity())
        chunks = (batch.size + capacity - 1) // capacity
        settled = 0
        for number in range(chunks):
            action = journal.get(f"{REFUND_CHUNK}{number}")
            if action is None:
                continue
            chunk = by_packet[number * capacity : (number + 1) * capacity]
            if action.status is ActionStatus.SUCCEEDED:
                settled += 1
                if action.height is None or all(t.state is not waiting for t, _p in chunk):
                    continue
                # A crash between marking the chunk and moving its members: move them now.
                receipt: TxReceipt | None = TxReceipt(
                    route.source, action.tx_hash or b"", action.height, True
                )
            else:
                receipt = await _receipt(source, action.tx_hash)
            if receipt is None or receipt.height is None:
                continue  # pending
            if receipt.success:
                mined = receipt.tx_hash or action.tx_hash or b""
                events = await self._listings.events(source, int(receipt.height))
                await self._batch_refunded(route, batch, number, chunk, events, mined, waiting)
                if action.status is not ActionStatus.SUCCEEDED:
                    await ctx.store.mark_batch_action(
                        action.id, ActionStatus.SUCCEEDED, tx_hash=mined, height=receipt.height
                    )
                    settled += 1
                continue
            found = await self._found_refunded(route, action, [p for _t, p in chunk])
            if found is not None:
                # Refunded by another transaction (ours before a crash, another relayer's).
                await self._batch_refunded(
                    route, batch, number, chunk, None, found.tx_hash, waiting, found
                )
                await ctx.store.mark_batch_action(
                    action.id, ActionStatus.SUCCEEDED, tx_hash=found.tx_hash, height=found.height
                )
                settled += 1
                continue
            await resend_failed(
                ctx.store, source, action, receipt.reason, f"batch {batch.id} refund chunk {number}"
            )
        if settled == chunks:
            await ctx.store.set_batch_state(
                batch.id, BatchState.SUBMITTED, BatchState.DONE, ctx.now(), worker=ctx.worker_id
            )

    async def _batch_refunded(
        self,
        route: RouteRecord,
        batch: BatchRecord,
        number: int,
        chunk: Sequence[tuple[Transfer, Packet]],
        events: Sequence[ChainEvent] | None,
        tx_hash: bytes,
        waiting: TransferState,
        found: ChainEvent | None = None,
    ) -> None:
        """Journal each refunded member's ``refund`` row (succeeded: the batch sent it) and
        move them ``waiting -> refunded``, one transaction each. ``events``: the refund
        block's events (a member counts when its ``timeout_packet`` event is there);
        ``None``: every member was found refunded (``found`` the last one's event)."""
        ctx = self.ctx
        rows = []
        for t, packet in chunk:
            if t.state is not waiting:
                continue
            if events is None:
                event = found
            else:
                event = next(
                    (
                        e
                        for e in events
                        if e.kind is EventKind.TIMEOUT_PACKET
                        and e.tx_hash == tx_hash
                        and is_refund_event(e, packet)
                    ),
                    None,
                )
            if event is None:
                continue
            payload: dict[str, object] = {"batch": batch.id, "chunk": number}
            key = f"{REFUND}:{packet.source_chain}/{packet.dest_chain}/{packet.sequence}"
            action = ChainAction(f"batch_{REFUND}", payload, key)
            height_of = Height(int(event.height))
            rows.append(
                (t.id, str(REFUND), ChainId(route.source), action, event.tx_hash, height_of)
            )
        if not rows:
            return
        await ctx.store.record_done_actions(rows, ctx.now())
        height = rows[0][5]
        await self._move_many(
            [r[0] for r in rows],
            waiting,
            S.REFUNDED,
            f"refunded on {route.source} by 0x{tx_hash.hex()} in block {height} "
            f"({BatchKind(batch.kind).name} batch {batch.id} chunk {number})",
            ctx.now(),
        )


__all__ = ["FAILED_EVENT", "REFUND_CHUNK", "REFUND_KINDS", "RefundBatches"]
