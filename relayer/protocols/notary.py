"""The ``notary`` route protocol: a packet crosses when an m-of-n committee attests it.

One idempotent step per call, by state (``docs/relayer.md`` has the table):

``requested``         send the journaled ``source_submit`` action (receipt first),
                      then wait for the watcher to see the packet event
``source_committed``  -> ``source_final`` once the source finalized the block
``source_final``      -> ``proven``: light client verifies the header at the
                      event's height, then the event's inclusion proof
``proven``            -> ``attested`` at the destination committee's threshold of
                      valid signatures over the destination's delivery digest
``attested``          -> ``dest_submitted``: journal ``deliver``, THEN send
``dest_submitted``    -> ``completed`` on a successful receipt, or when the
                      packet is found delivered (a replay reverted: someone
                      else's delivery, or ours before a crash)
``timed_out``         -> ``refunded``: non-delivery quorum on the SOURCE's digest,
                      journal ``refund``, send, successful receipt (or the
                      source's refund event found after a crash)

The journal rule: every chain write is recorded (``Store.record_action``)
before it is sent; a ``recorded`` action found on restart means "maybe sent",
so the chain is asked first (receipt of a known hash, the delivered event
between the destination height noted before journaling and now) and only
then is the journaled action sent again. The destination refuses a replayed
sequence, so even a lost race delivers once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from eth_hash.auto import keccak

from adapters.block_listings import BlockListings
from core.errors import (
    BadProof,
    ChainRejected,
    ConfigError,
    InvalidInput,
    NotFound,
    ReorgDetected,
)
from core.ids import Height, PacketId
from core.records import ActionRecord, ActionStatus, RouteRecord, TransferRecord
from core.seams import ChainAdapter
from core.states import TERMINAL_TRANSFER_STATES, TransferState
from core.steps import Step
from core.types import ChainAction, ChainEvent, EventKind, Packet, TxReceipt, packet_from_data
from relayer.async_store import AsyncStore
from relayer.protocols.base import Context, log
from relayer.quorum import Quorum, collect_quorum

LISTED_HEIGHTS = 48
"""Final blocks (source blocks of packets, destination blocks of their receipts) whose event
listing the protocol keeps: they never change."""
SOURCE_SUBMIT = Step.SOURCE_SUBMIT
DELIVER = Step.DELIVER
REFUND = Step.REFUND
ACK = Step.ACK
"""Action step of a transfer's acknowledgement: the destination's receive event, recorded."""
RECEIVE_EVENT = "receive_event"

S = TransferState


def is_refund_event(event: ChainEvent, packet: Packet) -> bool:
    """Whether ``event`` is the source bridge's refund of ``packet``.

    A source names a packet by (destination, sequence). The devnet's
    ``timeout_packet`` carries ``dest_chain`` as text; ``Bridge.sol``'s
    ``TimeoutPacket`` indexes ``destChain``, so its attribute is the keccak hash.
    """
    if event.kind is not EventKind.TIMEOUT_PACKET or event.chain_id != packet.source_chain:
        return False
    attrs = event.attributes
    if attrs.get("sequence") != packet.sequence:
        return False
    dest = attrs.get("dest_chain", attrs.get("destChain"))
    name = str(packet.dest_chain)
    return dest == name or dest == keccak(name.encode())


def packet_id(packet: Packet) -> PacketId:
    return PacketId(packet.source_chain, packet.dest_chain, packet.sequence)


def replay_action(action: ActionRecord) -> ChainAction:
    """The journaled action, exactly as recorded (what is sent again after a crash)."""
    return ChainAction(action.kind, dict(action.payload), action.idempotency_key)


async def resend_failed(
    store: AsyncStore, adapter: ChainAdapter, action: ActionRecord, reason: str | None, what: str
) -> ChainRejected | None:
    """A journaled batch chunk whose transaction failed on chain (and was not found done
    another way): marked ``failed`` with the receipt's reason, sent again as recorded,
    marked ``sent`` with the new hash. The refusal when the chain refuses it again (logged
    as ``what``; the next look retries), else ``None``. One path for delivery and refund
    chunks."""
    await store.mark_batch_action(
        action.id, ActionStatus.FAILED, tx_hash=action.tx_hash, reason=reason
    )
    try:
        resent = await adapter.submit(replay_action(action))
    except ChainRejected as err:
        log.warning("%s refused again: %s", what, err)
        return err
    await store.mark_batch_action(action.id, ActionStatus.SENT, tx_hash=resent)
    return None


@dataclass(frozen=True, slots=True)
class _Send:
    """A delivery journaled and ready to go out (single or batched)."""

    transfer: TransferRecord
    action: ActionRecord
    chain_action: ChainAction


class NotaryProtocol:
    """The notary state machine; one instance per ``Relayer`` (it caches source events)."""

    name = "notary"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._events: dict[str, ChainEvent] = {}
        self._packets: dict[str, Packet] = {}
        # One listing per FINAL source block for all its packets (a block holds hundreds
        # under load): shared tasks, so concurrent steps of one block read it once.
        # One listing per final block, source or destination, for all its packets.
        self._listings = BlockListings(LISTED_HEIGHTS)

    # --- the engine's entry point ---------------------------------------------------------

    async def process(self, route: RouteRecord, transfers: Sequence[TransferRecord]) -> None:
        """Step every transfer; attested ones go out in batches where the destination can."""
        dest = self.ctx.adapter(route.destination)
        batching = hasattr(dest, "submit_many")
        batch = [t for t in transfers if batching and t.state is S.ATTESTED]
        singles = [t for t in transfers if t not in batch]
        limit = asyncio.Semaphore(self.ctx.settings.concurrency)

        async def run(t: TransferRecord) -> None:
            async with limit:
                await self._steps(route, t)

        if len(batch) == 1:
            singles, batch = singles + batch, []
        await asyncio.gather(*(run(t) for t in singles))
        if batch:
            await self._deliver_batch(route, dest, batch)

    async def _steps(self, route: RouteRecord, t: TransferRecord) -> None:
        try:
            for _ in range(self.ctx.settings.steps_per_claim):
                moved = await self.ctx.guarded(route, t, self.step(route, t))
                if moved is None or moved.state in TERMINAL_TRANSFER_STATES:
                    break
                t = moved
        finally:
            await self._release(t)

    async def _release(self, t: TransferRecord) -> None:
        try:
            await self.ctx.store.release(t.id, self.ctx.worker_id)
        except Exception as err:  # the lease expires on its own
            log.warning("transfer %s: release failed: %s", t.id, err)
        if t.state in TERMINAL_TRANSFER_STATES:
            self._events.pop(t.id, None)
            self._packets.pop(t.id, None)

    async def step(self, route: RouteRecord, t: TransferRecord) -> TransferRecord | None:
        """One step out of ``t.state``; the new record when it moved, else ``None``."""
        handler = {
            S.REQUESTED: self._requested,
            S.SOURCE_COMMITTED: self._source_committed,
            S.SOURCE_FINAL: self._source_final,
            S.PROVEN: self._proven,
            S.ATTESTED: self._attested,
            S.DEST_SUBMITTED: self._dest_submitted,
            S.TIMED_OUT: self._timed_out_step,
            S.HELD: self._held,
        }.get(t.state)
        if handler is None:
            return None
        return await handler(route, t)

    # --- requested ------------------------------------------------------------------------

    async def _requested(self, route: RouteRecord, t: TransferRecord) -> TransferRecord | None:
        ctx = self.ctx
        if t.packet is not None and t.source_height is not None:
            # The watcher recorded the packet event on this transfer.
            return await ctx.move(
                t,
                S.SOURCE_COMMITTED,
                f"send_packet {t.packet} in block {t.source_height} of {route.source}",
            )
        action = await ctx.store.action(t.id, SOURCE_SUBMIT)
        if action is None:
            await ctx.wait(t, "waiting for the packet to appear on the source chain")
            return None
        source = ctx.adapter(route.source)
        if action.status is ActionStatus.FAILED:
            return await ctx.move(t, S.REJECTED, f"source transaction failed: {action.reason}")
        if action.status is ActionStatus.RECORDED:
            known = action.tx_hash or t.source_tx
            landed = await _receipt(source, known) if known else None
            if landed is not None and landed.height is not None:
                tx_hash = known
            else:
                tx_hash = await source.submit(replay_action(action))
            await ctx.store.mark_action(action.id, ActionStatus.SENT, tx_hash=tx_hash)
            # The watcher finds this transfer by the hash instead of creating a second one
            # for its packet. The API gives it in the journal's commit (``record_action``'s
            # ``source_tx``); this is for a transfer an older hub journaled without it.
            await ctx.store.set_source_tx(t.id, tx_hash)
            await ctx.wait(t, f"source transaction 0x{tx_hash.hex()} sent; waiting for its packet")
            return None
        receipt = await _receipt(source, action.tx_hash) if action.tx_hash else None
        if receipt is not None and receipt.success is False:
            await ctx.store.mark_action(action.id, ActionStatus.FAILED, reason=receipt.reason)
            return await ctx.move(t, S.REJECTED, f"source transaction failed: {receipt.reason}")
        await ctx.wait(t, "source transaction sent; waiting for its packet event")
        return None

    # --- source_committed -----------------------------------------------------------------

    async def _source_committed(
        self, route: RouteRecord, t: TransferRecord
    ) -> TransferRecord | None:
        if t.source_height is None:
            await self.ctx.wait(t, "waiting for the watcher to record the packet event")
            return None
        final = await self.ctx.adapter(route.source).finalized_height()
        if final >= t.source_height:
            return await self.ctx.move(
                t, S.SOURCE_FINAL, f"block {t.source_height} is final (finalized {final})"
            )
        await self.ctx.wait(
            t, f"waiting for block {t.source_height} to be final (finalized {final})"
        )
        return None

    # --- source_final -> proven -----------------------------------------------------------

    async def _source_final(self, route: RouteRecord, t: TransferRecord) -> TransferRecord | None:
        event, _packet = await self._event_and_packet(route, t)
        verified = await self.ctx.keeper.verified_at(route.source, int(event.height), recheck=True)
        proof = await self.ctx.adapter(route.source).prove(event)
        if proof.value != event.raw or (t.source_event and proof.value != t.source_event):
            raise BadProof(
                "the proven value is not the packet event the relayer read", check="value"
            )
        await asyncio.to_thread(
            verified.light_client.verify_membership, verified.consensus_state, proof
        )
        return await self.ctx.move(
            t,
            S.PROVEN,
            f"header {event.height} (0x{verified.header_hash.hex()[:16]}) verified by the "
            "light client; packet inclusion proven",
        )

    # --- proven -> attested ---------------------------------------------------------------

    async def _proven(self, route: RouteRecord, t: TransferRecord) -> TransferRecord | None:
        if t.admitted_at is None:  # sent on the source without the API: checked here, once
            (t,) = await self.ctx.screen([t], S.PROVEN, "source")
            if t.state is not S.PROVEN:
                return t
        _event, packet = await self._event_and_packet(route, t)
        try:
            quorum = await self._quorum(t, route, packet, delivery=True)
        except InvalidInput as err:
            # The destination cannot take this packet (e.g. a timeout finer than its clock):
            # it is on the source for good, so it waits for its timeout and is refunded.
            if await self._is_timed_out(route, packet):
                return await self.ctx.move(
                    t, S.TIMED_OUT, f"undeliverable ({err.message}); the timeout passed"
                )
            await self.ctx.wait(
                t,
                f"undeliverable ({err.message}); refunded once the timeout passes",
                self.ctx.backoff(t),
            )
            return None
        if quorum.reached:
            return await self.ctx.move(t, S.ATTESTED, f"{quorum.describe()} attested the packet")
        if await self._is_timed_out(route, packet):
            return await self.ctx.move(
                t, S.TIMED_OUT, "the destination passed the packet's timeout"
            )
        await self.ctx.wait(t, f"waiting for notaries: {len(quorum.signers)} of {quorum.threshold}")
        return None

    async def _quorum(
        self, t: TransferRecord, route: RouteRecord, packet: Packet, *, delivery: bool
    ):
        chain = route.destination if delivery else route.source
        bridge = self.ctx.bridge(chain)
        committee = bridge.committee()
        if committee[0] < 1 or not committee[1]:
            raise ConfigError(f"the bridge of {chain} has no notary committee configured")
        if chain in self.ctx.held:  # a committee rotation drains (relayer/rotation.py)
            return Quorum(committee[0], len(committee[1]), (), ())
        digest = bridge.delivery_digest(packet) if delivery else bridge.nondelivery_digest(packet)
        return collect_quorum(await self.ctx.store.signatures(t.id), digest, committee)

    # --- held ---------------------------------------------------------------------------

    async def _held(self, route: RouteRecord, t: TransferRecord) -> TransferRecord | None:
        """A held transfer came due (``relayer.risk.holds``): past its timeout it is refunded
        (``timed_out``); at its release time it is screened again; otherwise it rests,
        quietly, until its release time or the next look at its timeout."""
        ctx = self.ctx
        hold = t.hold
        now = ctx.now()
        if hold is not None and hold.origin == "source":
            _event, packet = await self._event_and_packet(route, t)
            if await self._is_timed_out(route, packet):
                why = hold.decision or "still held"
                return await ctx.move(
                    t, S.TIMED_OUT, f"{why}; the timeout passed: refunded on the source"
                )
        release = None if hold is None or hold.decision is not None else hold.release_at
        if hold is not None and release is not None and release <= now:
            (after,) = await ctx.screen([t], S.HELD, hold.origin)
            return after if after.state is not S.HELD else None
        wake = now + ctx.settings.hold_recheck
        if release is not None:
            wake = min(wake, release)
        await ctx.store.note_many([t.id], S.HELD, t.reason, now, hold_until=wake)
        return None

    # --- attested -> dest_submitted -------------------------------------------------------

    async def _attested(self, route: RouteRecord, t: TransferRecord) -> TransferRecord | None:
        prepared = await self.prepare_delivery(route, t)
        if not isinstance(prepared, _Send):
            return prepared
        dest = self.ctx.adapter(route.destination)
        try:
            tx_hash = await dest.submit(prepared.chain_action)
        except ChainRejected as err:
            return await self._rejected_delivery(route, t, prepared.action, err)
        return await self._sent(t, prepared.action, tx_hash)

    async def prepare_delivery(
        self, route: RouteRecord, t: TransferRecord
    ) -> _Send | TransferRecord | None:
        """Journal the delivery (or find it already done); a ``_Send`` when it must go out."""
        ctx = self.ctx
        action = await ctx.store.action(t.id, DELIVER)
        _event, packet = await self._event_and_packet(route, t)
        dest = ctx.adapter(route.destination)
        if action is None:
            if await self._is_timed_out(route, packet):
                return await ctx.move(t, S.TIMED_OUT, "the destination passed the packet's timeout")
            chain_action = await self.delivery_action(route, t, packet)
            if chain_action is None:
                return None
            # A delivery of this packet, by anyone, can only be at or above the height
            # noted now (the transfer was not attested before): the search after a crash
            # starts there, recorded on the journal row itself.
            floor = await dest.latest_height()
            action = await ctx.store.record_action(
                t.id, DELIVER, route.destination, chain_action, ctx.now(), search_floor=floor
            )
            return _Send(t, action, chain_action)
        if action.status in (ActionStatus.SENT, ActionStatus.SUCCEEDED) and action.tx_hash:
            # A crash between marking the action sent and moving the transfer.
            return await ctx.move(
                t,
                S.DEST_SUBMITTED,
                f"delivery 0x{action.tx_hash.hex()} sent",
                dest_tx=action.tx_hash,
            )
        # ``recorded`` (or failed): maybe sent before a crash. Ask the chain before sending again.
        if action.tx_hash:
            receipt = await _receipt(dest, action.tx_hash)
            if receipt is not None and receipt.height is not None and receipt.success:
                await ctx.store.mark_action(action.id, ActionStatus.SENT, tx_hash=action.tx_hash)
                return await ctx.move(
                    t,
                    S.DEST_SUBMITTED,
                    "delivery found mined after a restart",
                    dest_tx=action.tx_hash,
                )
        found = await self._find_delivery(route, t, packet)
        if found is not None:
            await ctx.store.mark_action(
                action.id, ActionStatus.SUCCEEDED, tx_hash=found.tx_hash, height=found.height
            )
            return await ctx.move(
                t,
                S.DEST_SUBMITTED,
                f"packet already delivered on {route.destination} by 0x{found.tx_hash.hex()}",
                dest_tx=found.tx_hash,
            )
        return _Send(t, action, replay_action(action))

    async def delivery_action(
        self, route: RouteRecord, t: TransferRecord, packet: Packet
    ) -> ChainAction | None:
        """The destination's delivery of ``packet`` (here: with the notary certificate), or
        ``None`` after noting why it cannot be built yet. The ``light_client`` protocol
        overrides it (a proof instead of a certificate)."""
        quorum = await self._quorum(t, route, packet, delivery=True)
        if not quorum.reached:
            await self.ctx.wait(
                t, f"waiting for notaries: {len(quorum.signers)} of {quorum.threshold}"
            )
            return None
        return self.ctx.bridge(route.destination).deliver_action(packet, quorum.certificate())

    async def _sent(
        self, t: TransferRecord, action: ActionRecord, tx_hash: bytes
    ) -> TransferRecord:
        await self.ctx.store.mark_action(action.id, ActionStatus.SENT, tx_hash=tx_hash)
        return await self.ctx.move(
            t, S.DEST_SUBMITTED, f"delivery 0x{tx_hash.hex()} sent", dest_tx=tx_hash
        )

    async def _sent_async(self, send: _Send, tx_hash: bytes) -> TransferRecord:
        return await self._sent(send.transfer, send.action, tx_hash)

    async def _rejected_delivery(
        self, route: RouteRecord, t: TransferRecord, action: ActionRecord, err: ChainRejected
    ) -> TransferRecord | None:
        """The destination refused the delivery: already delivered, timed out, or a real fault."""
        _event, packet = await self._event_and_packet(route, t)
        found = await self._find_delivery(route, t, packet)
        if found is not None:
            await self.ctx.store.mark_action(
                action.id, ActionStatus.SUCCEEDED, tx_hash=found.tx_hash, height=found.height
            )
            return await self.ctx.move(
                t,
                S.DEST_SUBMITTED,
                f"packet already delivered by 0x{found.tx_hash.hex()} ({err.message})",
                dest_tx=found.tx_hash,
            )
        if await self._is_timed_out(route, packet):
            return await self.ctx.move(
                t, S.TIMED_OUT, f"destination refused after timeout: {err.message}"
            )
        raise err

    async def _deliver_batch(
        self, route: RouteRecord, dest: ChainAdapter, transfers: Sequence[TransferRecord]
    ) -> None:
        """Journal every delivery, then send them with ``submit_many`` (one JSON-RPC batch)."""
        ctx = self.ctx
        ready: list[_Send] = []
        try:
            for t in transfers:
                prepared = await ctx.guarded(route, t, self.prepare_delivery(route, t))
                if isinstance(prepared, _Send):
                    ready.append(prepared)
            size = ctx.settings.batch_size
            for first in range(0, len(ready), size):
                chunk = ready[first : first + size]
                try:
                    results = await dest.submit_many([s.chain_action for s in chunk])  # type: ignore[attr-defined]
                except Exception as err:  # the whole batch failed: each transfer retries
                    for s in chunk:
                        await ctx.handle_error(route, s.transfer, err)
                    continue
                for s, result in zip(chunk, results, strict=True):
                    if isinstance(result, bytes):
                        await ctx.guarded(route, s.transfer, self._sent_async(s, result))
                    else:
                        await ctx.guarded(
                            route,
                            s.transfer,
                            self._rejected_delivery(route, s.transfer, s.action, result),
                        )
        finally:
            for t in transfers:
                await self._release(t)

    # --- dest_submitted -> completed ------------------------------------------------------

    async def _dest_submitted(self, route: RouteRecord, t: TransferRecord) -> TransferRecord | None:
        ctx = self.ctx
        dest = ctx.adapter(route.destination)
        action = await ctx.store.action(t.id, DELIVER)
        tx_hash = (action.tx_hash if action is not None else None) or t.dest_tx
        receipt = await _receipt(dest, tx_hash) if tx_hash else None
        if receipt is not None and receipt.success and receipt.height is not None and tx_hash:
            _event, packet = await self._event_and_packet(route, t)
            mined = receipt.tx_hash  # a fee-bumped replacement's hash when the sender replaced it
            ack = await self._acknowledge(route, t, packet, mined, int(receipt.height))
            if action is not None:
                await ctx.store.mark_action(
                    action.id, ActionStatus.SUCCEEDED, tx_hash=mined, height=receipt.height
                )
            return await ctx.move(
                t,
                S.COMPLETED,
                f"delivered in block {receipt.height} of {route.destination}; {ack}",
            )
        pending = receipt is not None and receipt.height is None and receipt.success is None
        if pending and action is not None and action.status is not ActionStatus.SUCCEEDED:
            await ctx.wait(t, f"waiting for the receipt of 0x{(tx_hash or b'').hex()}")
            return None
        _event, packet = await self._event_and_packet(route, t)
        found = await self._find_delivery(route, t, packet)
        if found is not None:
            ack = await self._acknowledge(route, t, packet, found.tx_hash, int(found.height), found)
            if action is not None:
                await ctx.store.mark_action(
                    action.id, ActionStatus.SUCCEEDED, tx_hash=found.tx_hash, height=found.height
                )
            why = f" (0x{tx_hash.hex()} failed: {receipt.reason})" if receipt and tx_hash else ""
            return await ctx.move(
                t,
                S.COMPLETED,
                f"delivered by 0x{found.tx_hash.hex()} in block {found.height}{why}; {ack}",
            )
        if await self._is_timed_out(route, packet):
            return await ctx.move(
                t, S.TIMED_OUT, "the destination passed the timeout without delivery"
            )
        if action is None:
            raise ConfigError(f"transfer {t.id} was submitted without a journaled delivery")
        reason = receipt.reason if receipt is not None else "transaction unknown to the node"
        await ctx.store.mark_action(action.id, ActionStatus.FAILED, tx_hash=tx_hash, reason=reason)
        resent = await dest.submit(replay_action(action))
        await ctx.store.mark_action(action.id, ActionStatus.SENT, tx_hash=resent)
        await ctx.wait(
            t,
            f"delivery 0x{(tx_hash or b'').hex()} did not execute ({reason}); "
            f"resent as 0x{resent.hex()}",
            ctx.backoff(t),
        )
        return None

    async def _acknowledge(
        self,
        route: RouteRecord,
        t: TransferRecord,
        packet: Packet,
        tx_hash: bytes,
        height: int,
        event: ChainEvent | None = None,
    ) -> str:
        """Record the destination's receive event as the transfer's acknowledgement.

        The ``ack`` action row (already ``succeeded``: nothing is sent) holds the
        event's height, transaction, position, the destination's delivery digest
        of the packet and, where the event carries one (EVM ``packetHash``), the
        packet hash. ``ReorgDetected`` (retried) when a successful delivery's
        block shows no receive event of the packet. Returns the history reason.
        See "Acknowledgements" in ``docs/relayer.md``.
        """
        ctx = self.ctx
        bridge = ctx.bridge(route.destination)
        if event is None:
            event = next(
                (
                    e
                    for e in await self._receive_events(route, height)
                    if e.tx_hash == tx_hash and bridge.is_delivered_event(e, packet)
                ),
                None,
            )
            if event is None:
                raise ReorgDetected(
                    f"block {height} of {route.destination} holds no receive event of "
                    f"{packet_id(packet)} from 0x{tx_hash.hex()}"
                )
        payload: dict[str, object] = {
            "height": int(event.height),
            "tx_hash": "0x" + event.tx_hash.hex(),
            "position": list(event.position),
            "packet_digest": "0x" + bridge.delivery_digest(packet).hex(),
        }
        packet_hash = event.attributes.get("packetHash")
        if isinstance(packet_hash, bytes):
            payload["packet_hash"] = "0x" + packet_hash.hex()
        pid = packet_id(packet)
        key = f"{ACK}:{pid.source}/{pid.destination}/{pid.sequence}"
        recorded = await ctx.store.record_action(
            t.id, ACK, route.destination, ChainAction(RECEIVE_EVENT, payload, key), ctx.now()
        )
        await ctx.store.mark_action(
            recorded.id, ActionStatus.SUCCEEDED, tx_hash=event.tx_hash, height=event.height
        )
        where = ",".join(str(p) for p in event.position)
        return f"acknowledged by its receive event in 0x{event.tx_hash.hex()} (position {where})"

    async def _receive_events(self, route: RouteRecord, height: int) -> list[ChainEvent]:
        """The destination's receive events at ``height``, read once for every transfer
        delivered in that block (a batch lands many in one block)."""
        events = await self._listings.events(self.ctx.adapter(route.destination), height)
        return [e for e in events if e.kind is EventKind.RECEIVE_PACKET]

    # --- timed_out -> refunded ------------------------------------------------------------

    async def _timed_out_step(self, route: RouteRecord, t: TransferRecord) -> TransferRecord | None:
        """Non-delivery quorum on the SOURCE's digest, journal ``refund``, THEN send.

        Crash-safe like delivery: the source height is noted before journaling;
        a ``recorded`` or failed refund is first looked for on the source (a
        mined receipt, or the bridge's ``timeout_packet`` event since that
        height) and only then sent again; the source refuses a second refund.
        """
        ctx = self.ctx
        source = ctx.adapter(route.source)
        action = await ctx.store.action(t.id, REFUND)
        _event, packet = await self._event_and_packet(route, t)
        if action is None:
            quorum = await self._quorum(t, route, packet, delivery=False)
            if not quorum.reached:
                await ctx.wait(
                    t,
                    "waiting for non-delivery attestations: "
                    f"{len(quorum.signers)} of {quorum.threshold}",
                )
                return None
            chain_action = ctx.bridge(route.source).refund_action(packet, quorum.certificate())
            floor = await source.latest_height()
            action = await ctx.store.record_action(
                t.id, REFUND, route.source, chain_action, ctx.now(), search_floor=floor
            )
        if action.status is not ActionStatus.SENT or action.tx_hash is None:
            landed = await _receipt(source, action.tx_hash) if action.tx_hash else None
            if landed is None or landed.height is None or not landed.success:
                found = await self._find_refund(route, t, packet)
                if found is not None:
                    return await self._refunded(t, action, found.tx_hash, found.height)
                try:
                    tx_hash = await source.submit(replay_action(action))
                except ChainRejected as err:
                    found = await self._find_refund(route, t, packet)
                    if found is not None:
                        return await self._refunded(t, action, found.tx_hash, found.height)
                    raise err
                await ctx.store.mark_action(action.id, ActionStatus.SENT, tx_hash=tx_hash)
                await ctx.wait(t, f"refund 0x{tx_hash.hex()} sent")
                return None
            await ctx.store.mark_action(action.id, ActionStatus.SENT, tx_hash=action.tx_hash)
        tx_hash = action.tx_hash
        receipt = await _receipt(source, tx_hash)
        if receipt is None or receipt.height is None:
            await ctx.wait(t, "waiting for the refund receipt")
            return None
        if receipt.success:
            return await self._refunded(t, action, tx_hash, receipt.height)
        found = await self._find_refund(route, t, packet)
        if found is not None:
            return await self._refunded(t, action, found.tx_hash, found.height)
        await ctx.store.mark_action(
            action.id, ActionStatus.FAILED, tx_hash=tx_hash, reason=receipt.reason
        )
        raise ChainRejected(f"refund 0x{tx_hash.hex()} failed: {receipt.reason}")

    async def _refunded(
        self, t: TransferRecord, action: ActionRecord, tx_hash: bytes, height: int
    ) -> TransferRecord:
        await self.ctx.store.mark_action(
            action.id, ActionStatus.SUCCEEDED, tx_hash=tx_hash, height=Height(height)
        )
        return await self.ctx.move(
            t, S.REFUNDED, f"refunded by 0x{tx_hash.hex()} in block {height}"
        )

    async def _find_refund(
        self, route: RouteRecord, t: TransferRecord, packet: Packet
    ) -> ChainEvent | None:
        """The source's ``timeout_packet`` event of ``packet``, searched from the floor noted on
        the ``refund`` journal row."""
        action = await self.ctx.store.action(t.id, REFUND)
        floor = None if action is None else action.search_floor
        if floor is None:
            return None
        source = self.ctx.adapter(route.source)
        latest = int(await source.latest_height())
        start = max(int(floor), 1)
        size = self.ctx.settings.chunk_size
        while start <= latest:
            end = min(latest, start + size - 1)
            for event in await source.events(Height(start), Height(end)):
                if is_refund_event(event, packet):
                    return event
            start = end + 1
        return None

    # --- helpers --------------------------------------------------------------------------

    async def _event_and_packet(
        self, route: RouteRecord, t: TransferRecord
    ) -> tuple[ChainEvent, Packet]:
        """The transfer's ``send_packet`` event, re-read from the source, and its packet.

        The store keeps the event's height, position and raw bytes; the event
        is read again (and cached) rather than decoded here, because only the
        family's adapter knows how to decode it.
        """
        event = self._events.get(t.id)
        if event is None and t.packet_data is not None and t.source_attributes is not None:
            if t.source_height is None or t.source_position is None or t.source_tx is None:
                raise InvalidInput(f"transfer {t.id} has no recorded packet event yet")
            # Stored when the watcher first saw it: no listing of the block again.
            event = ChainEvent(
                chain_id=route.source,
                height=Height(t.source_height),
                kind=EventKind.SEND_PACKET,
                tx_hash=t.source_tx,
                position=tuple(t.source_position),
                attributes=dict(t.source_attributes),
                raw=t.source_event,
            )
            packet = packet_from_data(t.packet_data)
            if t.packet is not None and packet_id(packet) != t.packet:
                raise BadProof(
                    f"the stored packet is {packet_id(packet)}, not {t.packet}", check="packet-id"
                )
            self._events[t.id] = event
            self._packets[t.id] = packet
            return event, packet
        if event is None:
            # A transfer recorded before the packet was stored with it (migration 0007):
            # its event is read again from its block, once.
            if t.source_height is None or t.source_position is None:
                raise InvalidInput(f"transfer {t.id} has no recorded packet event yet")
            height = Height(t.source_height)
            events = await self._listings.events(self.ctx.adapter(route.source), height)
            position = tuple(t.source_position)
            for candidate in events:
                if (
                    candidate.kind is EventKind.SEND_PACKET
                    and tuple(candidate.position) == position
                    and (not t.source_event or candidate.raw == t.source_event)
                ):
                    event = candidate
                    break
            if event is None:
                self._listings.forget(route.source, height)  # read afresh
                raise ReorgDetected(
                    f"the packet event of {t.id} is no longer at {route.source} height {height}"
                )
            self._events[t.id] = event
        cached = self._packets.get(t.id)
        if cached is not None:
            return event, cached
        packet = self.ctx.bridge(route.source).packet_of(event)
        if t.packet is not None and packet_id(packet) != t.packet:
            raise BadProof(
                f"the event at {event.height} carries packet {packet_id(packet)}, not {t.packet}",
                check="packet-id",
            )
        return event, packet

    async def _is_timed_out(self, route: RouteRecord, packet: Packet) -> bool:
        """Whether the destination's finalized block passed the packet's timeout."""
        if not packet.timeout_height and not packet.timeout_time_ms:
            return False
        dest = self.ctx.adapter(route.destination)
        final = await dest.finalized_height()
        if packet.timeout_height and final >= packet.timeout_height:
            return True
        if packet.timeout_time_ms:
            header = await dest.header(final)
            return header.time * 1000 >= packet.timeout_time_ms
        return False

    async def _find_delivery(
        self, route: RouteRecord, t: TransferRecord, packet: Packet
    ) -> ChainEvent | None:
        """The destination's event that delivered ``packet``, searched from the floor noted on
        the ``deliver`` journal row."""
        action = await self.ctx.store.action(t.id, DELIVER)
        floor = None if action is None else action.search_floor
        if floor is None:
            return None
        dest = self.ctx.adapter(route.destination)
        bridge = self.ctx.bridge(route.destination)
        latest = int(await dest.latest_height())
        start = max(int(floor), 1)
        size = self.ctx.settings.chunk_size
        while start <= latest:
            end = min(latest, start + size - 1)
            for event in await dest.events(Height(start), Height(end)):
                if event.kind is EventKind.RECEIVE_PACKET and bridge.is_delivered_event(
                    event, packet
                ):
                    return event
            start = end + 1
        return None


async def _receipt(adapter: ChainAdapter, tx_hash: bytes | None) -> TxReceipt | None:
    """The receipt, or ``None`` when the node does not know the transaction."""
    if not tx_hash:
        return None
    try:
        return await adapter.receipt(tx_hash)
    except NotFound:
        return None


__all__ = [
    "ACK",
    "DELIVER",
    "REFUND",
    "SOURCE_SUBMIT",
    "NotaryProtocol",
    "is_refund_event",
]
