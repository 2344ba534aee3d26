"""The batch half of the ``Store`` seam on SQLAlchemy: a mixin of ``SqlStore`` (issue #15).

A batch (``core.batches``) moves many transfers at once, so every method here is
ONE database transaction whatever the batch's size: recording a batch with its
members, moving all members from one state to the next (``move_many``: one
conditional UPDATE and one bulk insert of history lines), the notaries' batch
signatures and the batches a notary still owes. Leases work as for transfers
(``leases.lease_due``): one relayer drives a batch at a time. A batch's chain
actions are journaled in the one ``actions`` table with subject ``batch``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.orm import Session

from core.batches import MAX_BATCH_SIZE, BatchTooLarge, MixedBatch
from core.errors import InvalidInput, InvalidTransition, LeaseLost, NotFound
from core.ids import ChainId, Height, PacketId
from core.records import (
    TERMINAL_BATCH_STATES,
    ActionRecord,
    ActionStatus,
    BatchRecord,
    BatchState,
    OwedMember,
    SignatureRecord,
    TransferRecord,
)
from core.states import TransferState, validate_transition
from core.types import ChainAction
from gateway.audit import log as audit
from gateway.store import journal
from gateway.store.bulk import insert_rows
from gateway.store.convert import transfer_record
from gateway.store.journal import BATCH
from gateway.store.leases import any_due, check_claim, lease_due
from gateway.store.models import (
    Action,
    Batch,
    BatchMemberRow,
    BatchSignature,
    HistoryEntry,
    Transfer,
)

T = TypeVar("T")
_HISTORY = HistoryEntry.__table__
MAX_OWED_BATCHES = 16
"""Most batches one ``batches_owed`` answer holds (each up to ``MAX_BATCH_SIZE`` members)."""
_TERMINAL = sorted(s.value for s in TERMINAL_BATCH_STATES)
_MOVE_FIELDS = frozenset({"dest_tx"})


def batch_record(r: Batch | Row[Any], transfer_ids: Sequence[str]) -> BatchRecord:
    return BatchRecord(
        id=r.id,
        route_id=r.route_id,
        kind=int(r.kind),
        epoch=int(r.epoch),
        size=int(r.size),
        root=bytes(r.root),
        digest=bytes(r.digest),
        state=BatchState(r.state),
        transfer_ids=tuple(transfer_ids),
        created_at=r.created_at,
        updated_at=r.updated_at,
        lease_owner=r.lease_owner,
        lease_until=r.lease_until,
    )


def _members(s: Session, batch_ids: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {b: [] for b in batch_ids}
    if not batch_ids:
        return found
    rows = s.execute(
        select(BatchMemberRow.batch_id, BatchMemberRow.transfer_id)
        .where(BatchMemberRow.batch_id.in_(list(batch_ids)))
        .order_by(BatchMemberRow.batch_id, BatchMemberRow.idx)
    )
    for batch_id, transfer_id in rows:
        found[batch_id].append(transfer_id)
    return found


class BatchStoreMixin:
    """Batch methods of ``SqlStore`` (contracts in ``core.seams.Store``, "batches")."""

    if TYPE_CHECKING:
        dialect: str

        def _read(self) -> AbstractContextManager[Session]: ...
        def _write(self) -> AbstractContextManager[Session]: ...
        def _write_retrying(self, work: Callable[[Session], T]) -> T: ...

    # -- recording and reading batches -------------------------------------------

    def create_batch(
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
        """Record a batch, its members in leaf order and their hold, in one transaction.

        Every member must be a transfer of ``route_id`` (``MixedBatch`` names the first
        other) in no other batch of ``kind`` (``Conflict``); members are held
        (``next_attempt_at = hold_until``, lease freed) so no worker claims them while
        the batch drives them.
        """
        ids = list(transfer_ids)
        if not 1 <= len(ids) <= MAX_BATCH_SIZE:
            raise BatchTooLarge(f"a batch holds 1 .. {MAX_BATCH_SIZE} packets, not {len(ids)}")
        if len(set(ids)) != len(ids):
            raise InvalidInput("a transfer appears twice in one batch", field="transfer_ids")
        with self._write() as s:
            found = s.execute(select(Transfer.id, Transfer.route_id).where(Transfer.id.in_(ids)))
            routes = {transfer_id: route for transfer_id, route in found}
            for position, transfer_id in enumerate(ids):
                if transfer_id not in routes:
                    raise NotFound(f"transfer {transfer_id!r} not found", transfer_id=transfer_id)
                if routes[transfer_id] != route_id:
                    raise MixedBatch(
                        f"member {position} ({transfer_id}) is of route {routes[transfer_id]}, "
                        f"the batch of {route_id}",
                        position=position,
                    )
            row = Batch(
                id="ba_" + uuid.uuid4().hex,
                route_id=route_id,
                kind=int(kind),
                epoch=int(epoch),
                size=len(ids),
                root=bytes(root),
                digest=bytes(digest),
                state=BatchState.ASSEMBLED.value,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
                lease_owner=None,
                lease_until=None,
            )
            s.add(row)
            s.flush()
            s.execute(
                insert(BatchMemberRow),
                [
                    {"batch_id": row.id, "idx": i, "transfer_id": t, "kind": int(kind)}
                    for i, t in enumerate(ids)
                ],
            )
            s.execute(
                update(Transfer)
                .where(Transfer.id.in_(ids))
                .values(next_attempt_at=hold_until, lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )
            return batch_record(row, ids)

    def batch(self, batch_id: str) -> BatchRecord:
        """``NotFound`` when unknown."""
        with self._read() as s:
            row = s.get(Batch, batch_id)
            if row is None:
                raise NotFound(f"batch {batch_id!r} not found", batch_id=batch_id)
            return batch_record(row, _members(s, [batch_id])[batch_id])

    def batch_members(self, batch_id: str) -> list[TransferRecord]:
        """The member transfers in leaf order (one read)."""
        with self._read() as s:
            ids = _members(s, [batch_id])[batch_id]
            # Plain rows, not ORM objects: the batch task reads a batch's members on every
            # look at it, and building (and tracking) a mapped instance per member was a
            # fifth of the hub's CPU under load (issue #15).
            table = Transfer.__table__
            rows = {r.id: r for r in s.execute(select(table).where(table.c.id.in_(ids)))}
            return [transfer_record(rows[i]) for i in ids]

    def batched(self, transfer_ids: Sequence[str], kind: int) -> dict[str, str]:
        """``transfer id -> batch id`` of those of ``transfer_ids`` in a batch of ``kind``."""
        if not transfer_ids:
            return {}
        with self._read() as s:
            rows = s.execute(
                select(BatchMemberRow.transfer_id, BatchMemberRow.batch_id).where(
                    BatchMemberRow.transfer_id.in_(list(transfer_ids)),
                    BatchMemberRow.kind == int(kind),
                )
            )
            return {transfer_id: batch_id for transfer_id, batch_id in rows}

    # -- driving batches ---------------------------------------------------------

    def claim_batches(
        self, worker: str, now: float, lease_seconds: float, limit: int, *, route_id: str
    ) -> list[BatchRecord]:
        """Lease up to ``limit`` due, unfinished batches of ``route_id`` to ``worker``."""
        check_claim(worker, lease_seconds, limit)
        where = (Batch.route_id == route_id,)
        with self._read() as s:  # an idle route's poll takes no write lock (leases.any_due)
            if not any_due(s, Batch, _TERMINAL, now=now, where=where):
                return []
        with self._write() as s:
            rows = lease_due(
                s,
                Batch,
                _TERMINAL,
                dialect=self.dialect,
                worker=worker,
                now=now,
                lease_seconds=lease_seconds,
                limit=limit,
                where=where,
            )
            members = _members(s, [r.id for r in rows])
            return [batch_record(r, members[r.id]) for r in rows]

    def set_batch_state(
        self,
        batch_id: str,
        expected: BatchState,
        new: BatchState,
        now: float,
        *,
        worker: str | None = None,
        retry_at: float | None = None,
    ) -> None:
        """Compare-and-set a batch's state (and when it is due next); ``InvalidTransition``
        when it is not ``expected``, ``LeaseLost`` when ``worker`` no longer holds it."""
        cond = [Batch.id == batch_id, Batch.state == BatchState(expected).value]
        if worker is not None:
            cond += [Batch.lease_owner == worker, Batch.lease_until > now]
        values: dict[str, Any] = {"state": BatchState(new).value, "updated_at": now}
        values["next_attempt_at"] = now if retry_at is None else retry_at
        with self._write() as s:
            result = s.execute(
                update(Batch)
                .where(*cond)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                row = s.get(Batch, batch_id)
                if row is None:
                    raise NotFound(f"batch {batch_id!r} not found", batch_id=batch_id)
                if row.state != BatchState(expected).value:
                    raise InvalidTransition(
                        f"batch {batch_id} is {row.state}, not {expected}",
                        current=row.state,
                        requested=str(new),
                    )
                raise LeaseLost(f"batch {batch_id} is leased by another worker")

    def release_batch(self, batch_id: str, worker: str, *, retry_at: float) -> None:
        """Free ``worker``'s lease and make the batch due again at ``retry_at``."""
        with self._write() as s:
            s.execute(
                update(Batch)
                .where(Batch.id == batch_id, Batch.lease_owner == worker)
                .values(lease_owner=None, lease_until=None, next_attempt_at=retry_at)
                .execution_options(synchronize_session=False)
            )

    def move_many(
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
        """Move every transfer of ``transfer_ids`` still in ``expected`` to ``new`` in ONE
        transaction (one history line each); the number moved. Members already past
        ``expected`` (moved before a crash, or by their own step) are left alone.
        ``hold_until``: when they are due next (default: at once). ``keep_lease``: the
        worker that goes on stepping them in the same pass keeps its lease on them (a
        freed, due transfer was leased by a second pass that then batched it too)."""
        validate_transition(TransferState(expected), TransferState(new))
        unknown = set(fields) - _MOVE_FIELDS
        if unknown:
            raise InvalidInput(f"move_many cannot set {sorted(unknown)}", field="fields")
        ids = list(dict.fromkeys(transfer_ids))
        if not ids:
            return 0
        values: dict[str, Any] = {
            "state": TransferState(new).value,
            "reason": reason,
            "updated_at": now,
            "next_attempt_at": now if hold_until is None else hold_until,
            "attempts": 0,
        }
        if keep_lease is None:
            values.update(lease_owner=None, lease_until=None)
        dest_tx = fields.get("dest_tx")
        if dest_tx is not None:
            values["dest_tx"] = bytes(dest_tx)  # type: ignore[arg-type]
        with self._write() as s:
            moved = list(
                s.scalars(
                    select(Transfer.id).where(
                        Transfer.id.in_(ids), Transfer.state == TransferState(expected).value
                    )
                )
            )
            if not moved:
                return 0
            s.execute(
                update(Transfer)
                .where(Transfer.id.in_(moved), Transfer.state == TransferState(expected).value)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            chain = None
            if dest_tx is not None:
                chain = s.scalar(select(Transfer.dest_chain).where(Transfer.id == moved[0]))
            state = TransferState(new).value
            tx_hash = None if dest_tx is None else bytes(dest_tx)  # type: ignore[arg-type]
            insert_rows(
                s,
                _HISTORY,
                [
                    {
                        "subject": "transfer",
                        "subject_id": t,
                        "at": now,
                        "state": state,
                        "reason": reason,
                        "leg": None,
                        "tx_hash": tx_hash,
                        "chain_id": chain,
                    }
                    for t in moved
                ],
            )
            # The audit log sees each member's move, as a single move; one ``before`` and
            # one ``after`` shared by every member's entry (never changed once staged).
            before = {"state": TransferState(expected).value}
            after: dict[str, object] = {"state": state}
            if tx_hash is not None:
                after["tx_hash"] = "0x" + tx_hash.hex()
            audit.stage_many(
                s,
                now,
                (("transfer.transition", "transfer", t, before, after, reason) for t in moved),
            )
            return len(moved)

    def note_many(
        self,
        transfer_ids: Sequence[str],
        state: TransferState,
        reason: str,
        now: float,
        *,
        hold_until: float,
    ) -> int:
        """Say why the transfers of ``transfer_ids`` still in ``state`` wait (their batch
        does), in ONE transaction; a history line only where the reason changed. Returns
        how many were noted."""
        ids = list(dict.fromkeys(transfer_ids))
        if not ids:
            return 0
        with self._write() as s:
            changed = list(
                s.scalars(
                    select(Transfer.id).where(
                        Transfer.id.in_(ids),
                        Transfer.state == TransferState(state).value,
                        Transfer.reason != reason,
                    )
                )
            )
            s.execute(
                update(Transfer)
                .where(Transfer.id.in_(ids), Transfer.state == TransferState(state).value)
                .values(
                    reason=reason,
                    updated_at=now,
                    next_attempt_at=hold_until,
                    lease_owner=None,
                    lease_until=None,
                )
                .execution_options(synchronize_session=False)
            )
            if changed:
                s.execute(
                    insert(HistoryEntry),
                    [
                        {
                            "subject": "transfer",
                            "subject_id": t,
                            "at": now,
                            "state": TransferState(state).value,
                            "reason": reason,
                            "leg": None,
                            "tx_hash": None,
                            "chain_id": None,
                        }
                        for t in changed
                    ],
                )
                for t in changed:
                    audit.stage(
                        s,
                        "transfer.note",
                        "transfer",
                        t,
                        now,
                        before={"state": TransferState(state).value},
                        after={"state": TransferState(state).value},
                        reason=reason,
                    )
            return len(changed)

    # -- the journal of a batch --------------------------------------------------

    def record_batch_action(
        self,
        batch_id: str,
        step: str,
        chain_id: ChainId,
        action: ChainAction,
        now: float,
        *,
        search_floor: Height | None = None,
    ) -> ActionRecord:
        """Journal a batch's chain action before it is sent (idempotent on the step)."""

        def work(s: Session) -> ActionRecord:
            return journal.record_action(
                s, BATCH, batch_id, step, chain_id, action, now, search_floor=search_floor
            )

        return self._write_retrying(work)

    def record_done_actions(
        self,
        entries: Sequence[tuple[str, str, ChainId, ChainAction, bytes, Height]],
        now: float,
    ) -> int:
        """Journal many transfers' actions that need no sending, already ``succeeded``
        (``(transfer id, step, chain, action, tx hash, height)``: the acknowledgements of a
        batch's delivered members), in ONE transaction; a step already journaled is kept.
        Returns how many were written."""
        if not entries:
            return 0
        ids = list({e[0] for e in entries})
        steps = list({e[1] for e in entries})
        with self._write() as s:
            known = set(
                s.execute(
                    select(Action.subject_id, Action.step).where(
                        Action.subject == "transfer",
                        Action.subject_id.in_(ids),
                        Action.step.in_(steps),
                    )
                ).all()
            )
            rows = [
                {
                    "subject": "transfer",
                    "subject_id": transfer_id,
                    "step": step,
                    "chain_id": str(chain_id),
                    "kind": action.kind,
                    "payload": dict(action.payload),
                    "idempotency_key": action.idempotency_key,
                    "status": ActionStatus.SUCCEEDED.value,
                    "tx_hash": bytes(tx_hash),
                    "height": int(height),
                    "reason": "",
                    "recorded_at": now,
                    "search_floor": None,
                }
                for transfer_id, step, chain_id, action, tx_hash, height in entries
                if (transfer_id, step) not in known
            ]
            if rows:
                s.execute(insert(Action), rows)
            return len(rows)

    def batch_actions(self, batch_id: str) -> dict[str, ActionRecord]:
        """Every journaled action of the batch, by step."""
        with self._read() as s:
            return {a.step: a for a in journal.actions_of(s, BATCH, batch_id)}

    def mark_batch_action(
        self,
        action_id: int,
        status: ActionStatus,
        *,
        tx_hash: bytes | None = None,
        height: Height | None = None,
        reason: str = "",
    ) -> None:
        with self._write() as s:
            journal.mark_action(
                s, BATCH, action_id, status, tx_hash=tx_hash, height=height, reason=reason
            )

    # -- notaries ----------------------------------------------------------------

    def add_batch_signature(self, record: SignatureRecord) -> bool:
        """Store a notary's signature over batch ``record.transfer_id``'s digest; False when
        that notary's signature of the batch is already stored (counted once). The caller
        checked the digest and the signer (``gateway/routers/notary.py``)."""

        def work(s: Session) -> bool:
            batch_id = record.transfer_id
            if s.get(Batch, batch_id) is None:
                raise NotFound(f"batch {batch_id!r} not found", batch_id=batch_id)
            known = s.scalar(
                select(BatchSignature.id).where(
                    BatchSignature.batch_id == batch_id, BatchSignature.notary == record.notary
                )
            )
            if known is not None:
                return False
            s.add(
                BatchSignature(
                    batch_id=batch_id,
                    notary=record.notary,
                    digest=bytes(record.digest),
                    signature=bytes(record.signature),
                    at=record.at,
                )
            )
            s.flush()
            return True

        return self._write_retrying(work)

    def batch_signatures(self, batch_id: str) -> list[SignatureRecord]:
        """The stored signatures of a batch (``transfer_id`` holds the batch id)."""
        with self._read() as s:
            rows = s.scalars(
                select(BatchSignature)
                .where(BatchSignature.batch_id == batch_id)
                .order_by(BatchSignature.id)
            )
            return [
                SignatureRecord(r.batch_id, r.notary, r.digest, r.signature, r.at, "batch")
                for r in rows
            ]

    def batches_owed(self, notary: str, limit: int) -> list[tuple[BatchRecord, list[OwedMember]]]:
        """Up to ``limit`` (at most ``MAX_OWED_BATCHES``) assembled batches ``notary`` has not
        signed, oldest first, each with its members in leaf order: two reads in all.

        The members are read in ONE query, and only the columns a work item needs (Core
        rows, no ORM transfer: the notaries poll this under load, issue #15)."""
        limit = max(1, min(int(limit), MAX_OWED_BATCHES))
        with self._read() as s:
            signed = (
                select(BatchSignature.id)
                .where(
                    BatchSignature.batch_id == Batch.id,
                    func.lower(BatchSignature.notary) == notary.lower(),
                )
                .exists()
            )
            rows = list(
                s.scalars(
                    select(Batch)
                    .where(Batch.state == BatchState.ASSEMBLED.value, ~signed)
                    .order_by(Batch.created_at, Batch.id)
                    .limit(limit)
                )
            )
            members: dict[str, list[OwedMember]] = {r.id: [] for r in rows}
            if rows:
                found = s.execute(
                    select(
                        BatchMemberRow.batch_id,
                        Transfer.id,
                        Transfer.route_id,
                        Transfer.packet_source,
                        Transfer.packet_destination,
                        Transfer.packet_sequence,
                        Transfer.source_tx,
                        Transfer.source_height,
                        Transfer.source_position,
                    )
                    .join(Transfer, Transfer.id == BatchMemberRow.transfer_id)
                    .where(BatchMemberRow.batch_id.in_(list(members)))
                    .order_by(BatchMemberRow.batch_id, BatchMemberRow.idx)
                )
                for batch_id, *member in found:
                    members[batch_id].append(_owed_member(*member))
            return [(batch_record(r, [m.id for m in members[r.id]]), members[r.id]) for r in rows]


def _owed_member(
    transfer_id: str,
    route_id: str,
    packet_source: str | None,
    packet_destination: str | None,
    packet_sequence: int | None,
    source_tx: bytes | None,
    source_height: int | None,
    source_position: Any,
) -> OwedMember:
    packet = None
    if packet_source is not None and packet_destination is not None:  # as ``transfer_record``
        packet = PacketId(
            ChainId(packet_source), ChainId(packet_destination), int(packet_sequence or 0)
        )
    return OwedMember(
        id=transfer_id,
        route_id=route_id,
        packet=packet,
        source_tx=None if source_tx is None else bytes(source_tx),
        source_height=None if source_height is None else Height(source_height),
        source_position=None if source_position is None else tuple(source_position),
    )


__all__ = ["MAX_OWED_BATCHES", "BatchStoreMixin", "batch_record"]
