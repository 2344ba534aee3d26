"""The ``notary`` protocol in batch mode: one notary statement per batch of packets (issue #15).

Up to ``proven`` a transfer steps as in ``relayer.protocols.notary`` (one
packet at a time: watched, final, proven by the light client). From there the
route's worker moves them in BATCHES (``PJGW_RELAYER_ATTESTATION=batch``, the
default; ``packet`` keeps the per-packet certificates):

``assemble``  proven transfers of the route, in no batch yet, are grouped
              (``relayer.batching.plan_batches``: at most ``batch_max``, or what
              arrived within ``batch_linger``); root and digest are computed with
              the destination bridge's ``batch_leaf``/``batch_hash_name``/
              ``batch_digest`` and the batch is recorded with its members in ONE
              store transaction (``BatchStore.create_batch``), members held.
``assembled`` -> ``attested`` once a quorum of the destination's committee signed
              the batch digest (``relayer.quorum.collect_quorum``, the same rule as
              per packet); every member ``proven -> attested`` in one transaction.
``attested``  -> ``submitted``: journal ``store_root`` THEN send it; then each
              chunk of ``batch_capacity()`` members: journal ``deliver:<i>`` THEN
              send it; the chunk's members ``attested -> dest_submitted`` in one
              transaction with the chunk's transaction hash.
``submitted`` -> ``done``: each chunk's receipt; the destination's receive events
              in its block say which members were delivered
              (``is_delivered_event``): those ``dest_submitted -> completed`` in
              one transaction.

Crash safety is the journal's, per batch (subject ``batch`` in the one
``actions`` table): an action ``recorded`` but not marked sent may have been
sent. For a delivery chunk the destination is searched first (its receive
events of the chunk's packets since the height noted before journaling), and
only a chunk not found delivered is sent again; the destination refuses a
replayed packet, so a lost race still delivers once. A ``store_root`` sent
twice stores the same root (the bridge keeps it once).

Members the destination recorded failed (``packet_failed``) and transfers that
timed out are refunded on their source in ``ERROR_ACK`` / ``NONDELIVERY`` batches
(``relayer.protocols.refund_batches``, a mixin of this class).

Family-neutral: the acting chain's bridge (``core.seams.BridgeEndpoint``) does
every chain-specific thing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence

from adapters.proving import prove_events
from core.batches import BatchKind
from core.errors import (
    BadProof,
    ChainRejected,
    ConfigError,
    InvalidInput,
    InvalidTransition,
    LeaseLost,
    PjgwError,
)
from core.ids import ChainId, Height
from core.records import ActionRecord, ActionStatus, BatchRecord, BatchState, RouteRecord
from core.records import TransferRecord as Transfer
from core.seams import BridgeEndpoint
from core.states import TransferState
from core.types import ChainAction, ChainEvent, EventKind, Packet, TxReceipt, packet_from_data
from relayer.batching import (
    LeafCache,
    batch_root,
    chunks_of,
    members_of,
    plan_batches,
    statement_of,
)
from relayer.protocols.base import Context, found_all_since, log
from relayer.protocols.notary import (
    ACK,
    RECEIVE_EVENT,
    NotaryProtocol,
    _receipt,
    replay_action,
    resend_failed,
)
from relayer.protocols.refund_batches import RefundBatches
from relayer.quorum import collect_quorum
from relayer.retry import describe

S = TransferState
STORE_ROOT = "store_root"
DELIVER_CHUNK = "deliver:"
"""Journal steps of a batch: ``store_root``, then ``deliver:0``, ``deliver:1``, ..."""
_BATCHED_STATES = frozenset({S.PROVEN, S.ATTESTED, S.DEST_SUBMITTED})
_TIMED_OUT_OR_OVER = frozenset({S.TIMED_OUT, S.REFUNDED, S.REJECTED})
"""A member of an unattested delivery batch in one of these has nothing left to deliver."""


QUORUM_POLLS_KEPT = 4096
"""Batches whose last look short of a quorum is remembered (``_waiting_changed``)."""


class BatchedNotaryProtocol(RefundBatches, NotaryProtocol):
    """``NotaryProtocol`` whose proven packets travel in batches (``attestation=batch``)."""

    name = "notary"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._quorum_polls: OrderedDict[str, tuple[int, float]] = OrderedDict()
        """Batch id -> (signers seen, when) at its last full look short of a quorum."""
        self._leaves = LeafCache()
        """Each delivery member's leaf on its destination, computed once."""

    @property
    def batching(self) -> bool:
        return self.ctx.settings.attestation == "batch"

    # --- the engine's entry points --------------------------------------------------------

    async def process(self, route: RouteRecord, transfers: Sequence[Transfer]) -> None:
        """Up to ``proven`` in bulk (one store transaction per step for all the claimed
        transfers, ``_advance``), then proven ones are assembled into batches; whatever
        does not fit the bulk path (waiting sends, timeouts, refunds) steps per packet."""
        if not self.batching:
            await super().process(route, transfers)
            return
        ids = [t.id for t in transfers if t.state in _BATCHED_STATES]
        batched = await self.ctx.store.batched(ids, int(BatchKind.DELIVERY)) if ids else {}
        held = [t for t in transfers if t.id in batched]
        free = [t for t in transfers if t.id not in batched]
        advanced, rest = await self._advance(route, free)
        # Packets sent on the source without the API are checked here, all in one store
        # transaction; a held one leaves the batch path and the rest go on without it.
        advanced = await self.ctx.screen(
            [t for t in advanced if t.state is S.PROVEN], S.PROVEN, "source", leased=False
        )
        stopped = [t for t in advanced if t.state is not S.PROVEN]  # held or rejected now
        fresh = [t for t in advanced if t.state is S.PROVEN]
        if fresh:
            # A packet the destination cannot take (its leaf refused) or whose timeout passed
            # goes the per-packet way: it waits for its timeout and is refunded.
            single = set(await self._unbatchable(route, fresh))
            rest += [t for t in fresh if t.id in single]
            fresh = [t for t in fresh if t.id not in single]
        assembled: set[str] = set()
        if fresh:
            assembled = await self._assemble(route, fresh)
        waiting = [t for t in fresh if t.id not in assembled]
        timed_out = [t for t in rest if t.state is S.TIMED_OUT]
        if timed_out:  # refunded in NONDELIVERY batches (relayer.protocols.refund_batches)
            rest = [t for t in rest if t.state is not S.TIMED_OUT]
            per_packet, refunding = await self._refund_in_batches(route, timed_out)
            rest += per_packet
            held += refunding
        await super().process(route, rest)
        for t in [*waiting, *held, *stopped]:  # the batch drives its members; the rest return
            await self._release(t)

    async def _advance(
        self, route: RouteRecord, transfers: Sequence[Transfer]
    ) -> tuple[list[Transfer], list[Transfer]]:
        """``requested`` (packet recorded) -> ``source_committed`` -> ``source_final`` (its
        block final) -> ``proven`` (light client + inclusion proof, per packet, concurrently)
        with ONE ``move_many`` per step; the transfers moved or already ``proven``, and the
        others (for the per-packet steps). Members that wait for finality are noted at once
        (``note_many``) and come back after ``wait_interval``."""
        ctx = self.ctx
        now = ctx.now()

        def moved(t: Transfer, state: TransferState) -> Transfer:
            return dataclasses.replace(t, state=state, updated_at=now, lease_owner=None)

        ready = [t for t in transfers if t.state is S.PROVEN]
        rest = [
            t
            for t in transfers
            if t.state not in (S.PROVEN, S.REQUESTED, S.SOURCE_COMMITTED, S.SOURCE_FINAL)
        ]
        requested = [t for t in transfers if t.state is S.REQUESTED]
        recorded = [t for t in requested if t.packet is not None and t.source_height is not None]
        rest += [t for t in requested if t.packet is None or t.source_height is None]
        if recorded:
            await self._move_many(
                [t.id for t in recorded],
                S.REQUESTED,
                S.SOURCE_COMMITTED,
                f"send_packet recorded in its block of {route.source}",
                now,
                keep_lease=ctx.worker_id,
            )
        committed = [moved(t, S.SOURCE_COMMITTED) for t in recorded] + [
            t for t in transfers if t.state is S.SOURCE_COMMITTED
        ]
        final_ones: list[Transfer] = []
        if committed:
            final = int(await ctx.adapter(route.source).finalized_height())
            final_ones = [
                t for t in committed if t.source_height is not None and final >= t.source_height
            ]
            if final_ones:
                await self._move_many(
                    [t.id for t in final_ones],
                    S.SOURCE_COMMITTED,
                    S.SOURCE_FINAL,
                    f"block final (finalized {final})",
                    now,
                    keep_lease=ctx.worker_id,
                )
            early = [t.id for t in committed if t.source_height is None or final < t.source_height]
            if early:
                await ctx.store.note_many(
                    early,
                    S.SOURCE_COMMITTED,
                    f"waiting for its block to be final (finalized {final})",
                    now,
                    hold_until=now + ctx.settings.wait_interval,
                )
        to_prove = [moved(t, S.SOURCE_FINAL) for t in final_ones] + [
            t for t in transfers if t.state is S.SOURCE_FINAL
        ]
        if to_prove:
            by_height: dict[int | None, list[Transfer]] = {}
            for t in to_prove:
                by_height.setdefault(t.source_height, []).append(t)
            limit = asyncio.Semaphore(ctx.settings.concurrency)

            async def prove(group: list[Transfer]) -> list[Transfer]:
                async with limit:
                    outcomes = await self._prove_block(route, group)
                done = []
                for t, err in zip(group, outcomes, strict=True):
                    if err is None:
                        done.append(t)
                    else:  # the one error policy, per packet
                        await ctx.handle_error(route, t, err)
                        await self._release(t)
                return done

            groups = await asyncio.gather(*(prove(g) for g in by_height.values()))
            proven = [t for group in groups for t in group]
            if proven:
                await self._move_many(
                    [t.id for t in proven],
                    S.SOURCE_FINAL,
                    S.PROVEN,
                    "header verified by the light client; packet inclusion proven",
                    ctx.now(),
                    keep_lease=ctx.worker_id,
                )
                ready += [moved(t, S.PROVEN) for t in proven]
        return ready, rest

    async def _prove_block(
        self, route: RouteRecord, group: Sequence[Transfer]
    ) -> list[Exception | None]:
        """The per-packet check of ``source_final -> proven`` without the move, for the
        transfers of ONE source block: the header verified once, the proofs fetched in one
        go (``adapters.proving.prove_events``), each proof verified on its own. Per
        transfer: ``None`` (proven) or what refused it (the whole group on a failed fetch)."""
        ctx = self.ctx
        outcomes: list[Exception | None] = [None] * len(group)
        events: list[tuple[int, ChainEvent]] = []
        for i, t in enumerate(group):
            try:
                events.append((i, (await self._event_and_packet(route, t))[0]))
            except Exception as err:
                outcomes[i] = err
        if not events:
            return outcomes
        try:
            height = int(events[0][1].height)
            verified = await ctx.keeper.verified_at(route.source, height, recheck=True)
            proofs = await prove_events(ctx.adapter(route.source), [e for _i, e in events])
        except Exception as err:
            for i, _event in events:
                outcomes[i] = err
            return outcomes

        def check() -> None:
            for (i, event), proof in zip(events, proofs, strict=True):
                t = group[i]
                try:
                    if int(event.height) != height:
                        raise BadProof("a block's group holds another height", check="height")
                    if proof.value != event.raw or (
                        t.source_event and proof.value != t.source_event
                    ):
                        raise BadProof(
                            "the proven value is not the packet event the relayer read",
                            check="value",
                        )
                    verified.light_client.verify_membership(verified.consensus_state, proof)
                except Exception as err:
                    outcomes[i] = err

        await asyncio.to_thread(check)  # one thread hop for the block, not one per packet
        return outcomes

    async def drive(self, route: RouteRecord) -> int:
        """Drive the route's unfinished batches one step each; the number worked."""
        if not self.batching:
            return 0
        ctx = self.ctx
        claimed = await ctx.store.claim_batches(
            ctx.worker_id,
            ctx.now(),
            ctx.settings.lease_seconds,
            ctx.settings.claim_limit,
            route_id=route.route_id,
        )
        limit = asyncio.Semaphore(ctx.settings.concurrency)

        async def step(batch: BatchRecord) -> None:
            # A waiting batch is one read (its signatures) or one receipt per chunk: looked
            # at every ``batch_poll`` seconds, not every ``wait_interval``.
            retry_at = ctx.now() + ctx.settings.batch_poll
            try:
                async with limit:
                    await self._step_batch(route, batch)
            except (LeaseLost, InvalidTransition) as lost:
                log.info("batch %s moved elsewhere: %s", batch.id, lost)
            except Exception as err:  # one batch's trouble must not stop the others
                log.warning("batch %s (%s): %s", batch.id, batch.state, describe(err))
                retry_at = ctx.now() + ctx.settings.backoff_base
            finally:
                try:
                    await ctx.store.release_batch(batch.id, ctx.worker_id, retry_at=retry_at)
                except PjgwError as err:  # the lease expires on its own
                    log.warning("batch %s: release failed: %s", batch.id, err)

        # The claimed batches step concurrently (each under its own lease): one after the
        # other, a burst's batches waited for each other's sends and receipts (issue #15).
        await asyncio.gather(*(step(b) for b in claimed))
        return len(claimed)

    # --- assembling -----------------------------------------------------------------------

    async def _assemble(self, route: RouteRecord, fresh: Sequence[Transfer]) -> set[str]:
        """Record the batches due now; the ids of the transfers put in one (none while the
        destination's committee rotates: ``relayer/rotation.py``)."""
        ctx = self.ctx
        if route.destination in ctx.held:
            return set()
        bridge = ctx.bridge(route.destination)
        done: set[str] = set()
        for group in plan_batches(
            fresh,
            route_id=route.route_id,
            max_size=ctx.settings.batch_max,
            linger=ctx.settings.batch_linger,
            now=ctx.now(),
        ):
            packets = [self._packet(t) for t in group]
            root = batch_root(bridge, packets, self._leaves.of(str(route.destination), bridge))
            statement = statement_of(
                str(route.source),
                str(route.destination),
                bridge.committee_epoch(),
                int(BatchKind.DELIVERY),
                len(group),
                root,
            )
            batch = await ctx.store.create_batch(
                route.route_id,
                int(BatchKind.DELIVERY),
                statement.epoch,
                root,
                bridge.batch_digest(statement),
                [t.id for t in group],
                ctx.now(),
                hold_until=ctx.now() + ctx.settings.lease_seconds,
            )
            log.info(
                "batch %s: %d packets of %s, root 0x%s",
                batch.id,
                batch.size,
                route.route_id,
                root.hex()[:16],
            )
            done.update(t.id for t in group)
        return done

    async def _unbatchable(self, route: RouteRecord, fresh: Sequence[Transfer]) -> list[str]:
        bridge = self.ctx.bridge(route.destination)
        leaf = self._leaves.of(str(route.destination), bridge)
        refused, pairs = [], []
        for t in fresh:
            try:
                packet = self._packet(t)
                leaf(packet)
            except (InvalidInput, ConfigError):
                refused.append(t.id)
                continue
            pairs.append((t, packet))
        return refused + await self._timed_out(route, pairs)

    async def _timed_out(
        self, route: RouteRecord, members: Sequence[tuple[Transfer, Packet]]
    ) -> list[str]:
        """The members still ``proven`` whose timeout the destination's finalized block
        passed (its height and header read once for the whole batch)."""
        waiting = [
            (t, p)
            for t, p in members
            if t.state is S.PROVEN and (p.timeout_height or p.timeout_time_ms)
        ]
        if not waiting:
            return []
        dest = self.ctx.adapter(route.destination)
        final = int(await dest.finalized_height())
        time_ms: int | None = None
        if any(p.timeout_time_ms for _t, p in waiting):
            time_ms = int((await dest.header(final)).time * 1000)
        return [
            t.id
            for t, p in waiting
            if (p.timeout_height and final >= p.timeout_height)
            or (p.timeout_time_ms and time_ms is not None and time_ms >= p.timeout_time_ms)
        ]

    async def _move_many(
        self,
        ids: Sequence[str],
        expected: TransferState,
        new: TransferState,
        reason: str,
        now: float,
        **fields: object,
    ) -> int:
        """``BatchStore.move_many`` (one transaction), logged per transfer as ``move`` is."""
        moved = await self.ctx.store.move_many(ids, expected, new, reason, now, **fields)  # type: ignore[arg-type]
        if moved:
            # One line per move at INFO (a line per member was thousands a second under
            # load); each member's line at DEBUG, and always in its history.
            log.info("%d transfer(s): %s -> %s (%s)", moved, expected, new, reason)
            if log.isEnabledFor(logging.DEBUG):
                for transfer_id in ids:  # (those moved before a crash too)
                    log.debug("transfer %s: %s -> %s (%s)", transfer_id, expected, new, reason)
        if moved:  # counted as single moves are (``pjgw_relayer_transitions_total``)
            self.ctx.metrics.transitions.labels(str(new)).inc(moved)
        return moved

    @staticmethod
    def _packet(t: Transfer) -> Packet:
        if t.packet_data is None:
            raise ConfigError(f"transfer {t.id} has no stored packet: it cannot be batched")
        return packet_from_data(t.packet_data)

    # --- driving one batch ----------------------------------------------------------------

    async def _step_batch(self, route: RouteRecord, batch: BatchRecord) -> None:
        if batch.kind != BatchKind.DELIVERY:  # refunds act on the source (refund_batches)
            await self._step_refund_batch(route, batch)
        elif batch.state is BatchState.ASSEMBLED:
            await self._attest(route, batch)
        elif batch.state is BatchState.ATTESTED:
            # A batch attested by an older relayer that crashed before moving its members
            # (it moved the batch first): move them now (no-op when they moved).
            await self._move_many(
                batch.transfer_ids,
                S.PROVEN,
                S.ATTESTED,
                f"batch {batch.id} was attested (members moved on resuming)",
                self.ctx.now(),
                hold_until=self._hold(),
            )
            await self._submit(route, batch)
        elif batch.state is BatchState.SUBMITTED:
            await self._complete(route, batch)

    def _hold(self) -> float:
        return self.ctx.now() + self.ctx.settings.lease_seconds

    async def _attest(self, route: RouteRecord, batch: BatchRecord) -> None:
        ctx = self.ctx
        bridge = ctx.bridge(route.destination)
        quorum = collect_quorum(
            await ctx.store.batch_signatures(batch.id), batch.digest, _committee(bridge, route)
        )
        if not quorum.reached:
            young = ctx.now() - batch.created_at < ctx.settings.wait_interval
            # A batch assembled less than wait_interval ago is not noted yet (its members'
            # timeouts were checked as it was assembled): in the usual case the notaries
            # sign within it, and a "waiting for notaries: k of m" note per signature
            # wrote a history line for every member.
            if young or not self._waiting_changed(batch.id, len(quorum.signers)):
                return
            members = await ctx.store.batch_members(batch.id)
            expired = await self._timed_out(route, [(t, self._packet(t)) for t in members])
            if expired:
                # Their timeout passed on the destination while the notaries were away: they
                # are refunded on the source by a NONDELIVERY batch (refund_batches; a later
                # root holding them cannot deliver them: the destination refuses a packet
                # past its timeout).
                await self._move_many(
                    expired,
                    S.PROVEN,
                    S.TIMED_OUT,
                    "the destination passed the packet's timeout (its batch had no quorum)",
                    ctx.now(),
                )
            await ctx.store.note_many(
                batch.transfer_ids,
                S.PROVEN,
                f"waiting for notaries: {len(quorum.signers)} of {quorum.threshold} "
                f"(batch {batch.id} of {batch.size})",
                ctx.now(),
                hold_until=self._hold(),
            )
            gone = set(expired)
            if all(t.id in gone or t.state in _TIMED_OUT_OR_OVER for t in members):
                # Every member timed out unattested: nothing left to deliver (they are
                # refunded in NONDELIVERY batches); the batch is closed, not signed.
                await ctx.store.set_batch_state(
                    batch.id, BatchState.ASSEMBLED, BatchState.DONE, ctx.now(), worker=ctx.worker_id
                )
            return
        self._quorum_polls.pop(batch.id, None)
        # Members first, then the batch: a crash between the two leaves the batch
        # ``assembled`` with its members ``attested``, and the next pass finds the quorum
        # again and only moves the batch (the other order stranded the members in
        # ``proven`` under a batch that went on without them: the SIGKILL fault test).
        attested = await self._move_many(
            batch.transfer_ids,
            S.PROVEN,
            S.ATTESTED,
            f"{quorum.describe()} attested batch {batch.id} (root 0x{batch.root.hex()[:16]})",
            ctx.now(),
            hold_until=self._hold(),
        )
        await ctx.store.set_batch_state(
            batch.id, BatchState.ASSEMBLED, BatchState.ATTESTED, ctx.now(), worker=ctx.worker_id
        )
        # The quorum wait of each member: from its batch's assembly (its members were proven
        # then) to the batch's quorum, one observation per member as in per-packet mode.
        wait = max(0.0, ctx.now() - batch.created_at)
        for _ in range(attested):
            ctx.metrics.quorum_wait.labels(route.route_id).observe(wait)
        await self._submit(route, batch)

    def _waiting_changed(self, batch_id: str, signers: int) -> bool:
        """Whether a batch still short of its quorum needs its members read, their timeouts
        checked and their note written now: when its signer count moved, and otherwise once
        every ``wait_interval``. The batch is looked at every ``batch_poll`` (0.25 s), and
        doing all of it on each look was a read of every member row, an RPC and a write of
        every member row four times a second per waiting batch (under a burst, a dozen
        batches waiting on the notaries held SQLite's write lock for most of it)."""
        now = self.ctx.now()
        last = self._quorum_polls.get(batch_id)
        if (
            last is not None
            and last[0] == signers
            and now - last[1] < self.ctx.settings.wait_interval
        ):
            return False
        self._quorum_polls[batch_id] = (signers, now)
        self._quorum_polls.move_to_end(batch_id)
        while len(self._quorum_polls) > QUORUM_POLLS_KEPT:
            self._quorum_polls.popitem(last=False)
        return True

    async def _submit(self, route: RouteRecord, batch: BatchRecord) -> None:
        """Journal, then send, the root and every chunk (a chunk found delivered is not)."""
        ctx = self.ctx
        bridge = ctx.bridge(route.destination)
        members = await ctx.store.batch_members(batch.id)
        packets = [self._packet(t) for t in members]
        leaf = self._leaves.of(str(route.destination), bridge)
        root, batch_members = members_of(bridge, packets, leaf)
        if root != batch.root:
            raise ConfigError(f"batch {batch.id}: its members no longer hash to its root")
        statement = statement_of(
            str(route.source), str(route.destination), batch.epoch, batch.kind, batch.size, root
        )
        journal = await ctx.store.batch_actions(batch.id)
        certificate = collect_quorum(
            await ctx.store.batch_signatures(batch.id), batch.digest, _committee(bridge, route)
        ).certificate()
        await self._send(
            batch, STORE_ROOT, route, journal, bridge.store_root_action(statement, certificate)
        )
        for number, chunk in enumerate(chunks_of(batch_members, bridge.batch_capacity())):
            step = f"{DELIVER_CHUNK}{number}"
            ids = [members[m.index].id for m in chunk]
            # A member that timed out before the quorum is refunded by a NONDELIVERY batch:
            # left out, or the destination would refuse the whole chunk for it.
            live = [m for m in chunk if members[m.index].state not in _TIMED_OUT_OR_OVER]
            if not live:
                continue
            action = journal.get(step)
            already = False
            if action is None or action.status is ActionStatus.RECORDED:
                found = await self._found_delivered(route, action, [m.packet for m in live])
                if found is not None and action is not None:
                    await ctx.store.mark_batch_action(
                        action.id,
                        ActionStatus.SUCCEEDED,
                        tx_hash=found.tx_hash,
                        height=found.height,
                    )
                    journal[step] = action
                    tx_hash = found.tx_hash
                    already = True
                else:
                    tx_hash = await self._send(
                        batch, step, route, journal, bridge.batch_action(statement, live)
                    )
            else:
                tx_hash = action.tx_hash or b""
            await self._move_many(
                ids,
                S.ATTESTED,
                S.DEST_SUBMITTED,
                f"batch {batch.id} chunk {number}: 0x{tx_hash.hex()} sent",
                ctx.now(),
                hold_until=self._hold(),
                dest_tx=tx_hash,
            )
            if already:
                await self._move_many(
                    ids,
                    S.DEST_SUBMITTED,
                    S.COMPLETED,
                    f"packet already delivered on {route.destination} by 0x{tx_hash.hex()} "
                    f"(batch {batch.id} chunk {number}, found after a restart)",
                    ctx.now(),
                )
        await ctx.store.set_batch_state(
            batch.id, BatchState.ATTESTED, BatchState.SUBMITTED, ctx.now(), worker=ctx.worker_id
        )

    async def _send(
        self,
        batch: BatchRecord,
        step: str,
        route: RouteRecord,
        journal: dict[str, ActionRecord],
        chain_action: ChainAction,
        *,
        on: ChainId | None = None,
    ) -> bytes:
        """Journal ``chain_action`` (unless it is), THEN send it on ``on`` (the route's
        destination unless told: refund batches act on its source); its transaction hash."""
        ctx = self.ctx
        chain = route.destination if on is None else on
        dest = ctx.adapter(chain)
        action = journal.get(step)
        if action is not None and action.status is not ActionStatus.RECORDED:
            return action.tx_hash or b""
        if action is None:
            floor = await dest.latest_height()
            action = await ctx.store.record_batch_action(
                batch.id, step, chain, chain_action, ctx.now(), search_floor=floor
            )
            journal[step] = action
        try:
            tx_hash = await dest.submit(replay_action(action))
        except ChainRejected as err:
            if step != STORE_ROOT or err.retryable:
                raise  # a refusal that passes by itself: the batch is looked at again
            # Most likely stored already (ours before a crash, or another relayer's): the
            # chunks decide; a chunk refused for want of the root is retried with the batch.
            await ctx.store.mark_batch_action(action.id, ActionStatus.FAILED, reason=err.message)
            log.info("batch %s: the root was refused (%s); sending the chunks", batch.id, err)
            return b""
        await ctx.store.mark_batch_action(action.id, ActionStatus.SENT, tx_hash=tx_hash)
        log.info("batch %s: %s sent as 0x%s", batch.id, step, tx_hash.hex())
        return tx_hash

    async def _found_delivered(
        self, route: RouteRecord, action: ActionRecord | None, packets: Sequence[Packet]
    ) -> ChainEvent | None:
        """After a crash between journal and send: the destination's receive event of the
        chunk's LAST packet when every packet of the chunk is found delivered since the
        height noted on the journal row (else ``None``: send the chunk)."""
        if action is None or action.search_floor is None:
            return None
        bridge = self.ctx.bridge(route.destination)

        def delivered(event: ChainEvent, packet: Packet) -> bool:
            return event.kind is EventKind.RECEIVE_PACKET and bridge.is_delivered_event(
                event, packet
            )

        return await found_all_since(
            self.ctx.adapter(route.destination),
            int(action.search_floor),
            packets,
            delivered,
            self.ctx.settings.chunk_size,
        )

    async def _complete(self, route: RouteRecord, batch: BatchRecord) -> None:
        """Each chunk's receipt; the members its block's receive events show delivered move
        to ``completed`` in one transaction; a failed chunk is looked for, then sent again."""
        ctx = self.ctx
        dest = ctx.adapter(route.destination)
        bridge = ctx.bridge(route.destination)
        journal = await ctx.store.batch_actions(batch.id)
        # The receipts first: while none of the unsettled chunks is mined (most looks: the
        # batch is looked at every batch_poll, the destination makes a block a second or
        # slower) the members are not read at all.
        receipts: dict[int, TxReceipt | None] = {}
        for step, action in journal.items():
            if step.startswith(DELIVER_CHUNK) and action.status is not ActionStatus.SUCCEEDED:
                receipts[action.id] = await _receipt(dest, action.tx_hash)
        if receipts and all(r is None or r.height is None for r in receipts.values()):
            return
        members = await ctx.store.batch_members(batch.id)
        by_packet = [(t, self._packet(t)) for t in members]
        pending = [t for t in members if t.state is S.DEST_SUBMITTED]
        if not pending:
            await ctx.store.set_batch_state(
                batch.id, BatchState.SUBMITTED, BatchState.DONE, ctx.now(), worker=ctx.worker_id
            )
            return
        root_action = journal.get(STORE_ROOT)
        if root_action is not None and root_action.status is ActionStatus.SENT:
            receipt = await _receipt(dest, root_action.tx_hash)
            if receipt is not None and receipt.height is not None:
                # A root stored by someone else first fails here and is no harm: the chunks
                # are checked against the root the destination holds.
                await ctx.store.mark_batch_action(
                    root_action.id,
                    ActionStatus.SUCCEEDED if receipt.success else ActionStatus.FAILED,
                    tx_hash=root_action.tx_hash,
                    height=receipt.height,
                    reason=receipt.reason,
                )
        capacity = bridge.batch_capacity()
        settled = 0
        chunks = (batch.size + capacity - 1) // capacity
        for number in range(chunks):
            step = f"{DELIVER_CHUNK}{number}"
            action = journal.get(step)
            chunk = by_packet[number * capacity : (number + 1) * capacity]
            if action is None:
                if all(t.state in _TIMED_OUT_OR_OVER for t, _p in chunk):
                    settled += 1  # every member timed out before the quorum: nothing sent
                continue
            if action.status is ActionStatus.SUCCEEDED:
                settled += 1
                if action.height is None or all(t.state is not S.DEST_SUBMITTED for t, _ in chunk):
                    continue
                # A crash between marking the chunk and moving its members: move them now.
                receipt = TxReceipt(route.destination, action.tx_hash or b"", action.height, True)
            else:
                receipt = receipts.get(action.id)
            if receipt is None or receipt.height is None:
                continue  # pending
            if receipt.success:
                events = await self._listings.events(dest, int(receipt.height))
                in_tx = [e for e in events if e.tx_hash == action.tx_hash]
                # Each event of the chunk's transaction decoded once (matching every member
                # against every event decoded 72 x 72 packets per chunk: a quarter of the
                # hub's CPU under load).
                delivered_by = _first_by_packet(in_tx, bridge.delivered_packet)
                acks = []
                for t, packet in chunk:
                    event = delivered_by.get(packet)
                    if event is not None and t.state is S.DEST_SUBMITTED:
                        acks.append(_ack_entry(route, bridge, t, packet, event))
                delivered = [entry[0] for entry in acks]
                # The acknowledgements (each member's receive event, "Acknowledgements" in
                # docs/relayer.md) in one transaction, before the members complete.
                await ctx.store.record_done_actions(acks, ctx.now())
                moved = await self._move_many(
                    delivered,
                    S.DEST_SUBMITTED,
                    S.COMPLETED,
                    f"delivered in block {receipt.height} of {route.destination} "
                    f"(batch {batch.id} chunk {number}); acknowledged by its receive event",
                    ctx.now(),
                )
                ctx.delivery_outcome(route.route_id, True, moved)
                failed = []
                failed_by = _first_by_packet(in_tx, bridge.failed_packet)
                for t, packet in chunk:
                    failure = failed_by.get(packet)
                    if failure is not None and t.state is S.DEST_SUBMITTED:
                        failed.append((t, packet, failure))
                if failed:
                    ctx.delivery_outcome(route.route_id, False, len(failed))
                    # Refused by its receiver or token: recorded received-and-failed on the
                    # destination, refunded on its source by an ERROR_ACK batch.
                    await self._error_ack(route, batch, failed, int(receipt.height))
                if action.status is not ActionStatus.SUCCEEDED:
                    await ctx.store.mark_batch_action(
                        action.id,
                        ActionStatus.SUCCEEDED,
                        tx_hash=action.tx_hash,
                        height=receipt.height,
                    )
                    settled += 1
                continue
            live = [p for t, p in chunk if t.state not in _TIMED_OUT_OR_OVER]
            found = await self._found_delivered(route, action, live)
            if found is not None:
                await self._move_many(
                    [t.id for t, _p in chunk],
                    S.DEST_SUBMITTED,
                    S.COMPLETED,
                    f"delivered by 0x{found.tx_hash.hex()} (batch {batch.id} chunk {number})",
                    ctx.now(),
                )
                await ctx.store.mark_batch_action(
                    action.id, ActionStatus.SUCCEEDED, tx_hash=found.tx_hash, height=found.height
                )
                settled += 1
                continue
            what = f"batch {batch.id} chunk {number}"
            refusal = await resend_failed(ctx.store, dest, action, receipt.reason, what)
            if refusal is not None and not refusal.retryable:
                # A refusal that passes by itself (a nonce ahead of the account's, another
                # relayer's send) is no delivery failure: the failure-rate breaker counts
                # the destination refusing the packets.
                ctx.delivery_outcome(route.route_id, False, len(chunk))
        if settled == chunks:
            # Every chunk landed: the members not delivered were refused by the destination
            # (its failed-packet events) and stay ``dest_submitted`` for their error ack.
            await ctx.store.set_batch_state(
                batch.id, BatchState.SUBMITTED, BatchState.DONE, ctx.now(), worker=ctx.worker_id
            )


