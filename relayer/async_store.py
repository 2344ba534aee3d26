"""The relayer's store: every call crosses one executor boundary, so none blocks the event loop.

The ``Store`` seam is synchronous (SQLAlchemy sessions, one database
transaction per call); the relayer runs its watchers and route workers on the
event loop it may share with the API (``pjgw serve``). A SQLite fsync or a
PostgreSQL round trip made on that loop stalls every route and every request
for its duration. ``AsyncStore`` runs each call in a small dedicated thread
pool instead and is what the relayer's code awaits; the pool is bounded
(writes serialise in the database anyway) and its threads are named so a
stack dump says whose they are.

Only what the relayer uses is here, each with the seam's signature.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from core.committee import RotationRecord, RotationState
from core.errors import ConfigError
from core.holds import Verdict
from core.ids import ChainId, Height, PacketId
from core.records import (
    ActionRecord,
    ActionStatus,
    BatchRecord,
    BatchState,
    ChainRecord,
    ClientRecord,
    NewTransfer,
    RiskView,
    RouteRecord,
    RouteStatusRecord,
    SeenPacket,
    SignatureRecord,
    TransferEventRecord,
    TransferRecord,
    WatchLease,
)
from core.seams import BatchStore, BreakerStore, RiskStore, RotationStore, Store
from core.states import TransferState
from core.types import ChainAction

P = ParamSpec("P")
T = TypeVar("T")

STORE_THREADS = 4


class AsyncStore:
    """``Store`` calls as coroutines, each run in the store's own thread pool."""

    def __init__(self, store: Store, *, threads: int = STORE_THREADS) -> None:
        self.sync = store
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pjgw-store")

    async def _call(self, method: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(method, *args, **kwargs))

    def close(self) -> None:
        """Stop the pool once the calls under way are done (the store is the caller's)."""
        self._pool.shutdown(wait=True)

    # chains and routes
    async def chains(self) -> list[ChainRecord]:
        return await self._call(self.sync.chains)

    async def routes(self) -> list[RouteRecord]:
        return await self._call(self.sync.routes)

    async def route(self, route_id: str) -> RouteRecord:
        return await self._call(self.sync.route, route_id)

    # risk controls (core.seams.RiskStore)
    def _risk(self) -> RiskStore:
        if not isinstance(self.sync, RiskStore):
            raise ConfigError("this store keeps no risk limits")
        return self.sync

    async def screen(
        self,
        transfer_ids: Sequence[str],
        expected: TransferState,
        origin: str,
        decide: Callable[[TransferRecord, RiskView], Verdict],
        now: float,
        *,
        recheck_at: float,
        worker: str | None = None,
    ) -> list[TransferRecord]:
        return await self._call(
            self._risk().screen,
            transfer_ids,
            expected,
            origin,
            decide,
            now,
            recheck_at=recheck_at,
            worker=worker,
        )

    # transfers
    async def create_transfer(self, new: NewTransfer, now: float) -> tuple[TransferRecord, bool]:
        return await self._call(self.sync.create_transfer, new, now)

    async def transfer_by_packet(self, packet: PacketId) -> TransferRecord | None:
        return await self._call(self.sync.transfer_by_packet, packet)

    async def transfer_by_source_tx(
        self, chain_id: ChainId, tx_hash: bytes
    ) -> TransferRecord | None:
        return await self._call(self.sync.transfer_by_source_tx, chain_id, tx_hash)

    async def transition(
        self,
        transfer_id: str,
        expected: TransferState,
        new: TransferState,
        reason: str,
        now: float,
        *,
        worker: str | None = None,
        **fields: object,
    ) -> TransferRecord:
        return await self._call(
            self.sync.transition, transfer_id, expected, new, reason, now, worker=worker, **fields
        )

    async def attach_source_event(
        self, transfer_id: str, reason: str, now: float, **fields: object
    ) -> TransferRecord:
        return await self._call(self.sync.attach_source_event, transfer_id, reason, now, **fields)

    async def record_packets(
        self, packets: Sequence[SeenPacket], now: float, *, final: bool = False
    ) -> int:
        return await self._call(self.sync.record_packets, packets, now, final=final)

    async def history(self, transfer_id: str) -> list[TransferEventRecord]:
        return await self._call(self.sync.history, transfer_id)

    async def note(self, transfer_id: str, reason: str, now: float, *, retry_at: float) -> None:
        await self._call(self.sync.note, transfer_id, reason, now, retry_at=retry_at)

    async def set_source_tx(self, transfer_id: str, tx_hash: bytes) -> None:
        await self._call(self.sync.set_source_tx, transfer_id, tx_hash)

    # work distribution
    async def claim_due(
        self,
        worker: str,
        now: float,
        lease_seconds: float,
        limit: int,
        *,
        route_id: str | None = None,
    ) -> list[TransferRecord]:
        return await self._call(
            self.sync.claim_due, worker, now, lease_seconds, limit, route_id=route_id
        )

    async def release(self, transfer_id: str, worker: str) -> None:
        await self._call(self.sync.release, transfer_id, worker)

    # the journal
    async def record_action(
        self,
        transfer_id: str,
        step: str,
        chain_id: ChainId,
        action: ChainAction,
        now: float,
        *,
        search_floor: Height | None = None,
    ) -> ActionRecord:
        return await self._call(
            self.sync.record_action,
            transfer_id,
            step,
            chain_id,
            action,
            now,
            search_floor=search_floor,
        )

    async def action(self, transfer_id: str, step: str) -> ActionRecord | None:
        return await self._call(self.sync.action, transfer_id, step)

    async def mark_action(
        self,
        action_id: int,
        status: ActionStatus,
        *,
        tx_hash: bytes | None = None,
        height: Height | None = None,
        reason: str = "",
    ) -> None:
        await self._call(
            self.sync.mark_action, action_id, status, tx_hash=tx_hash, height=height, reason=reason
        )

    async def report_route_status(self, status: RouteStatusRecord) -> None:
        await self._call(self.sync.report_route_status, status)

    # source scanning
    async def cursor(self, key: str) -> Height | None:
        return await self._call(self.sync.cursor, key)

    async def advance_cursor(self, key: str, height: Height) -> None:
        await self._call(self.sync.advance_cursor, key, height)

    async def take_watch_lease(
        self, key: str, worker: str, now: float, lease_seconds: float
    ) -> WatchLease:
        return await self._call(self.sync.take_watch_lease, key, worker, now, lease_seconds)

    async def release_watch_lease(self, key: str, worker: str) -> None:
        await self._call(self.sync.release_watch_lease, key, worker)

    # light clients
    async def client(self, chain_id: ChainId) -> ClientRecord | None:
        return await self._call(self.sync.client, chain_id)

    async def save_client(self, record: ClientRecord) -> None:
        await self._call(self.sync.save_client, record)

    # notaries
    async def signatures(self, transfer_id: str) -> list[SignatureRecord]:
        return await self._call(self.sync.signatures, transfer_id)

    async def signatures_of(self, transfer_ids: Sequence[str]) -> dict[str, list[SignatureRecord]]:
        return await self._call(self.sync.signatures_of, transfer_ids)

    # circuit breakers (relayer/breakers.py)
    @property
    def breakers(self) -> BreakerStore:
        """The store's breaker half (``core.seams.BreakerStore``); ``ConfigError`` when absent."""
        if not isinstance(self.sync, BreakerStore):
            raise ConfigError("the store has no circuit breakers (core.seams.BreakerStore)")
        return self.sync

    async def trip_breakers(
        self, breaker: str, reasons: Sequence[tuple[str, str]], now: float
    ) -> list[RouteRecord | None]:
        return await self._call(self.breakers.trip_breakers, breaker, reasons, now)

    async def value_in_flight(self, route_id: str, up_to: Height) -> dict[str, int]:
        return await self._call(self.breakers.value_in_flight, route_id, up_to)

    # batches (issue #15): each one crossing, whatever the batch's size
    @property
    def batches(self) -> BatchStore:
        """The store's batch half (``core.seams.BatchStore``); ``ConfigError`` when absent."""
        if not isinstance(self.sync, BatchStore):
            raise ConfigError("the store keeps no batches (core.seams.BatchStore)")
        return self.sync

    async def create_batch(
        self,
        route_id: str,
        kind: int,
        epoch: int,
        root: bytes,
        digest: bytes,
        transfer_ids: Sequence[str],
        now: float,
        *,
        hold_until: float,
    ) -> BatchRecord:
        return await self._call(
            self.batches.create_batch,
            route_id,
            kind,
            epoch,
            root,
            digest,
            transfer_ids,
            now,
            hold_until=hold_until,
        )

    async def batch_members(self, batch_id: str) -> list[TransferRecord]:
        return await self._call(self.batches.batch_members, batch_id)

    async def batched(self, transfer_ids: Sequence[str], kind: int) -> dict[str, str]:
        return await self._call(self.batches.batched, transfer_ids, kind)

    async def claim_batches(
        self, worker: str, now: float, lease_seconds: float, limit: int, *, route_id: str
    ) -> list[BatchRecord]:
        return await self._call(
            self.batches.claim_batches, worker, now, lease_seconds, limit, route_id=route_id
        )

    async def set_batch_state(
        self,
        batch_id: str,
        expected: BatchState,
        new: BatchState,
        now: float,
        *,
        worker: str | None = None,
        retry_at: float | None = None,
    ) -> None:
        await self._call(
            self.batches.set_batch_state,
            batch_id,
            expected,
            new,
            now,
            worker=worker,
            retry_at=retry_at,
        )

    async def release_batch(self, batch_id: str, worker: str, *, retry_at: float) -> None:
        await self._call(self.batches.release_batch, batch_id, worker, retry_at=retry_at)

    async def move_many(
        self,
        transfer_ids: Sequence[str],
        expected: TransferState,
        new: TransferState,
        reason: str,
        now: float,
        *,
        hold_until: float | None = None,
        keep_lease: str | None = None,
        **fields: object,
    ) -> int:
        return await self._call(
            self.batches.move_many,
            transfer_ids,
            expected,
            new,
            reason,
            now,
            hold_until=hold_until,
            keep_lease=keep_lease,
            **fields,
        )

    async def note_many(
        self,
        transfer_ids: Sequence[str],
        state: TransferState,
        reason: str,
        now: float,
        *,
        hold_until: float,
    ) -> int:
        return await self._call(
            self.batches.note_many, transfer_ids, state, reason, now, hold_until=hold_until
        )

    async def record_batch_action(
        self,
        batch_id: str,
        step: str,
        chain_id: ChainId,
        action: ChainAction,
        now: float,
        *,
        search_floor: Height | None = None,
    ) -> ActionRecord:
        return await self._call(
            self.batches.record_batch_action,
            batch_id,
            step,
            chain_id,
            action,
            now,
            search_floor=search_floor,
        )

    async def record_done_actions(
        self,
        entries: Sequence[tuple[str, str, ChainId, ChainAction, bytes, Height]],
        now: float,
    ) -> int:
        return await self._call(self.batches.record_done_actions, entries, now)

    async def batch_actions(self, batch_id: str) -> dict[str, ActionRecord]:
        return await self._call(self.batches.batch_actions, batch_id)

    async def mark_batch_action(
        self,
        action_id: int,
        status: ActionStatus,
        *,
        tx_hash: bytes | None = None,
        height: Height | None = None,
        reason: str = "",
    ) -> None:
        await self._call(
            self.batches.mark_batch_action,
            action_id,
            status,
            tx_hash=tx_hash,
            height=height,
            reason=reason,
        )

    async def batch_signatures(self, batch_id: str) -> list[SignatureRecord]:
        return await self._call(self.batches.batch_signatures, batch_id)

    # --- committee rotations (core.seams.RotationStore; relayer/rotation.py) ---------------

    async def rotations(self, *, open_only: bool = False) -> list[RotationRecord]:
        return await self._call(self._rotations().rotations, open_only=open_only)

    async def set_rotation_state(
        self,
        rotation_id: str,
        expected: RotationState,
        new: RotationState,
        now: float,
        *,
        tx_hash: bytes | None = None,
        note: str = "",
    ) -> RotationRecord:
        return await self._call(
            self._rotations().set_rotation_state,
            rotation_id,
            expected,
            new,
            now,
            tx_hash=tx_hash,
            note=note,
        )

    async def rotation_signatures(self, rotation_id: str) -> list[SignatureRecord]:
        return await self._call(self._rotations().rotation_signatures, rotation_id)

    async def rotation_in_flight(self, chain_id: ChainId) -> tuple[int, int]:
        return await self._call(self._rotations().rotation_in_flight, chain_id)

    def _rotations(self) -> RotationStore:
        if not isinstance(self.sync, RotationStore):
            raise ConfigError("this store keeps no committee rotations")
        return self.sync


__all__ = ["STORE_THREADS", "AsyncStore"]