def _ack_entry(
    route: RouteRecord, bridge: BridgeEndpoint, t: Transfer, packet: Packet, event: ChainEvent
) -> tuple[str, str, ChainId, ChainAction, bytes, Height]:
    """The ``ack`` journal row of a batch member: its receive event, as per packet."""
    payload: dict[str, object] = {
        "height": int(event.height),
        "tx_hash": "0x" + event.tx_hash.hex(),
        "position": list(event.position),
        "packet_digest": "0x" + bridge.delivery_digest(packet).hex(),
    }
    packet_hash = event.attributes.get("packetHash")
    if isinstance(packet_hash, bytes):
        payload["packet_hash"] = "0x" + packet_hash.hex()
    key = f"{ACK}:{packet.source_chain}/{packet.dest_chain}/{packet.sequence}"
    action = ChainAction(RECEIVE_EVENT, payload, key)
    return (t.id, ACK, route.destination, action, event.tx_hash, Height(int(event.height)))


def _first_by_packet(
    events: Sequence[ChainEvent], decode: Callable[[ChainEvent], Packet | None]
) -> dict[Packet, ChainEvent]:
    """``packet -> the first of events reporting it`` (``decode`` names the packet an event
    reports, or ``None``)."""
    found: dict[Packet, ChainEvent] = {}
    for event in events:
        packet = decode(event)
        if packet is not None:
            found.setdefault(packet, event)
    return found


def _committee(bridge: BridgeEndpoint, route: RouteRecord) -> tuple[int, Sequence[str]]:
    committee = bridge.committee()
    if committee[0] < 1 or not committee[1]:
        raise ConfigError(f"the bridge of {route.destination} has no notary committee configured")
    return committee


__all__ = ["DELIVER_CHUNK", "STORE_ROOT", "BatchedNotaryProtocol"]
